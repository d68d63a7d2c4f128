import { PeerBackendError, PeerConfigError } from '../errors/peer-error.js';

/** Bytes in one WebAssembly page. */
export const WASM_PAGE_BYTES = 65_536;
/** 4 GiB: the most a 32-bit wasm memory can address (Node 20 / V8 11 allows it on 64-bit hosts). */
export const MAX_WASM_PAGES = 65_536;
/** Alignment of every pointer returned by `alloc`: a cache line, so f32x4 rows never straddle one needlessly. */
export const HEAP_ALIGN = 64;
/** Small growth steps are rounded up to this many pages so per-call scratch does not grow page by page. */
const MIN_GROW_PAGES = 16;

interface FreeBlock {
  start: number;
  size: number;
}

export interface KernelHeapOptions {
  /** Pages to start with (default 16 = 1 MiB). */
  readonly initialPages?: number;
  /** Upper bound in pages (default and maximum 65536 = 4 GiB). */
  readonly maximumPages?: number;
}

/**
 * The memory of the SIMD kernels: one `WebAssembly.Memory` with a first-fit, address-ordered free list
 * (coalescing on free). Pointers are byte offsets, 64-byte aligned, never 0, and may exceed 2^31.
 *
 * The memory is a shared WebAssembly.Memory (max 4 GiB): growing it never moves data, and views made before
 * a growth stay valid and are still recognised as heap views (zero-copy), but their `buffer` is no longer
 * `memory.buffer`, so code that relies on that identity must re-fetch views with `f32`/`i32` after any
 * `alloc`. (A non-shared memory would detach them; re-fetching is the portable habit.) Memory handed out
 * is not cleared (except by `allocZeroed`); pages never handed out are still the zero pages wasm gave us,
 * so a large allocation costs no RSS until it is written.
 *
 * @example
 * const heap = new KernelHeap();
 * const p = heap.alloc(1024 * 4);
 * heap.f32(p, 1024).fill(1);
 * heap.free(p);
 */
export class KernelHeap {
  readonly memory: WebAssembly.Memory;
  private readonly maximumPages: number;
  /** Address-ordered, non-adjacent free blocks. */
  private readonly freeList: FreeBlock[] = [];
  private readonly live = new Map<number, number>();
  private inUse = 0;
  /** Everything at or above this address has never been handed out, so it still holds zeros. */
  private highWater = HEAP_ALIGN;
  /** Every buffer object the memory has had: all alias the same bytes (shared memory never moves). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private zeroFill = (ptr: number, bytes: number): void => {
    new Uint8Array(this.memory.buffer, ptr, bytes).fill(0);
  };

  constructor(options: KernelHeapOptions = {}) {
    const maximumPages = options.maximumPages ?? MAX_WASM_PAGES;
    if (!Number.isInteger(maximumPages) || maximumPages < 1 || maximumPages > MAX_WASM_PAGES) {
      throw new PeerConfigError('maximumPages', `an integer in [1, ${MAX_WASM_PAGES}]`, maximumPages);
    }
    const initialPages = options.initialPages ?? Math.min(16, maximumPages);
    if (!Number.isInteger(initialPages) || initialPages < 1 || initialPages > maximumPages) {
      throw new PeerConfigError(
        'initialPages',
        `an integer in [1, maximumPages=${maximumPages}]`,
        initialPages,
      );
    }
    this.maximumPages = maximumPages;
    // Shared, so that a worker thread can run kernels on the same heap, and so that growing never moves or
    // detaches anything: views made before a growth stay valid (they just do not see the new pages).
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared: true });
    this.buffers.add(this.memory.buffer);
    // Address 0..63 stays unused so that 0 is never a valid pointer.
    this.freeList.push({ start: HEAP_ALIGN, size: this.capacityBytes - HEAP_ALIGN });
  }

  /** Bytes currently allocated (sizes rounded up to 64). */
  get bytesInUse(): number {
    return this.inUse;
  }

  /** Current size of the memory in bytes. */
  get capacityBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Allocates `bytes` (rounded up to 64; 0 gets 64) and returns a 64-byte aligned pointer. Contents undefined. */
  alloc(bytes: number): number {
    const ptr = this.take(bytes);
    this.highWater = Math.max(this.highWater, ptr + (this.live.get(ptr) ?? 0));
    return ptr;
  }

