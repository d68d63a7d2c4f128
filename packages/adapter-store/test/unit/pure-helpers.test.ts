import { describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../src/index.js';
import { diffManifests, parseRowRange } from '../../src/ops/diff.js';
import { manifestHash } from '../../src/ops/manifest.js';
import { checkJson, checkName } from '../../src/validation.js';

const entry = (name: string, hash: string): ManifestEntry => ({
  name,
  hash,
  dtype: 'float32',
  shape: [1],
  byteLength: 4,
});

describe('pure helpers', () => {
  it('parses row-range block names', () => {
    expect(parseRowRange('peer0.experts.u.rows.000064-000128')).toEqual({
      table: 'peer0.experts.u',
      start: 64,
      end: 128,
    });
    expect(parseRowRange('peer0.query.weight')).toBeUndefined();
    expect(parseRowRange('t.rows.000010-000005')).toBeUndefined();
  });

  it('diffs row ranges even when block boundaries differ between versions', () => {
    const a = [entry('t.rows.000000-000064', 'a'), entry('t.rows.000064-000128', 'b')];
    const b = [
      entry('t.rows.000000-000064', 'a'),
      entry('t.rows.000064-000096', 'c'),
      entry('t.rows.000096-000128', 'd'),
    ];
    const d = diffManifests('x', 'y', a, b);
    expect(d.rows).toEqual([{ table: 't', ranges: [[64, 128]] }]);
    expect([d.added.length, d.removed.length, d.changed.length, d.unchanged]).toEqual([2, 1, 0, 1]);
  });

  it('hashes manifests independently of entry order', () => {
    const a = [entry('a', '1'), entry('b', '2')];
    expect(manifestHash(a)).toBe(manifestHash([...a].reverse()));
    expect(manifestHash(a)).not.toBe(manifestHash([entry('a', '1'), entry('b', '3')]));
  });

  it('validates names and JSON with field, bound and value in the error', () => {
    expect(() => checkName('pglite', 'name', "a'b")).toThrow(
      /@peer\/adapter-store \(pglite\): 'name' must be/,
    );
    expect(() => checkJson('postgres', 'config', { a: [1, { b: Number.NaN }] })).toThrow(
      /non-finite number NaN/,
    );
    expect(checkJson('postgres', 'config', { a: [1, 'é'] })).toBe('{"a":[1,"é"]}');
  });
});
