/**
 * Buffers that `views` cover whole, deduplicated: what may go in a `postMessage` transfer list (a buffer may
 * be listed once; a view into a larger buffer, such as Node's pooled Buffers or wasm memory, must be cloned).
 */
export function ownedBuffers(views: readonly ArrayBufferView[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const v of views) {
    if (v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) {
      out.add(v.buffer);
    }
  }
  return [...out];
}
