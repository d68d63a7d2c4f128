import { describe, expect, it } from 'vitest';
import {
  CopyBinaryDecoder,
  copyHeader,
  copyTrailer,
  copyTuple,
  int8Field,
  textField,
} from '../../src/codec/pg-copy-binary.js';

function encode(rows: Array<Array<Uint8Array | null>>): Uint8Array {
  return Buffer.concat([copyHeader(), ...rows.flatMap((r) => copyTuple(r)), copyTrailer()]);
}

describe('binary COPY codec', () => {
  const rows = [
    [textField('a'.repeat(64)), int8Field(3), new Uint8Array([1, 2, 3])],
    [textField('é中'), int8Field(0), new Uint8Array(0)],
    [textField('x'), null, new Uint8Array(70_000).fill(7)],
  ];
  const bytes = encode(rows);

  it('round-trips tuples whatever the chunking of the stream', () => {
    for (const size of [1, 2, 3, 7, 64, 4096, bytes.length]) {
      const decoder = new CopyBinaryDecoder();
      const out: Array<Array<Uint8Array | null>> = [];
      for (let i = 0; i < bytes.length; i += size) out.push(...decoder.push(bytes.subarray(i, i + size)));
      expect(decoder.done).toBe(true);
      expect(out.map((r) => r.map((f) => (f ? Buffer.from(f).toString('hex') : null)))).toEqual(
        rows.map((r) => r.map((f) => (f ? Buffer.from(f).toString('hex') : null))),
      );
    }
  });

  it('writes int8 big-endian and rejects a bad signature', () => {
    expect(Buffer.from(int8Field(258)).toString('hex')).toBe('0000000000000102');
    const bad = Buffer.from(bytes);
    bad[0] = 0;
    expect(() => new CopyBinaryDecoder().push(bad)).toThrow(/signature/);
  });

  it('reports truncation by not being done', () => {
    const decoder = new CopyBinaryDecoder();
    decoder.push(bytes.subarray(0, bytes.length - 10));
    expect(decoder.done).toBe(false);
  });
});