  /** Like `alloc`, but the block reads as zeros; only the part below the never-used high-water mark is filled. */
  allocZeroed(bytes: number): number {
    const ptr = this.take(bytes);
    const end = ptr + (this.live.get(ptr) ?? 0);
    if (ptr < this.highWater) this.zeroFill(ptr, Math.min(end, this.highWater) - ptr);
    this.highWater = Math.max(this.highWater, end);
    return ptr;
  }

  /**
   * Lets a wasm module zero memory with `memory.fill`: TypedArray.fill on a view of shared memory takes V8's
   * element-by-element path, which made zeroing 40 MB of gradient rows cost ~45 ms.
   */
  useZeroFill(fill: (ptr: number, bytes: number) => void): void {
    this.zeroFill = fill;
  }

  /** Returns a block to the free list, merging it with free neighbours. */
  free(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new PeerConfigError('ptr', 'a live pointer returned by alloc()', ptr);
    this.live.delete(ptr);
    this.inUse -= size;
    const list = this.freeList;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as FreeBlock).start < ptr) lo = mid + 1;
      else hi = mid;
    }
    const prev = list[lo - 1];
    const next = list[lo];
    if (prev && prev.start + prev.size === ptr) {
      prev.size += size;
      if (next && prev.start + prev.size === next.start) {
        prev.size += next.size;
        list.splice(lo, 1);
      }
    } else if (next && ptr + size === next.start) {
      next.start = ptr;
      next.size += size;
    } else {
      list.splice(lo, 0, { start: ptr, size });
    }
  }

  /** A fresh Float32Array over [ptr, ptr + 4 * length). Re-fetch after any `alloc`. */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.currentBuffer(), ptr, length);
  }

  /** A fresh Int32Array over [ptr, ptr + 4 * length). Re-fetch after any `alloc`. */
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.currentBuffer(), ptr, length);
  }

  /** True when `array` views this heap's memory, before or after any growth (its byteOffset goes to wasm as is). */
  owns(array: ArrayBufferView): boolean {
    return this.buffers.has(array.buffer) || array.buffer === this.currentBuffer();
  }

  /**
   * The memory's buffer, remembered as ours. A shared memory can hand out a new buffer object without a
   * grow on this thread (another thread's view of the length changed), so every buffer seen is recorded.
   */
  private currentBuffer(): ArrayBufferLike {
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    return buffer;
  }

  /** First-fit: carves `bytes` (rounded) off the lowest free block that holds it, growing when none does. */
  private take(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0)
      throw new PeerConfigError('bytes', 'a non-negative integer', bytes);
    const size = Math.max(HEAP_ALIGN, Math.ceil(bytes / HEAP_ALIGN) * HEAP_ALIGN);
    let index = this.freeList.findIndex((block) => block.size >= size);
    if (index < 0) index = this.grow(size);
    const block = this.freeList[index] as FreeBlock;
    const ptr = block.start;
    if (block.size === size) this.freeList.splice(index, 1);
    else {
      block.start += size;
      block.size -= size;
    }
    this.live.set(ptr, size);
    this.inUse += size;
    return ptr;
  }

  /** Grows the memory so a block of `size` bytes fits at the end; returns that block's free-list index. */
  private grow(size: number): number {
    const capacity = this.capacityBytes;
    const last = this.freeList[this.freeList.length - 1];
    const tail = last && last.start + last.size === capacity ? last.size : 0;
    const pagesNow = capacity / WASM_PAGE_BYTES;
    const needed = Math.ceil((size - tail) / WASM_PAGE_BYTES);
    const pages = Math.min(Math.max(needed, MIN_GROW_PAGES), this.maximumPages - pagesNow);
    if (pages < needed) {
      throw new PeerBackendError(
        `kernel heap cannot allocate ${size} bytes: ${this.inUse} in use, ${capacity} reserved, ` +
          `limit ${this.maximumPages * WASM_PAGE_BYTES} bytes`,
      );
    }
    try {
      this.memory.grow(pages);
    } catch (cause) {
      throw new PeerBackendError(`kernel heap could not grow by ${pages} pages`, { cause });
    }
    this.buffers.add(this.memory.buffer);
    if (tail > 0 && last) last.size += pages * WASM_PAGE_BYTES;
    else this.freeList.push({ start: capacity, size: pages * WASM_PAGE_BYTES });
    return this.freeList.length - 1;
  }
}
