import { describe, expect, it } from 'vitest';
import { CliError } from '../cli-error.js';
import { parseAdapters, parseInputs } from './predict.js';

describe('peer predict arguments', () => {
  it('reads one vector or several', async () => {
    expect(await parseInputs('[1, 2.5, -3]')).toEqual([[1, 2.5, -3]]);
    expect(await parseInputs('[[1, 2], [3, 4]]')).toEqual([
      [1, 2],
      [3, 4],
    ]);
    await expect(parseInputs('[1, 2')).rejects.toBeInstanceOf(CliError);
    await expect(parseInputs('[]')).rejects.toThrow(/non-empty/);
  });

  it('reads --adapters as none, auto or name[@version][:weight] lists', () => {
    expect(parseAdapters('auto')).toBe('auto');
    expect(parseAdapters('none')).toBe('none');
    expect(parseAdapters('fix-a')).toEqual([{ name: 'fix-a', weight: 1 }]);
    expect(parseAdapters('fix-a@2:0.5, legal@0b9f5c1e-3c7a-4e43-9d6e-2b1c0f4a7d11')).toEqual([
      { name: 'fix-a', version: 2, weight: 0.5 },
      { name: 'legal', version: '0b9f5c1e-3c7a-4e43-9d6e-2b1c0f4a7d11', weight: 1 },
    ]);
    expect(() => parseAdapters('bad name')).toThrow(CliError);
    expect(() => parseAdapters('a:heavy')).toThrow(CliError);
  });
});
