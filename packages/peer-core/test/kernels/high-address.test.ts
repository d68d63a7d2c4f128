import { describe, expect, it } from 'vitest';
import { KernelHeap } from '../../src/kernels/kernel-heap.js';
import { createReferenceKernels } from '../../src/kernels/reference-kernels.js';
import { createSimdKernels } from '../../src/kernels/simd-kernels.js';
import { createRandom } from '../../src/util/random.js';
import { makeCase, runForward } from './experts-case.js';
import { expectClose, expectSame, inHeap, uniform } from './kernel-helpers.js';

// Pointers >= 2^31 reach wasm as negative i32 and must be read back as unsigned. The filler blocks below are
// never written, so they reserve address space without costing memory.
describe('kernels at addresses above 2 GiB', () => {
  it('runs every kernel on arrays placed past 2^31 and near the 4 GiB top', () => {
    const heap = new KernelHeap();
    const simd = createSimdKernels(heap);
    const reference = createReferenceKernels();
    const rng = createRandom(99);
    const filler = heap.alloc(2 ** 31 + 12_345 * 64);
    const c = makeCase(rng, { tokens: 9, slots: 16, d: 64, numExperts: 50, activation: 1 });
    const u = inHeap(heap, c.u);
    expect(u.byteOffset).toBeGreaterThan(2 ** 31);
    const want = runForward(reference, c);
    const got = runForward(simd, { ...c, u, v: inHeap(heap, c.v) }, heap);
    expect(got.out.byteOffset).toBeGreaterThan(2 ** 31);
    expectClose(got.out, want.out, 1e-4, 'out');
    expectClose(got.preact, want.preact, 1e-5, 'preact');

    // Close to the top of a full 4 GiB memory: u32 address arithmetic must not overflow.
    const top = 2 ** 32 - 8 * 2 ** 20;
    const gap = heap.alloc(top - heap.capacityBytes);
    const scores = inHeap(heap, uniform(rng, 200 * 100));
    expect(scores.byteOffset).toBeGreaterThanOrEqual(top - 2 ** 20);
    const idx = inHeap(heap, new Int32Array(200 * 8));
    const val = inHeap(heap, new Float32Array(200 * 8));
    simd.topkRows(scores, 200, 100, 8, idx, val);
    const refIdx = new Int32Array(200 * 8);
    const refVal = new Float32Array(200 * 8);
    reference.topkRows(scores, 200, 100, 8, refIdx, refVal);
    expectSame(idx, refIdx);
    expectSame(val, refVal);
    heap.free(gap);
    heap.free(filler);
  });
});
