import { FreezeAndGrowPlugin } from '@peer/core';
import { describe, expect, it } from 'vitest';
import type { Strategy } from '../models/strategy.js';
import { strategyPlugins } from './strategy-plugins.js';

function newKeysFixed(
  plugins: Strategy['plugins'],
  scenario: 'task' | 'domain' | 'class',
  settings: Strategy['settings'] = {},
) {
  const built = strategyPlugins({ plugins, settings } as Strategy, { rows: 2, seed: 0, scenario });
  const grow = built.find((p): p is FreezeAndGrowPlugin => p instanceof FreezeAndGrowPlugin);
  return grow?.options.freezeNewKeys;
}

describe('strategyPlugins: freeze-and-grow new sub-keys', () => {
  it('fixes them by default, except with replay into one shared head (domain, class), where they train', () => {
    expect(newKeysFixed(['freeze-and-grow'], 'task')).toBe(true);
    expect(newKeysFixed(['freeze-and-grow'], 'class')).toBe(true);
    expect(newKeysFixed(['freeze-and-grow', 'replay'], 'task')).toBe(true);
    expect(newKeysFixed(['freeze-and-grow', 'replay'], 'class')).toBe(false);
    expect(newKeysFixed(['freeze-and-grow', 'replay'], 'domain')).toBe(false);
  });

  it("the strategy's own setting wins", () => {
    expect(
      newKeysFixed(['freeze-and-grow', 'replay'], 'class', { 'freeze-and-grow': { freezeNewKeys: true } }),
    ).toBe(true);
    expect(newKeysFixed(['freeze-and-grow'], 'task', { 'freeze-and-grow': { freezeNewKeys: false } })).toBe(
      false,
    );
  });
});
