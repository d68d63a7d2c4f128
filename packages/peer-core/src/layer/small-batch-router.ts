import * as tf from '@tensorflow/tfjs';
import type { KernelHeap } from '../kernels/kernel-heap.js';
import type { PeerKernels } from '../kernels/peer-kernels.js';
import { productKeyTopk } from '../retrieval/product-key-topk.js';
import { readTensorSync } from '../util/read-tensor.js';
import type { QueryNetwork } from './query-network.js';
import type { SubKeyCodebooks } from './sub-key-codebooks.js';

/**
 * Most sub-key dot products (tokens * heads * (rows + cols)) served without tfjs: above it XNNPACK's blocked
 * matmuls beat row-by-row dot products. Measured at one token, h 8: 0.36 vs 0.61 ms at 128^2 experts, even
 * at 256^2, 0.81 vs 0.63 ms at 512^2.
 */
export const SMALL_BATCH_KEY_DOTS = 4096;

/** Whether `route` below is the faster way to serve this batch. */
export function servesSmallBatch(tokens: number, heads: number, rows: number, cols: number): boolean {
  return tokens * heads * (rows + cols) <= SMALL_BATCH_KEY_DOTS;
}

/** A float32 copy of some tfjs variables in the kernel heap, rebuilt when one of them changes (dataId). */
class HeapMirror {
  private ids: readonly object[] = [];
  private ptr = 0;
  private length = 0;

  constructor(private readonly heap: KernelHeap) {}

  get(sources: readonly tf.Tensor[], build: () => Float32Array): Float32Array {
    const ids = sources.map((s) => s.dataId);
    if (this.ptr === 0 || ids.length !== this.ids.length || ids.some((id, i) => id !== this.ids[i])) {
      const values = build();
      this.dispose();
      this.ptr = this.heap.alloc(values.length * 4);
      this.length = values.length;
      this.heap.f32(this.ptr, this.length).set(values);
      this.ids = ids;
    }
    return this.heap.f32(this.ptr, this.length);
  }

  dispose(): void {
    if (this.ptr !== 0) this.heap.free(this.ptr);
    this.ptr = 0;
    this.ids = [];
  }
}

/**
 * Serving-time routing for a few tokens with no tfjs op at all: at one token each tfjs op costs ~20 us of
 * dispatch and XNNPACK repacks the whole query weight per call (~70 us for [256, 1024]), which made the
 * query projection alone cost more than the PyTorch reference's entire layer. Here every product is a
 * gathered-row dot product on the SIMD expert kernel (`expertsForward` with zero gates computes only the
 * pre-activations U[ids] . x), against heap mirrors of the BN-folded query weight and the sub-keys.
 * Same math as `PeerLayer.route(x, false)`; sums run in a different order, so values agree to float32
 * rounding, not bit for bit.
 */
export class SmallBatchRouter {
  private readonly queryWeight: HeapMirror;
  private readonly rowKeys: HeapMirror;
  private readonly colKeys: HeapMirror;
  private readonly iota = new Map<string, Int32Array>();

  constructor(
    private readonly query: QueryNetwork,
    private readonly keys: SubKeyCodebooks,
    private readonly kernels: PeerKernels,
    heap: KernelHeap,
    private readonly heads: number,
    private readonly k: number,
  ) {
    this.queryWeight = new HeapMirror(heap);
    this.rowKeys = new HeapMirror(heap);
    this.colKeys = new HeapMirror(heap);
  }

  /** Ids [tokens, heads, k] and softmax gates of `xData` [tokens, dModel]. */
  route(xData: Float32Array, tokens: number): { ids: Int32Array; gates: Float32Array } {
    const d = xData.length / tokens;
    const half = this.keys.half;
    const width = this.heads * half;
    // [W1 | W2]^T with BN folded in, plus the shift, as one [2*width + 1, d] table (last row: shift, padded).
    const wt = this.queryWeight.get(this.query.variables(), () => this.foldedTransposedWeight(d, width));
    const q = this.dot(xData, tokens, d, wt, 2 * width, 0); // [B, 2*width]
    const shift = wt.subarray(2 * width * d, 2 * width * d + 2 * width);
    const q1 = new Float32Array(tokens * width);
    const q2 = new Float32Array(tokens * width);
    for (let b = 0; b < tokens; b++) {
      for (let j = 0; j < width; j++) {
        q1[b * width + j] = (q[b * 2 * width + j] ?? 0) + (shift[j] ?? 0);
        q2[b * width + j] = (q[b * 2 * width + width + j] ?? 0) + (shift[width + j] ?? 0);
      }
    }
    const rows = this.keys.rows;
    const cols = this.keys.cols;
    const c1 = this.rowKeys.get(this.keys.segments, () => readKeys(this.keys.rowKeys(), this.keys.segments));
    const c2 = this.colKeys.get([this.keys.columns], () => readKeys(this.keys.columns, [this.keys.columns]));
    const queries = tokens * this.heads; // rows of q1/q2 as [B*H, half]
    const s1 = this.keyScores(q1, queries, half, c1, rows);
    const s2 = this.keyScores(q2, queries, half, c2, cols);
    const selection = productKeyTopk(this.kernels, s1, s2, queries, rows, cols, this.k);
    return { ids: selection.ids, gates: softmaxRows(selection.scores, this.k) };
  }

