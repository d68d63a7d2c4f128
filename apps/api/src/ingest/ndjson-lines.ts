/** One line of an NDJSON body: its 1-based number and text, or why it could not be read. */
export type NdjsonLine =
  | { readonly line: number; readonly text: string }
  | { readonly line: number; readonly error: 'line_too_long' | 'invalid_utf8'; readonly bytes: number };

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into lines as it arrives (never holding the body whole). Each line is decoded on its
 * own with a fatal UTF-8 decoder, so one bad line is one per-line error instead of a failed request. A line
 * longer than `maxLineBytes` is skipped up to its newline without being buffered. Blank lines are skipped
 * (NDJSON allows a trailing newline; `\r\n` endings are accepted). `onBytes` sees every chunk's size first,
 * so the caller can enforce a body limit while streaming.
 */
export async function* ndjsonLines(
  body: AsyncIterable<Uint8Array>,
  options: { maxLineBytes: number; onBytes?: (n: number) => void },
): AsyncGenerator<NdjsonLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Uint8Array[] = [];
  let size = 0;
  let skipping = false;
  let lineNo = 0;

  const finish = (): NdjsonLine | undefined => {
    lineNo += 1;
    if (skipping) {
      const line: NdjsonLine = { line: lineNo, error: 'line_too_long', bytes: size };
      skipping = false;
      parts = [];
      size = 0;
      return line;
    }
    const bytes = parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts, size);
    parts = [];
    size = 0;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end -= 1;
    if (isBlank(bytes, end)) return undefined;
    try {
      return { line: lineNo, text: decoder.decode(bytes.subarray(0, end)) };
    } catch {
      return { line: lineNo, error: 'invalid_utf8', bytes: end };
    }
  };

  for await (const chunk of body) {
    options.onBytes?.(chunk.byteLength);
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const stop = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, stop);
      size += piece.length;
      if (size > options.maxLineBytes) {
        skipping = true;
        parts = [];
      } else if (!skipping && piece.length > 0) {
        // Copy: the stream may reuse its chunk buffers after we yield.
        parts.push(piece.slice());
      }
      if (nl === -1) break;
      const line = finish();
      if (line) yield line;
      start = nl + 1;
    }
  }
  if (size > 0 || skipping) {
    const line = finish();
    if (line) yield line;
  }
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function isBlank(bytes: Uint8Array, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09) return false;
  }
  return true;
}
