import { copyHeader, copyTrailer, copyTuple, int8Field, textField } from '../codec/pg-copy-binary.js';
import type { BlockBytes } from './driver.js';

/** Binary COPY framing of block rows (`hash`, `byte_length`, `data`), payloads referenced, not copied. */
export function blockCopyParts(rows: readonly BlockBytes[]): Uint8Array[] {
  const parts: Uint8Array[] = [copyHeader()];
  for (const row of rows) {
    parts.push(...copyTuple([textField(row.hash), int8Field(row.bytes.byteLength), row.bytes]));
  }
  parts.push(copyTrailer());
  return parts;
}
