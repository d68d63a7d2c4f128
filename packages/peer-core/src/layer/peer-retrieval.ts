import * as tf from '@tensorflow/tfjs';
import type { KernelHeap } from '../kernels/kernel-heap.js';
import type { NativeKernels } from '../kernels/native-kernels.js';
import type { PeerKernels } from '../kernels/peer-kernels.js';
import { type ExpertSelection, productKeyTopk } from '../retrieval/product-key-topk.js';
import { readTensorSync } from '../util/read-tensor.js';
import type { SubKeyCodebooks } from './sub-key-codebooks.js';

/** Query halves, token-major: [tokens * heads, dKey/2] each, row = token * heads + head. */
export interface PeerQueries {
  readonly tokens: number;
  readonly heads: number;
  readonly q1: tf.Tensor2D;
  readonly q2: tf.Tensor2D;
}

/**
 * Sub-key scores of every query against one codebook, [tokens * heads, n], written into a heap buffer so the
 * top-k kernel reads them without another copy. Shared keys: one plain 2-D matmul. Per-head keys: one matmul
 * per head over that head's (strided) queries, scattered back to token-major rows.
 */
function scoreInto(
  q: tf.Tensor2D,
  keysT: tf.Tensor2D[],
  queries: PeerQueries,
  target: Float32Array,
  kernels: PeerKernels,
): void {
  const { tokens, heads } = queries;
  const [shared] = keysT;
  if (kernels.name === 'native' && keysT.length === 1 && shared && tf.getBackend() !== 'tensorflow') {
    // Straight into the heap buffer top-k reads: no score tensor, no copy.
    const { addon, threads } = kernels as NativeKernels;
    const [half, n] = shared.shape;
    addon.gemm(
      tokens * heads,
      n,
      half,
      readTensorSync(q),
      false,
      readTensorSync(shared),
      false,
      target,
      false,
      threads,
    );
    return;
  }
  keysT.forEach((kt, kh) => {
    const [half, n] = kt.shape;
    const scores = tf.tidy(() => {
      const rows =
        keysT.length === 1
          ? q
          : q
              .reshape([tokens, heads, half]) // [B*H, h] -> [B, H, h]
              .slice([0, kh, 0], [tokens, 1, half])
              .reshape([tokens, half]); // this head's queries, [B, h]
      return tf.matMul(rows, kt); // [P, h] x [h, n] -> [P, n]
    });
    const values = readTensorSync(scores);
    if (keysT.length === 1) target.set(values);
    else
      for (let b = 0; b < tokens; b++) target.set(values.subarray(b * n, (b + 1) * n), (b * heads + kh) * n);
    scores.dispose();
  });
}

/**
 * Exact product-key retrieval (not differentiable: indices carry no gradient and are computed outside the
 * tape). Never scores all N experts: O((rows + cols) * dKey + k^2) per query.
 */
export function retrieveExperts(
  queries: PeerQueries,
  keys: SubKeyCodebooks,
  k: number,
  kernels: PeerKernels,
  heap: KernelHeap,
): ExpertSelection {
  const total = queries.heads * queries.tokens;
  const { rows, cols } = keys;
  const ptr1 = heap.alloc(total * rows * 4);
  const ptr2 = heap.alloc(total * cols * 4);
  try {
    scoreInto(queries.q1, keys.scoringKeys('rows'), queries, heap.f32(ptr1, total * rows), kernels);
    scoreInto(queries.q2, keys.scoringKeys('cols'), queries, heap.f32(ptr2, total * cols), kernels);
    return productKeyTopk(
      kernels,
      heap.f32(ptr1, total * rows),
      heap.f32(ptr2, total * cols),
      total,
      rows,
      cols,
      k,
    );
  } finally {
    heap.free(ptr1);
    heap.free(ptr2);
  }
}

/**
 * Differentiable gate logits of the selected experts, [tokens * heads, k]: q1 . C1[i] + q2 . C2[j].
 * The forward value is the retrieval score itself (the same float32 sums top-k ranked), so it costs nothing;
 * the backward touches only the k selected sub-key rows per query (sparse scatters) instead of the dense
 * [queries, rows] score matrix a matmul gradient would build.
 */
export function selectedLogits(
  queries: PeerQueries,
  keys: SubKeyCodebooks,
  selection: ExpertSelection,
  kernels: PeerKernels,
): tf.Tensor2D {
  const { k } = selection;
  const total = queries.heads * queries.tokens;
  const { rows, cols, half, keyHeads } = keys;
  const c1 = keys.rowKeys().reshape([keyHeads * rows, half]); // [KH, R, h] -> [KH*R, h]
  const c2 = keys.columns.reshape([keyHeads * cols, half]); // [KH, C, h] -> [KH*C, h]
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, 4) as tf.Tensor[];
    (args[4] as tf.GradSaveFunc)(inputs);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [q1, q2, k1, k2] = saved.map((t) => Float32Array.from(readTensorSync(t))) as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      const dScores = Float32Array.from(readTensorSync(dy));
      const n = total * k;
      const queryOf = new Int32Array(n);
      const rowOf = new Int32Array(n);
      const colOf = new Int32Array(n);
      for (let s = 0; s < n; s++) {
        const q = Math.floor(s / k);
        const kh = keyHeads === 1 ? 0 : q % keyHeads;
        queryOf[s] = q;
        rowOf[s] = kh * rows + (selection.rowIndex[s] ?? 0);
        colOf[s] = kh * cols + (selection.colIndex[s] ?? 0);
      }
      // d(q . c)/dq = c and /dc = q, summed over the selected pairs.
      const dq1 = new Float32Array(total * half);
      const dq2 = new Float32Array(total * half);
      const dk1 = new Float32Array(keyHeads * rows * half);
      const dk2 = new Float32Array(keyHeads * cols * half);
      kernels.scatterRank1(dq1, half, queryOf, dScores, k1, rowOf, n);
      kernels.scatterRank1(dq2, half, queryOf, dScores, k2, colOf, n);
      kernels.scatterRank1(dk1, half, rowOf, dScores, q1, queryOf, n);
      kernels.scatterRank1(dk2, half, colOf, dScores, q2, queryOf, n);
      return [
        tf.tensor2d(dq1, [total, half]),
        tf.tensor2d(dq2, [total, half]),
        tf.tensor2d(dk1, [keyHeads * rows, half]),
        tf.tensor2d(dk2, [keyHeads * cols, half]),
      ];
    };
    return { value: tf.tensor2d(selection.scores, [total, k]), gradFunc };
  });
  return op(queries.q1, queries.q2, c1, c2) as tf.Tensor2D;
}
