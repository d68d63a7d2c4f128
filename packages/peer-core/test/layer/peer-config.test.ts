import { describe, expect, it } from 'vitest';
import { parsePeerConfig } from '../../src/config/peer-config.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';

const ok = { dModel: 16, subKeyRows: 8, subKeyCols: 8, topK: 4, dKey: 8, heads: 2 };

describe('parsePeerConfig', () => {
  it('fills the paper defaults', () => {
    const c = parsePeerConfig({ dModel: 256, subKeyRows: 1024, subKeyCols: 1024 });
    expect(c).toMatchObject({ heads: 8, topK: 16, dKey: 128, sharedKeys: true, queryBatchNorm: true });
    expect(c.capacityRows).toBe(1024);
  });

  it.each([
    [{ ...ok, topK: 9 }, 'topK', /<= subKeyRows \(8\)/, 9],
    [{ ...ok, subKeyCols: 3 }, 'topK', /<= subKeyCols \(3\)/, 4],
    [{ ...ok, dKey: 7 }, 'dKey', /even/, 7],
    [{ ...ok, capacityRows: 4 }, 'capacityRows', />= subKeyRows \(8\)/, 4],
    [{ ...ok, heads: 2.5 }, 'heads', /integer/, 2.5],
    [{ ...ok, dModel: 0 }, 'dModel', />= 1|> 0/, 0],
    [{ ...ok, activation: 'tanh' }, 'activation', /one of "gelu", "relu"/, 'tanh'],
    [{ ...ok, subKeyRows: '8' }, 'subKeyRows', /number/, '8'],
    [{ ...ok, bogus: 1 }, '(config)', /unknown: bogus/, undefined],
  ])('rejects %o naming field, bound and value', (input, field, bound, value) => {
    let error: unknown;
    try {
      parsePeerConfig(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PeerConfigError);
    const e = error as PeerConfigError;
    expect(e.field).toBe(field);
    expect(e.message).toMatch(bound);
    if (value !== undefined) expect(e.value).toEqual(value);
  });
});
