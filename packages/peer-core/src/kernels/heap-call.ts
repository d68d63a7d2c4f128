import type { KernelHeap } from './kernel-heap.js';

type Numeric = Float32Array | Int32Array;

interface Binding {
  /** Undefined for kernel-private scratch. */
  readonly array: Numeric | undefined;
  readonly length: number;
  readonly copyIn: boolean;
  readonly copyOut: boolean;
  ptr: number;
  scratch: boolean;
}

/**
 * Marshals one kernel call's typed arrays into the heap. An array that already views the heap's memory is
 * passed by its byteOffset (zero-copy); any other array is copied into per-call scratch (inputs before the
 * call, outputs back after it). Heap pointers are taken before any scratch is allocated: allocating may grow
 * the memory, and with a non-shared memory that would detach the caller's views (byteOffset would read 0).
 *
 * @example
 * const call = new HeapCall(heap);
 * const x = call.input(xs, n); const y = call.output(ys, n);
 * call.run(() => wasm.kernel(call.ptr(x), call.ptr(y), n));
 */
export class HeapCall {
  private readonly bindings: Binding[] = [];

  constructor(private readonly heap: KernelHeap) {}

  /** Read by the kernel: the first `length` elements. Returns a handle for `ptr`. */
  input(array: Numeric, length: number): number {
    return this.bind(array, length, true, false);
  }

  /** Written by the kernel. */
  output(array: Numeric, length: number): number {
    return this.bind(array, length, false, true);
  }

  /** Read and written (accumulated into). */
  inout(array: Numeric, length: number): number {
    return this.bind(array, length, true, true);
  }

  /** Kernel-private scratch of `length` 4-byte elements, no copies. */
  scratch(length: number): number {
    this.bindings.push({ array: undefined, length, copyIn: false, copyOut: false, ptr: 0, scratch: true });
    return this.bindings.length - 1;
  }

  /** The wasm pointer of a bound array (valid inside `run`). */
  ptr(handle: number): number {
    return (this.bindings[handle] as Binding).ptr;
  }

  /** Allocates scratch, copies inputs in, runs `kernel`, copies outputs back, frees scratch (also on throw). */
  run<T>(kernel: () => T): T {
    const heap = this.heap;
    try {
      for (const b of this.bindings) {
        if (!b.scratch) continue;
        b.ptr = heap.alloc(b.length * 4);
      }
      for (const b of this.bindings) {
        if (b.array && b.scratch && b.copyIn && b.length > 0) {
          bytesOf(heap, b.ptr, b.length).set(viewBytes(b.array, b.length));
        }
      }
      const result = kernel();
      for (const b of this.bindings) {
        if (b.array && b.scratch && b.copyOut && b.length > 0) {
          viewBytes(b.array, b.length).set(bytesOf(heap, b.ptr, b.length));
        }
      }
      return result;
    } finally {
      for (const b of this.bindings) {
        if (b.scratch && b.ptr !== 0) heap.free(b.ptr);
      }
    }
  }

  private bind(array: Numeric, length: number, copyIn: boolean, copyOut: boolean): number {
    const owned = this.heap.owns(array);
    this.bindings.push({
      array,
      length,
      copyIn,
      copyOut,
      ptr: owned ? array.byteOffset : 0,
      scratch: !owned,
    });
    return this.bindings.length - 1;
  }
}

function bytesOf(heap: KernelHeap, ptr: number, length: number): Uint8Array {
  return new Uint8Array(heap.memory.buffer, ptr, length * 4);
}

function viewBytes(array: Numeric, length: number): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, length * 4);
}
