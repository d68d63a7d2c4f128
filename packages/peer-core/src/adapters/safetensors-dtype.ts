import { PeerConfigError } from '../errors/peer-error.js';

/** Element types of the safetensors format, in its order of increasing alignment (huggingface/safetensors `Dtype`). */
export const SAFETENSORS_DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
] as const;

export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

/** Bytes per element of each dtype. */
export function dtypeSize(dtype: SafetensorsDType): number {
  if (dtype.endsWith('64')) return 8;
  if (dtype.endsWith('32')) return 4;
  if (dtype.endsWith('16')) return 2;
  return 1;
}

export function isSafetensorsDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && (SAFETENSORS_DTYPES as readonly string[]).includes(value);
}

/** IEEE 754 binary16 bits to a number (subnormals, infinities and NaN included). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * Little-endian F32, F16, BF16, F64 or I32 bytes as float32 values. bfloat16 is the upper half of a float32,
 * so it widens exactly; F64 and I32 round to the nearest float32.
 */
export function toFloat32(dtype: SafetensorsDType, bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / dtypeSize(dtype);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'F32':
        out[i] = view.getFloat32(4 * i, true);
        break;
      case 'F16':
        out[i] = halfToFloat(view.getUint16(2 * i, true));
        break;
      case 'BF16':
        out[i] = bf16ToFloat(view.getUint16(2 * i, true));
        break;
      case 'F64':
        out[i] = view.getFloat64(8 * i, true);
        break;
      case 'I32':
        out[i] = view.getInt32(4 * i, true);
        break;
      default:
        throw new PeerConfigError('dtype', 'one of F32, F16, BF16, F64, I32', dtype);
    }
  }
  return out;
}

const scratch = new DataView(new ArrayBuffer(4));

function bf16ToFloat(bits: number): number {
  scratch.setUint32(0, bits << 16, true);
  return scratch.getFloat32(0, true);
}
