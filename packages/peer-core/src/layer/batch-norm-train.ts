import * as tf from '@tensorflow/tfjs';
import { readTensorSync } from '../util/read-tensor.js';

/** Training-mode batch norm of `x` [rows, cols] over its rows, and the batch statistics it used. */
export interface BatchNormResult {
  /** gamma * (x - mean) / sqrt(variance + eps) + beta, differentiable in x, gamma and beta. */
  readonly y: tf.Tensor2D;
  /** Per-column mean and biased variance (what BN's running averages take), as plain arrays. */
  readonly mean: Float32Array;
  readonly variance: Float32Array;
}

/**
 * Batch norm with batch statistics as one op, forward and backward in plain loops with float64 sums.
 * tfjs composes it from moments and broadcasts, whose gradient reduces [rows, cols] over rows several times;
 * on wasm every such Sum/Mean over axis 0 transposes first, which cost ~25 ms of a 512-token PEER train step
 * (more than the experts). Here it is ~3 ms. Textbook gradient (Ioffe & Szegedy 2015), with xhat = (x-mean)*r:
 *   dbeta = sum_rows dy,  dgamma = sum_rows dy * xhat,  dx = gamma * r / n * (n dy - dbeta - xhat dgamma).
 */
export function batchNormTrain(
  x: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): BatchNormResult {
  const [n, cols] = x.shape;
  const mean = new Float32Array(cols);
  const variance = new Float32Array(cols);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, gt, bt] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
    // Copies: heap views die at the next tfjs op.
    const xs = Float32Array.from(readTensorSync(xt));
    const g = Float32Array.from(readTensorSync(gt));
    const b = Float32Array.from(readTensorSync(bt));
    const sum = new Float64Array(cols);
    for (let r = 0; r < n; r++)
      for (let c = 0, o = r * cols; c < cols; c++) sum[c] = (sum[c] as number) + (xs[o + c] as number);
    for (let c = 0; c < cols; c++) mean[c] = (sum[c] as number) / n;
    const squares = new Float64Array(cols);
    for (let r = 0; r < n; r++)
      for (let c = 0, o = r * cols; c < cols; c++) {
        const v = (xs[o + c] as number) - (mean[c] as number);
        squares[c] = (squares[c] as number) + v * v;
      }
    const rstd = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      variance[c] = (squares[c] as number) / n;
      rstd[c] = 1 / Math.sqrt((variance[c] as number) + eps);
    }
    // xs becomes xhat in place (kept for the backward); y = gamma * xhat + beta.
    const y = new Float32Array(n * cols);
    for (let r = 0; r < n; r++)
      for (let c = 0, o = r * cols; c < cols; c++) {
        const h = ((xs[o + c] as number) - (mean[c] as number)) * (rstd[c] as number);
        xs[o + c] = h;
        y[o + c] = (g[c] as number) * h + (b[c] as number);
      }
    const gradFunc = (dyT: tf.Tensor): tf.Tensor[] => {
      const dy = readTensorSync(dyT);
      const dbeta = new Float64Array(cols);
      const dgamma = new Float64Array(cols);
      for (let r = 0; r < n; r++)
        for (let c = 0, o = r * cols; c < cols; c++) {
          const d = dy[o + c] as number;
          dbeta[c] = (dbeta[c] as number) + d;
          dgamma[c] = (dgamma[c] as number) + d * (xs[o + c] as number);
        }
      const dx = new Float32Array(n * cols);
      for (let r = 0; r < n; r++)
        for (let c = 0, o = r * cols; c < cols; c++) {
          const k = ((g[c] as number) * (rstd[c] as number)) / n;
          dx[o + c] =
            k *
            (n * (dy[o + c] as number) -
              (dbeta[c] as number) -
              (xs[o + c] as number) * (dgamma[c] as number));
        }
      return [
        tf.tensor2d(dx, [n, cols]),
        tf.tensor1d(Float32Array.from(dgamma)),
        tf.tensor1d(Float32Array.from(dbeta)),
      ];
    };
    return { value: tf.tensor2d(y, [n, cols]), gradFunc };
  });
  return { y: op(x, gamma, beta) as tf.Tensor2D, mean, variance };
}
