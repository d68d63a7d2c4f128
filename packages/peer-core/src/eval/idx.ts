import { PeerFormatError } from '../adapters/format-error.js';

/** An IDX array of unsigned bytes (the MNIST file format). */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/**
 * Parses an IDX file of unsigned bytes (LeCun et al., "THE MNIST DATABASE", file formats): magic
 * 0x00 0x00 0x08 <dims>, then each dimension as a big-endian uint32, then the values row-major. MNIST
 * images are [n, 28, 28], labels [n]. A wrong magic, type or length is a {@link PeerFormatError}.
 */
export function parseIdx(bytes: Uint8Array): IdxArray {
  if (bytes.byteLength < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new PeerFormatError('idx', 'invalid_magic', 'file does not start with the IDX magic 0x00 0x00');
  }
  if (bytes[2] !== 0x08) {
    throw new PeerFormatError(
      'idx',
      'unsupported_type',
      `element type 0x${(bytes[2] ?? 0).toString(16)} is not unsigned byte (0x08)`,
    );
  }
  const rank = bytes[3] ?? 0;
  const start = 4 + 4 * rank;
  if (rank === 0 || bytes.byteLength < start)
    throw new PeerFormatError('idx', 'invalid_header', `header of rank ${rank} is cut short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== start + size) {
    throw new PeerFormatError(
      'idx',
      'invalid_length',
      `dims [${dims}] need ${start + size} bytes, file has ${bytes.byteLength}`,
    );
  }
  return { dims, data: bytes.subarray(start) };
}
