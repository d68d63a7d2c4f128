import { PeerFormatError } from './format-error.js';
import { topLevelKeys } from './json-keys.js';
import {
  dtypeSize,
  isSafetensorsDType,
  SAFETENSORS_DTYPES,
  type SafetensorsDType,
} from './safetensors-dtype.js';

/** One tensor of a safetensors file: raw little-endian row-major bytes. */
export interface SafetensorsTensor {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** A parsed safetensors file. */
export interface SafetensorsFile {
  /** Tensors in name order. */
  readonly tensors: readonly SafetensorsTensor[];
  /** The free-form string-to-string `__metadata__` map (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** The format's limit on the JSON header, against parsing huge headers (huggingface/safetensors `MAX_HEADER_SIZE`). */
export const MAX_HEADER_BYTES = 100_000_000;

const fail = (reason: string, message: string): never => {
  throw new PeerFormatError('safetensors', reason, message);
};

/**
 * Parses a safetensors file (huggingface/safetensors README "Format"): 8-byte little-endian header length N,
 * N bytes of UTF-8 JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}`, then the
 * byte buffer, offsets relative to its start. Like the reference reader it requires the tensors to tile the
 * buffer exactly (sorted by offset, each starting where the previous ended, the last ending at the end of the
 * file), which rules out overlaps, holes and out-of-range offsets. Every violation is a {@link PeerFormatError}.
 */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.byteLength < 8)
    fail('header_too_small', `file of ${bytes.byteLength} bytes has no 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES))
    fail('header_too_large', `header of ${n64} bytes exceeds ${MAX_HEADER_BYTES}`);
  const n = Number(n64);
  if (8 + n > bytes.byteLength)
    fail('invalid_header_length', `header of ${n} bytes runs past the file (${bytes.byteLength} bytes)`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch (cause) {
    throw new PeerFormatError('safetensors', 'invalid_header', 'header is not valid UTF-8', { cause });
  }
  if (!text.startsWith('{'))
    fail('invalid_header_start', `header must start with '{', not ${JSON.stringify(text.slice(0, 1))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (cause) {
    throw new PeerFormatError('safetensors', 'invalid_header_json', 'header is not valid JSON', { cause });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail('invalid_header_json', 'header is not a JSON object');
  const keys = topLevelKeys(text);
  const duplicate = keys.find((k, i) => keys.indexOf(k) !== i);
  if (duplicate !== undefined)
    fail('duplicate_name', `name ${JSON.stringify(duplicate)} appears twice in the header`);
  const entries = Object.entries(header as Record<string, unknown>);
  const metadata = readMetadata(entries.find(([k]) => k === '__metadata__')?.[1]);
  const buffer = bytes.subarray(8 + n);
  const infos = entries.filter(([k]) => k !== '__metadata__').map(([name, info]) => readInfo(name, info));
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let position = 0;
  for (const t of infos) {
    if (t.end > buffer.byteLength)
      fail(
        'offset_out_of_range',
        `tensor ${JSON.stringify(t.name)} ends at ${t.end}, past the buffer (${buffer.byteLength} bytes)`,
      );
    if (t.begin !== position) {
      fail(
        'invalid_offset',
        `tensor ${JSON.stringify(t.name)} starts at ${t.begin}, expected ${position} (overlap or gap)`,
      );
    }
    const expected = t.shape.reduce((a, b) => a * b, 1) * dtypeSize(t.dtype);
    if (t.end - t.begin !== expected) {
      fail(
        'tensor_invalid_info',
        `tensor ${JSON.stringify(t.name)}: ${t.dtype} [${t.shape}] needs ${expected} bytes, offsets give ${t.end - t.begin}`,
      );
    }
    position = t.end;
  }
  if (position !== buffer.byteLength)
    fail('incomplete_buffer', `tensors cover ${position} of the buffer's ${buffer.byteLength} bytes`);
  const tensors = infos
    .map(({ name, dtype, shape, begin, end }) => ({ name, dtype, shape, data: buffer.slice(begin, end) }))
    .sort((a, b) => compareNames(a.name, b.name));
  return { tensors, metadata };
}

interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

function readInfo(name: string, info: unknown): TensorInfo {
  const at = `tensor ${JSON.stringify(name)}`;
  if (typeof info !== 'object' || info === null) return fail('invalid_tensor_info', `${at} is not an object`);
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (!isSafetensorsDType(dtype))
    return fail(
      'invalid_dtype',
      `${at} has dtype ${JSON.stringify(dtype)}, not one of ${SAFETENSORS_DTYPES.join(', ')}`,
    );
  const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount))
    return fail('invalid_shape', `${at} has shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    return fail('invalid_offset', `${at} has data_offsets ${JSON.stringify(offsets)}, expected [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin)
    return fail('invalid_offset', `${at} has data_offsets [${begin}, ${end}] with end < begin`);
  return { name, dtype, shape: shape as number[], begin, end };
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    return fail('invalid_metadata', '__metadata__ is not an object');
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail('invalid_metadata', `__metadata__.${k} is not a string`);
  }
  return { ...(value as Record<string, string>) };
}

/** Byte-wise (UTF-8) order of names, as the reference writer sorts them. */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Writes a safetensors file the way the reference serializer does (huggingface/safetensors `prepare`): tensors
 * sorted by descending dtype alignment then by name, laid out back to back, `__metadata__` first (its keys
 * sorted here, for determinism), header JSON compact and padded with spaces to a multiple of 8 bytes so the
 * buffer is aligned. Same input, same bytes.
 */
export function writeSafetensors(
  tensors: readonly SafetensorsTensor[],
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) fail('duplicate_name', `name ${JSON.stringify(t.name)} given twice`);
    if (t.name === '__metadata__') fail('invalid_tensor_info', "'__metadata__' is reserved");
    names.add(t.name);
    const expected = t.shape.reduce((a, b) => a * b, 1) * dtypeSize(t.dtype);
    if (t.data.byteLength !== expected) {
      fail(
        'tensor_invalid_info',
        `tensor ${JSON.stringify(t.name)}: ${t.dtype} [${t.shape}] needs ${expected} bytes, got ${t.data.byteLength}`,
      );
    }
  }
  const rank = (d: SafetensorsDType) => SAFETENSORS_DTYPES.indexOf(d);
  const ordered = [...tensors].sort((a, b) => rank(b.dtype) - rank(a.dtype) || compareNames(a.name, b.name));
  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort(compareNames);
  if (metaKeys.length > 0) {
    parts.push(
      `"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`,
    );
  }
  let offset = 0;
  for (const t of ordered) {
    const end = offset + t.data.byteLength;
    parts.push(
      `${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + padded);
  let position = 8 + padded;
  for (const t of ordered) {
    out.set(t.data, position);
    position += t.data.byteLength;
  }
  return out;
}
