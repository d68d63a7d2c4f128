/**
 * PostgreSQL binary COPY framing (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4):
 * an 11-byte signature, flags and header-extension words, then per tuple an int16 field count and per
 * field an int32 length (-1 = NULL) followed by the raw bytes, and an int16 -1 trailer.
 * Both drivers use it for block bytes: it is the one path that moves bytea without hex encoding.
 */
const SIGNATURE = new Uint8Array([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]);
const HEADER_LENGTH = SIGNATURE.length + 8;

/** The file header: signature, no flags (no OIDs), empty header extension. */
export function copyHeader(): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH);
  out.set(SIGNATURE, 0);
  return out;
}

/** The end-of-data marker. */
export function copyTrailer(): Uint8Array {
  return new Uint8Array([0xff, 0xff]);
}

/**
 * One tuple as a list of byte chunks; field payloads are referenced, not copied, so a 2 MB block
 * costs only the few framing bytes.
 */
export function copyTuple(fields: ReadonlyArray<Uint8Array | null>): Uint8Array[] {
  const parts: Uint8Array[] = [];
  const head = new Uint8Array(2 + 4);
  const view = new DataView(head.buffer);
  view.setInt16(0, fields.length);
  view.setInt32(2, fields[0] ? fields[0].byteLength : -1);
  parts.push(head);
  fields.forEach((field, i) => {
    if (i > 0) {
      const len = new Uint8Array(4);
      new DataView(len.buffer).setInt32(0, field ? field.byteLength : -1);
      parts.push(len);
    }
    if (field && field.byteLength > 0) parts.push(field);
  });
  return parts;
}

/** Big-endian int8 field (PostgreSQL `bigint` in binary COPY). */
export function int8Field(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(value));
  return out;
}

/** UTF-8 text field. */
export function textField(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

/**
 * Incremental decoder: feed it the bytes of a binary COPY TO output in chunks of any size, get back
 * whole tuples. A field that spans chunks is assembled once; a field inside one chunk is a zero-copy view.
 */
export class CopyBinaryDecoder {
  private chunks: Uint8Array[] = [];
  private available = 0;
  private headerDone = false;
  private finished = false;
  /** Bytes that must be buffered before parsing can make progress (avoids rescanning per tiny chunk). */
  private needed = 0;

  /** Appends bytes and returns every tuple completed by them. */
  push(chunk: Uint8Array): Array<Array<Uint8Array | null>> {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.available += chunk.byteLength;
    }
    const tuples: Array<Array<Uint8Array | null>> = [];
    if (this.available < this.needed) return tuples;
    for (;;) {
      const tuple = this.next();
      if (!tuple) break;
      tuples.push(tuple);
    }
    return tuples;
  }

  /** Whether the trailer was seen; call after the last chunk to detect truncated output. */
  get done(): boolean {
    return this.finished;
  }

  private next(): Array<Uint8Array | null> | undefined {
    if (this.finished) return undefined;
    if (!this.headerDone) {
      if (this.available < HEADER_LENGTH) return this.wait(HEADER_LENGTH);
      const header = this.take(HEADER_LENGTH);
      for (let i = 0; i < SIGNATURE.length; i++) {
        if (header[i] !== SIGNATURE[i]) throw new Error('binary COPY data has a bad signature');
      }
      const extension = new DataView(header.buffer, header.byteOffset).getInt32(15);
      if (extension !== 0) throw new Error('binary COPY header extensions are not supported');
      this.headerDone = true;
    }
    // Parse without consuming until the whole tuple is buffered.
    if (this.available < 2) return this.wait(2);
    const count = this.peekInt(0, 2);
    if (count === -1) {
      this.take(2);
      this.finished = true;
      return undefined;
    }
    let offset = 2;
    const lengths: number[] = [];
    for (let f = 0; f < count; f++) {
      if (this.available < offset + 4) return this.wait(offset + 4);
      const len = this.peekInt(offset, 4);
      lengths.push(len);
      offset += 4 + Math.max(len, 0);
    }
    if (this.available < offset) return this.wait(offset);
    this.needed = 0;
    this.take(2);
    return lengths.map((len) => {
      this.take(4);
      return len < 0 ? null : this.take(len);
    });
  }

  private wait(bytes: number): undefined {
    this.needed = bytes;
    return undefined;
  }

  private peekInt(offset: number, size: 2 | 4): number {
    const bytes = new Uint8Array(size);
    let filled = 0;
    let skip = offset;
    for (const chunk of this.chunks) {
      if (skip >= chunk.byteLength) {
        skip -= chunk.byteLength;
        continue;
      }
      const part = chunk.subarray(skip, skip + (size - filled));
      bytes.set(part, filled);
      filled += part.byteLength;
      skip = 0;
      if (filled === size) break;
    }
    const view = new DataView(bytes.buffer);
    return size === 2 ? view.getInt16(0) : view.getInt32(0);
  }

  private take(n: number): Uint8Array {
    this.available -= n;
    const first = this.chunks[0];
    if (first && first.byteLength >= n) {
      const out = first.subarray(0, n);
      if (first.byteLength === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let used = 0; // whole chunks consumed, removed with one splice (shift per chunk is quadratic)
    while (filled < n) {
      const chunk = this.chunks[used];
      if (!chunk) throw new Error('binary COPY decoder underflow');
      const part = chunk.subarray(0, n - filled);
      out.set(part, filled);
      filled += part.byteLength;
      if (part.byteLength === chunk.byteLength) used++;
      else this.chunks[used] = chunk.subarray(part.byteLength);
    }
    this.chunks.splice(0, used);
    return out;
  }
}
