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

function median(fn: () => void): number {
  fn(); // warm-up: JIT, page faults of outputs
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** A Float32Array of n normal values, in the heap or plain. */
function normals(n: number, inHeap: boolean): Float32Array {
  const out = inHeap ? heap.f32(heap.alloc(n * 4), n) : new Float32Array(n);
  return rng.fillNormal(out, 1);
}

const rows: { kernel: string; shape: string; ref: number; simd: number }[] = [];
function record(kernel: string, shape: string, run: (k: PeerKernels, inHeap: boolean) => () => void): void {
  if (!kernel.includes(FILTER)) return;
  const ref = median(run(reference, false));
  const fast = median(run(simd, true));
  rows.push({ kernel, shape, ref, simd: fast });
  console.log(`${kernel} ${shape}: reference ${ref.toFixed(2)} ms, simd ${fast.toFixed(2)} ms`);
}

for (const cols of [1024, 128]) {
  const r = 8192;
  const k = 16;
  const plain = normals(r * cols, false);
  const inHeapScores = heap.f32(heap.alloc(plain.length * 4), plain.length);
  inHeapScores.set(plain);
  record('topkRows', `[${r}x${cols}] k=${k}`, (kernels, inHeap) => {
    const idx = inHeap ? heap.i32(heap.alloc(r * k * 4), r * k) : new Int32Array(r * k);
    const val = inHeap ? heap.f32(heap.alloc(r * k * 4), r * k) : new Float32Array(r * k);
    const scores = inHeap ? inHeapScores : plain;
    return () => kernels.topkRows(scores, r, cols, k, idx, val);
  });
}

{
  const r = 4096;
  const k = 16;
  const n = r * k;
  const halves = [0, 1].map(() => {
    const index = new Int32Array(n);
    const score = new Float32Array(n);
    reference.topkRows(normals(r * 1024, false), r, 1024, k, index, score);
    return { index, score };
  });
  const copy = <T extends Float32Array | Int32Array>(a: T, inHeap: boolean): T => {
    if (!inHeap) return a;
    const ptr = heap.alloc(a.length * 4);
    const view = (a instanceof Float32Array ? heap.f32(ptr, a.length) : heap.i32(ptr, a.length)) as T;
    view.set(a);
    return view;
  };
  record('productTopk', `rows ${r} k=${k}`, (kernels, inHeap) => {
    const [h1, h2] = halves as [(typeof halves)[0], (typeof halves)[0]];
    const s1 = copy(h1.score, inHeap);
    const i1 = copy(h1.index, inHeap);
    const s2 = copy(h2.score, inHeap);
    const i2 = copy(h2.index, inHeap);
    const outs = [0, 1, 2, 3].map(() => copy(new Int32Array(n), inHeap));
    const score = copy(new Float32Array(n), inHeap);
    const [id, a, b] = outs as [Int32Array, Int32Array, Int32Array];
    return () => kernels.productTopk(s1, i1, s2, i2, r, k, 1024, id, score, a, b);
  });
}

{
  const numExperts = 2 ** 20;
  const d = 256;
  const slots = 128;
  const table = numExperts * d;
  const u = { data: heap.f32(heap.alloc(table * 4), table), offset: 0 };
  const v = { data: heap.f32(heap.alloc(table * 4), table), offset: 0 };
  for (const tokens of [512, 1]) {
    const n = tokens * slots;
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = rng.int(numExperts);
    const tablesNow = [heap.f32(u.data.byteOffset, table), heap.f32(v.data.byteOffset, table)];
    for (const t of tablesNow) for (const id of ids) rng.fillNormal(t.subarray(id * d, id * d + d), 0.06);
    const gates = rng.fillUniform(new Float32Array(n), 0, 1 / 16);
    const x = normals(tokens * d, false);
    const dy = normals(tokens * d, false);
    for (const activation of [1, 0] as const) {
      if (tokens === 1 && activation === 0) continue;
      const args = (inHeap: boolean) => {
        const put = <T extends Float32Array | Int32Array>(a: T): T => {
          if (!inHeap) return a.slice() as T;
          const ptr = heap.alloc(a.length * 4);
          const view = (a instanceof Float32Array ? heap.f32(ptr, a.length) : heap.i32(ptr, a.length)) as T;
          view.set(a);
          return view;
        };
        const base = { tokens, d, slots, activation, x: put(x), ids: put(ids), gates: put(gates), preact: put(new Float32Array(n)) };
        const tables = { u: { data: heap.f32(u.data.byteOffset, table), offset: 0 }, v: { data: heap.f32(v.data.byteOffset, table), offset: 0 } };
        const fwd = { ...base, ...tables, out: put(new Float32Array(tokens * d)) };
        const bwd = {
          ...base,
          ...tables,
          dy: put(dy),
          dx: put(new Float32Array(tokens * d)),
          dgates: put(new Float32Array(n)),
          coefU: put(new Float32Array(n)),
          coefV: put(new Float32Array(n)),
        };
        return { fwd, bwd };
      };
      const shape = `tokens ${tokens} slots ${slots} d ${d} N 2^20 ${activation === 1 ? 'gelu' : 'relu'}`;
      record('expertsForward', shape, (kernels, inHeap) => {
        const { fwd } = args(inHeap);
        return () => kernels.expertsForward(fwd);
      });
      record('expertsBackward', shape, (kernels, inHeap) => {
        const { fwd, bwd } = args(inHeap);
        kernels.expertsForward({ ...fwd, preact: bwd.preact });
        return () => kernels.expertsBackward(bwd);
      });
    }
  }
}

console.log(`\nmedian of ${RUNS} runs, ms (Node ${process.version}, 1 thread)`);
console.log('| kernel | shape | reference | simd | speed-up |');
console.log('|---|---|---:|---:|---:|');
for (const row of rows) {
  const speedup = (row.ref / row.simd).toFixed(1);
  console.log(`| ${row.kernel} | ${row.shape} | ${row.ref.toFixed(2)} | ${row.simd.toFixed(3)} | ${speedup}x |`);
}