  dispose(): void {
    this.queryWeight.dispose();
    this.rowKeys.dispose();
    this.colKeys.dispose();
  }

  /** Scores of each query row against its key head's codebook ([KH * n, half] table), [queries, n]. */
  private keyScores(
    q: Float32Array,
    queries: number,
    half: number,
    table: Float32Array,
    n: number,
  ): Float32Array {
    const keyHeads = this.keys.keyHeads;
    if (keyHeads === 1) return this.dot(q, queries, half, table, n, 0);
    const out = new Float32Array(queries * n);
    for (let r = 0; r < queries; r++) {
      const kh = r % keyHeads;
      out.set(this.dot(q.subarray(r * half, (r + 1) * half), 1, half, table, n, kh * n), r * n);
    }
    return out;
  }

  /** [tokens, count]: row t holds table[offset + j] . x[t] for j < count, via the expert kernel. */
  private dot(
    x: Float32Array,
    tokens: number,
    d: number,
    table: Float32Array,
    count: number,
    offset: number,
  ) {
    const key = `${tokens}:${count}:${offset}`;
    let ids = this.iota.get(key);
    if (!ids) {
      ids = new Int32Array(tokens * count);
      for (let t = 0; t < tokens; t++) for (let j = 0; j < count; j++) ids[t * count + j] = offset + j;
      this.iota.set(key, ids);
    }
    const preact = new Float32Array(tokens * count);
    const view = { data: table, offset: 0 };
    this.kernels.expertsForward({
      x,
      tokens,
      d,
      ids,
      gates: new Float32Array(tokens * count), // zero gates: only the dot products are computed
      slots: count,
      u: view,
      v: view,
      activation: 0,
      out: new Float32Array(tokens * d),
      preact,
    });
    return preact;
  }

  private foldedTransposedWeight(d: number, width: number): Float32Array {
    const [w, shift] = tf.tidy(() => {
      const parts = this.query.halves.map((h) => {
        const { gamma, beta, movingMean, movingVariance } = h;
        if (!gamma || !beta || !movingMean || !movingVariance) return [h.weight, tf.zeros([width])];
        const scale = tf.rsqrt(movingVariance.add(this.query.epsilon)).mul(gamma);
        return [h.weight.mul(scale), beta.sub(movingMean.mul(scale))];
      });
      const weight = tf
        .concat(
          parts.map((p) => p[0] as tf.Tensor2D),
          1,
        )
        .transpose(); // [2*width, d]
      return [weight, tf.concat(parts.map((p) => p[1] as tf.Tensor1D))];
    });
    const out = new Float32Array(2 * width * d + Math.max(d, 2 * width));
    out.set(readTensorSync(w));
    out.set(readTensorSync(shift), 2 * width * d);
    tf.dispose([w, shift]);
    return out;
  }
}

/** A codebook's values, [KH, n, half] row-major = [KH * n, half]; disposes `t` unless it is a variable. */
function readKeys(t: tf.Tensor, variables: readonly tf.Tensor[]): Float32Array {
  const values = Float32Array.from(readTensorSync(t));
  if (!variables.includes(t)) t.dispose();
  return values;
}

/** Softmax over each row of k scores (float64 accumulation, float32 result). */
function softmaxRows(scores: Float32Array, k: number): Float32Array {
  const out = new Float32Array(scores.length);
  for (let r = 0; r < scores.length / k; r++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let t = 0; t < k; t++) max = Math.max(max, scores[r * k + t] ?? 0);
    let total = 0;
    for (let t = 0; t < k; t++) total += Math.exp((scores[r * k + t] ?? 0) - max);
    for (let t = 0; t < k; t++) out[r * k + t] = Math.exp((scores[r * k + t] ?? 0) - max) / total;
  }
  return out;
}
