// Reference (plain JS) vs WebAssembly SIMD kernels on PEER's hot shapes (DESIGN §1: N = 1024², h = 8, k = 16,
// d = 256). Run: npx tsx packages/peer-core/bench/kernels.bench.ts [--runs 10]
// SIMD inputs live in the kernel heap (zero-copy); the reference reads plain arrays, except the 1 GiB expert
// tables, which both read from the heap. Only the table rows that the ids reference are written, so the
// tables cost ~130 MiB of RSS instead of 2 GiB while the gather still spans the full 1 GiB address range.
import type { PeerKernels } from '../src/kernels/peer-kernels.js';
import { createReferenceKernels } from '../src/kernels/reference-kernels.js';
import { createSimdKernels } from '../src/kernels/simd-kernels.js';
import { createRandom } from '../src/util/random.js';

const at = process.argv.indexOf('--runs');
const RUNS = Math.max(10, at > 0 ? Number(process.argv[at + 1]) : 10);
const only = process.argv.indexOf('--only');
const FILTER = only > 0 ? (process.argv[only + 1] ?? '') : '';
const rng = createRandom(2024);
const reference = createReferenceKernels();
const simd = createSimdKernels();
const heap = simd.heap;
// Same heap, large calls split with a worker thread.
const simd2 = createSimdKernels(heap, { threads: 2 });

interface Timing {
  median: number;
  min: number;
}

/** Median and minimum over RUNS timed runs after one warm-up (JIT, page faults of outputs). */
function time(fn: () => void): Timing {
  fn();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)] as number, min: times[0] as number };
}

/** n normal values in a plain array. */
function normals(n: number): Float32Array {
  return rng.fillNormal(new Float32Array(n), 1);
}

/** `a` itself for the reference; a copy in the kernel heap (zero-copy for wasm) for the SIMD kernels. */
function put<T extends Float32Array | Int32Array>(a: T, inHeap: boolean): T {
  if (!inHeap) return a;
  const ptr = heap.alloc(a.length * 4);
  const view = (a instanceof Float32Array ? heap.f32(ptr, a.length) : heap.i32(ptr, a.length)) as T;
  view.set(a);
  return view;
}

const rows: { kernel: string; shape: string; ref: Timing; simd: Timing; simd2: Timing }[] = [];
const fmt = (t: Timing): string => `${t.median.toFixed(2)} (${t.min.toFixed(2)})`;
function record(kernel: string, shape: string, run: (k: PeerKernels, inHeap: boolean) => () => void): void {
  if (!kernel.includes(FILTER)) return;
  const ref = time(run(reference, false));
  const fast = time(run(simd, true));
  const fast2 = time(run(simd2, true));
  rows.push({ kernel, shape, ref, simd: fast, simd2: fast2 });
  console.log(`${kernel} ${shape}: reference ${fmt(ref)}, simd ${fmt(fast)}, 2 threads ${fmt(fast2)} ms`);
}

for (const cols of [1024, 128]) {
  const r = 8192;
  const k = 16;
  const scores = normals(r * cols);
  record('topkRows', `[${r}x${cols}] k=${k}`, (kernels, inHeap) => {
    const s = put(scores, inHeap);
    const idx = put(new Int32Array(r * k), inHeap);
    const val = put(new Float32Array(r * k), inHeap);
    return () => kernels.topkRows(s, r, cols, k, idx, val);
  });
}

{
  const r = 4096;
  const k = 16;
  const n = r * k;
  // Inputs as the layer makes them: per-row top-k of two [4096 x 1024] sub-key score matrices.
  const [h1, h2] = [0, 1].map(() => {
    const index = new Int32Array(n);
    const score = new Float32Array(n);
    reference.topkRows(normals(r * 1024), r, 1024, k, index, score);
    return { index, score };
  }) as [{ index: Int32Array; score: Float32Array }, { index: Int32Array; score: Float32Array }];
  record('productTopk', `rows ${r} k=${k}`, (kernels, inHeap) => {
    const [s1, i1, s2, i2] = [h1.score, h1.index, h2.score, h2.index].map((a) => put(a, inHeap)) as [
      Float32Array,
      Int32Array,
      Float32Array,
      Int32Array,
    ];
    const [id, a, b] = [0, 1, 2].map(() => put(new Int32Array(n), inHeap)) as [
      Int32Array,
      Int32Array,
      Int32Array,
    ];
    const score = put(new Float32Array(n), inHeap);
    return () => kernels.productTopk(s1, i1, s2, i2, r, k, 1024, id, score, a, b);
  });
}

{
  const numExperts = 2 ** 20;
  const d = 256;
  const slots = 128;
  const table = numExperts * d;
  const uPtr = heap.alloc(table * 4);
  const vPtr = heap.alloc(table * 4);
  const tables = () => ({
    u: { data: heap.f32(uPtr, table), offset: 0 },
    v: { data: heap.f32(vPtr, table), offset: 0 },
  });
  for (const tokens of [512, 1]) {
    const n = tokens * slots;
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = rng.int(numExperts);
    const { u, v } = tables();
    for (const id of ids) {
      rng.fillNormal(u.data.subarray(id * d, id * d + d), 0.06);
      rng.fillNormal(v.data.subarray(id * d, id * d + d), 0.06);
    }
    const gates = rng.fillUniform(new Float32Array(n), 0, 1 / 16);
    const x = normals(tokens * d);
    const dy = normals(tokens * d);
    for (const activation of [1, 0] as const) {
      if (tokens === 1 && activation === 0) continue;
      const args = (inHeap: boolean) => {
        const common = {
          tokens,
          d,
          slots,
          activation,
          x: put(x, inHeap),
          ids: put(ids, inHeap),
          gates: put(gates, inHeap),
          preact: put(new Float32Array(n), inHeap),
        };
        const out = put(new Float32Array(tokens * d), inHeap);
        const grads = {
          dy: put(dy, inHeap),
          dx: put(new Float32Array(tokens * d), inHeap),
          dgates: put(new Float32Array(n), inHeap),
          coefU: put(new Float32Array(n), inHeap),
          coefV: put(new Float32Array(n), inHeap),
        };
        // Table views fetched after the allocations above (a habit that also holds for non-shared memory).
        return { fwd: { ...common, ...tables(), out }, bwd: { ...common, ...tables(), ...grads } };
      };
      const shape = `tokens ${tokens} slots ${slots} d ${d} N 2^20 ${activation === 1 ? 'gelu' : 'relu'}`;
      record('expertsForward', shape, (kernels, inHeap) => {
        const { fwd } = args(inHeap);
        return () => kernels.expertsForward(fwd);
      });
      record('expertsBackward', shape, (kernels, inHeap) => {
        const { fwd, bwd } = args(inHeap);
        kernels.expertsForward(fwd);
        return () => kernels.expertsBackward(bwd);
      });
    }
  }
}

console.log(`\nmedian (min) of ${RUNS} runs, ms (Node ${process.version})`);
console.log('| kernel | shape | reference | simd | speed-up (medians) | simd, 2 threads |');
console.log('|---|---|---:|---:|---:|---:|');
for (const row of rows) {
  const speedup = `${(row.ref.median / row.simd.median).toFixed(1)}x`;
  console.log(
    `| ${row.kernel} | ${row.shape} | ${fmt(row.ref)} | ${fmt(row.simd)} | ${speedup} | ${fmt(row.simd2)} |`,
  );
}
await simd2.close();
