import { describe, expect, it } from 'vitest';
import { PeerBackendError, PeerConfigError } from '../../src/errors/peer-error.js';
import { HEAP_ALIGN, KernelHeap, WASM_PAGE_BYTES } from '../../src/kernels/kernel-heap.js';

describe('KernelHeap', () => {
  it('hands out 64-byte aligned, non-overlapping, non-zero pointers and counts bytes in use', () => {
    const heap = new KernelHeap({ initialPages: 1 });
    const a = heap.alloc(1);
    const b = heap.alloc(100);
    const c = heap.alloc(0);
    for (const p of [a, b, c]) {
      expect(p).toBeGreaterThan(0);
      expect(p % HEAP_ALIGN).toBe(0);
    }
    expect(b).toBeGreaterThanOrEqual(a + 64);
    expect(c).toBeGreaterThanOrEqual(b + 128);
    expect(heap.bytesInUse).toBe(64 + 128 + 64);
    heap.free(b);
    expect(heap.bytesInUse).toBe(128);
  });

  it('reuses the first block that fits and coalesces neighbours on free', () => {
    const heap = new KernelHeap({ initialPages: 1 });
    const [a, b, c, d] = [heap.alloc(64), heap.alloc(64), heap.alloc(64), heap.alloc(64)] as number[];
    heap.free(a as number);
    heap.free(c as number);
    // Neither hole holds 128 bytes: the block comes from the tail.
    expect(heap.alloc(128)).toBeGreaterThan(d as number);
    heap.free(b as number); // a, b, c merge into one 192-byte hole
    expect(heap.alloc(192)).toBe(a);
    expect(heap.alloc(64)).toBeGreaterThan(d as number);
  });

  it('coalesces everything back into one block', () => {
    const heap = new KernelHeap({ initialPages: 1 });
    const ptrs = Array.from({ length: 50 }, (_, i) => heap.alloc(64 * (1 + (i % 7))));
    const order = ptrs.map((p, i) => [p, (i * 37) % 50] as const).sort((x, y) => x[1] - y[1]);
    for (const [p] of order) heap.free(p);
    expect(heap.bytesInUse).toBe(0);
    expect(heap.alloc(heap.capacityBytes - HEAP_ALIGN)).toBe(HEAP_ALIGN);
  });

  it('grows by whole pages, keeps data, and serves fresh views after growth', () => {
    const heap = new KernelHeap({ initialPages: 1 });
    const p = heap.alloc(1000 * 4);
    const before = heap.f32(p, 1000);
    before.fill(2.5);
    const big = heap.alloc(3 * WASM_PAGE_BYTES + 123);
    expect(heap.capacityBytes % WASM_PAGE_BYTES).toBe(0);
    expect(heap.capacityBytes).toBeGreaterThanOrEqual(big + 3 * WASM_PAGE_BYTES + 123);
    // The old view is stale (a shared memory's old buffer keeps its old length); a fresh one sees everything.
    expect(before.buffer === heap.memory.buffer).toBe(false);
    expect(heap.owns(before)).toBe(true);
    expect(before[999]).toBe(2.5);
    expect(heap.owns(new Float32Array(4))).toBe(false);
    expect(Array.from(heap.f32(p, 1000)).every((v) => v === 2.5)).toBe(true);
    heap.i32(big, 4).set([1, 2, 3, 4]);
    expect(Array.from(heap.i32(big, 4))).toEqual([1, 2, 3, 4]);
  });

  it('allocZeroed clears reused memory and leaves never-used memory untouched', () => {
    const heap = new KernelHeap({ initialPages: 1 });
    const p = heap.alloc(4096);
    heap.f32(p, 1024).fill(7);
    heap.free(p);
    const q = heap.allocZeroed(8192);
    expect(q).toBe(p);
    expect(heap.f32(q, 2048).every((v) => v === 0)).toBe(true);
  });

  it('does not touch (so does not pay RSS for) a fresh 1 GiB allocation', () => {
    const heap = new KernelHeap();
    const rss = process.memoryUsage().rss;
    const p = heap.allocZeroed(2 ** 30);
    expect(heap.capacityBytes).toBeGreaterThanOrEqual(2 ** 30);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 2 ** 20);
    heap.free(p);
  });

  it('throws typed errors: bad sizes, unknown pointers, past the maximum', () => {
    const heap = new KernelHeap({ initialPages: 1, maximumPages: 2 });
    expect(() => heap.alloc(-1)).toThrow(PeerConfigError);
    expect(() => heap.alloc(1.5)).toThrow(PeerConfigError);
    expect(() => heap.free(12345)).toThrow(PeerConfigError);
    const p = heap.alloc(64);
    heap.free(p);
    expect(() => heap.free(p)).toThrow(PeerConfigError);
    expect(() => heap.alloc(2 * WASM_PAGE_BYTES)).toThrow(PeerBackendError);
    expect(() => new KernelHeap({ maximumPages: 65_537 })).toThrow(PeerConfigError);
  });
});

describe('KernelHeap zeroing through the SIMD module', () => {
  it('allocZeroed clears reused memory with wasm memory.fill', async () => {
    const { createSimdKernels } = await import('../../src/kernels/simd-kernels.js');
    const { heap } = createSimdKernels();
    const p = heap.alloc(4096);
    heap.f32(p, 1024).fill(7);
    heap.free(p);
    const q = heap.allocZeroed(4096);
    expect(q).toBe(p);
    expect(heap.f32(q, 1024).every((v) => v === 0)).toBe(true);
  });
});
