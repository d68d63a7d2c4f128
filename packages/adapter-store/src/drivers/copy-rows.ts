import { copyHeader, copyTrailer, copyTuple, int8Field, textField } from '../codec/pg-copy-binary.js';
import type { BlockBytes } from './driver.js';

/**
 * Binary COPY data for block rows (`hash`, `byte_length`, `data`), one contiguous buffer per row
 * (header and trailer folded into the first and last). postgres.js turns every buffer written to a
 * COPY stream into one CopyData message and one socket write, so many tiny framing buffers would cost
 * a message each and trip Nagle/delayed-ACK stalls; one buffer per ~2 MB block costs a single memcpy.
 */
export function blockCopyBuffers(rows: readonly BlockBytes[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  rows.forEach((row, i) => {
    const parts = copyTuple([textField(row.hash), int8Field(row.bytes.byteLength), row.bytes]);
    if (i === 0) parts.unshift(copyHeader());
    if (i === rows.length - 1) parts.push(copyTrailer());
    out.push(Buffer.concat(parts));
  });
  if (rows.length === 0) out.push(Buffer.concat([copyHeader(), copyTrailer()]));
  return out;
}
