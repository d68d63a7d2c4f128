import { describe, expect, it } from 'vitest';
import { PeerFormatError } from '../../src/adapters/format-error.js';
import { readSafetensors, writeSafetensors } from '../../src/adapters/safetensors.js';
import { halfToFloat, toFloat32 } from '../../src/adapters/safetensors-dtype.js';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const u64 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24, 0, 0, 0, 0];
const f32 = (...values: number[]) => Array.from(new Uint8Array(Float32Array.from(values).buffer));

/** A file from a header text and buffer bytes, the header padded with spaces to 8 bytes as the spec's writer does. */
function file(header: string, buffer: number[], pad = true): Uint8Array {
  const text = pad ? header.padEnd(Math.ceil(header.length / 8) * 8, ' ') : header;
  return Uint8Array.from([...u64(text.length), ...ascii(text), ...buffer]);
}

function reasonOf(bytes: Uint8Array): string {
  try {
    readSafetensors(bytes);
  } catch (error) {
    if (error instanceof PeerFormatError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('safetensors writer', () => {
  it('matches the reference serializer byte for byte (huggingface/safetensors tensor.rs test_serialization)', () => {
    const out = writeSafetensors([
      { name: 'attn.0', dtype: 'F32', shape: [1, 2, 3], data: Uint8Array.from(f32(0, 1, 2, 3, 4, 5)) },
    ]);
    // The reference's expected bytes, written out: header length 64, the JSON header, then six float32s.
    const expected = [
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101,
      34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34,
      100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0,
      0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ];
    expect(Array.from(out)).toEqual(expected);
  });

  it('pads the header with spaces to 8-byte alignment (reference test_empty, with and without metadata)', () => {
    expect(Array.from(writeSafetensors([]))).toEqual([
      8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32,
    ]);
    expect(Array.from(writeSafetensors([], { framework: 'pt' }))).toEqual([
      40,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...ascii('{"__metadata__":{"framework":"pt"}}'),
      32,
      32,
      32,
      32,
      32,
    ]);
  });

  it('round-trips byte-exactly, sorting by dtype alignment then name', () => {
    const tensors = [
      { name: 'b', dtype: 'F32' as const, shape: [2], data: Uint8Array.from(f32(1.5, -2)) },
      { name: 'a', dtype: 'F16' as const, shape: [1], data: Uint8Array.from([0x00, 0x3c]) },
      { name: 'c', dtype: 'I32' as const, shape: [1, 1], data: Uint8Array.from([7, 0, 0, 0]) },
      { name: 'a2', dtype: 'F32' as const, shape: [0], data: new Uint8Array(0) },
    ];
    const bytes = writeSafetensors(tensors, { z: '1', a: 'x' });
    const parsed = readSafetensors(bytes);
    expect(parsed.tensors.map((t) => t.name)).toEqual(['a', 'a2', 'b', 'c']);
    expect(parsed.metadata).toEqual({ a: 'x', z: '1' });
    expect(Buffer.from(writeSafetensors(parsed.tensors, parsed.metadata)).equals(Buffer.from(bytes))).toBe(
      true,
    );
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
      string,
      { data_offsets: number[] }
    >;
    // F32 before I32 before F16 (descending alignment rank of the reference's Dtype enum), names ascending.
    expect(['a2', 'b', 'c', 'a'].map((k) => header[k]?.data_offsets)).toEqual([
      [0, 0],
      [0, 8],
      [8, 12],
      [12, 14],
    ]);
  });
});

describe('safetensors reader', () => {
  it('reads a fixture written by hand from the spec, widening F16 and BF16 to float32', () => {
    // Buffer: "h" F16 [2] = 1.0, -2.5 at [0, 4); "w" BF16 [2] = 1.0, 0.15625 at [4, 8); "x" F32 [1] = 3.25 at [8, 12).
    const header =
      '{"__metadata__":{"format":"pt"},"x":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
      '"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"w":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}';
    const buffer = [0x00, 0x3c, 0x00, 0xc1, 0x80, 0x3f, 0x20, 0x3e, ...f32(3.25)];
    const parsed = readSafetensors(file(header, buffer));
    expect(parsed.metadata).toEqual({ format: 'pt' });
    const byName = new Map(parsed.tensors.map((t) => [t.name, t]));
    const h = byName.get('h');
    const w = byName.get('w');
    const x = byName.get('x');
    if (!h || !w || !x) throw new Error('missing tensors');
    expect(Array.from(toFloat32(h.dtype, h.data))).toEqual([1, -2.5]);
    expect(Array.from(toFloat32(w.dtype, w.data))).toEqual([1, 0.15625]);
    expect(Array.from(toFloat32(x.dtype, x.data))).toEqual([3.25]);
    expect(x.shape).toEqual([1]);
  });

  it('decodes binary16 edge cases', () => {
    expect(halfToFloat(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(halfToFloat(0x7bff)).toBe(65504); // largest normal
    expect(halfToFloat(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
  });

  it('rejects malformed files with typed errors naming the rule', () => {
    const t = (offsets: string, shape = '[1]', dtype = 'F32') =>
      `"t":{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}`;
    const u = (offsets: string) => `"u":{"dtype":"F32","shape":[1],"data_offsets":${offsets}}`;
    const cases: [string, Uint8Array][] = [
      ['header_too_small', Uint8Array.from([1, 2, 3])],
      ['header_too_large', Uint8Array.from([...u64(100_000_001), ...ascii('{}')])],
      ['invalid_header_length', Uint8Array.from([...u64(64), ...ascii('{}      ')])],
      ['invalid_header', Uint8Array.from([...u64(8), 0x7b, 0xff, 0xfe, 0x7d, 32, 32, 32, 32])],
      ['invalid_header_start', file(' {}', [])],
      ['invalid_header_json', file('{"t":', [])],
      ['duplicate_name', file(`{${t('[0,4]')},${t('[4,8]')}}`, f32(1, 2))],
      ['invalid_offset', file(`{${t('[0,4]')},${u('[2,6]')}}`, [...f32(1), 0, 0])], // overlap
      ['invalid_offset', file(`{${t('[4,8]')}}`, f32(1, 2))], // gap before the first tensor
      ['invalid_offset', file(`{${t('[4,0]')}}`, f32(1))], // end < begin
      ['offset_out_of_range', file(`{${t('[0,8]', '[2]')}}`, f32(1))],
      ['tensor_invalid_info', file(`{${t('[0,8]')}}`, f32(1, 2))],
      ['incomplete_buffer', file(`{${t('[0,4]')}}`, f32(1, 2))], // trailing bytes no tensor covers
      ['invalid_dtype', file(`{${t('[0,4]', '[1]', 'F12')}}`, f32(1))],
      ['invalid_shape', file(`{${t('[0,4]', '[-1]')}}`, f32(1))],
      ['invalid_metadata', file(`{"__metadata__":{"a":1},${t('[0,4]')}}`, f32(1))],
    ];
    for (const [reason, bytes] of cases) expect(reasonOf(bytes), reason).toBe(reason);
    expect(() => readSafetensors(Uint8Array.from([1]))).toThrow(/@peer\/core: safetensors: /);
  });

  it('rejects writing duplicate names or data that does not fit the shape', () => {
    const one = { name: 'a', dtype: 'F32' as const, shape: [1], data: Uint8Array.from(f32(1)) };
    expect(() => writeSafetensors([one, one])).toThrow(PeerFormatError);
    expect(() => writeSafetensors([{ ...one, shape: [2] }])).toThrow(/needs 8 bytes, got 4/);
  });
});
