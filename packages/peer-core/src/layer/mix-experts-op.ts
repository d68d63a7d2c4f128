import * as tf from '@tensorflow/tfjs';
import { PeerShapeError } from '../errors/peer-error.js';
import type { ActivationCode, PeerKernels } from '../kernels/peer-kernels.js';
import { readTensorSync } from '../util/read-tensor.js';
import type { ExpertGradientSink } from './expert-gradients.js';
import type { ExpertTables } from './expert-tables.js';

export interface MixExpertsContext {
  readonly kernels: PeerKernels;
  readonly tables: ExpertTables;
  readonly activation: ActivationCode;
  /** Receives the factored table gradients of each backward pass; omit when the tables do not train. */
  readonly sink?: ExpertGradientSink;
}

/**
 * y[t] = sum_s gates[t,s] * act(U[ids[t,s]] . x[t]) * V[ids[t,s]]  — differentiable in `x` and `gates`.
 * `ids` [tokens, slots] are constants (top-k indices carry no gradient). The tables' gradients leave through
 * `ctx.sink` as rank-1 factors rather than as dense tensors, which tfjs would have to zero-fill at [N, d].
 */
export function mixExperts(
  x: tf.Tensor2D,
  gates: tf.Tensor2D,
  ids: Int32Array,
  ctx: MixExpertsContext,
): tf.Tensor2D {
  const [tokens, d] = x.shape;
  const slots = gates.shape[1];
  if (gates.shape[0] !== tokens || ids.length !== tokens * slots || d !== ctx.tables.d) {
    throw new PeerShapeError(
      `mixExperts: x [${x.shape}], gates [${gates.shape}], ids ${ids.length}, table width ${ctx.tables.d}`,
    );
  }
  const op = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, gatesIn] = inputs as [tf.Tensor, tf.Tensor];
    const xData = Float32Array.from(readTensorSync(xIn));
    const gateData = Float32Array.from(readTensorSync(gatesIn));
    const { out, preact } = runForward(xData, gateData, ids, tokens, slots, ctx);
    const gradFunc = (dyIn: tf.Tensor): tf.Tensor[] => {
      const dy = Float32Array.from(readTensorSync(dyIn));
      const dx = new Float32Array(tokens * d);
      const dgates = new Float32Array(tokens * slots);
      const coefU = new Float32Array(tokens * slots);
      const coefV = new Float32Array(tokens * slots);
      ctx.kernels.expertsBackward({
        x: xData,
        dy,
        tokens,
        d,
        ids,
        gates: gateData,
        slots,
        u: ctx.tables.u,
        v: ctx.tables.v,
        preact,
        activation: ctx.activation,
        dx,
        dgates,
        coefU,
        coefV,
      });
      ctx.sink?.push({ tokens, slots, d, ids, coefU, coefV, x: xData, dy });
      return [tf.tensor2d(dx, [tokens, d]), tf.tensor2d(dgates, [tokens, slots])];
    };
    return { value: tf.tensor2d(out, [tokens, d]), gradFunc };
  });
  return op(x, gates) as tf.Tensor2D;
}

/** The same forward on plain arrays, for inference paths that read tensors asynchronously. */
export function mixExpertsForward(
  xData: Float32Array,
  gateData: Float32Array,
  ids: Int32Array,
  tokens: number,
  slots: number,
  ctx: MixExpertsContext,
): Float32Array {
  return runForward(xData, gateData, ids, tokens, slots, ctx).out;
}

/** Output [tokens, d] and pre-activations [tokens, slots] (kept for the backward). */
function runForward(
  xData: Float32Array,
  gateData: Float32Array,
  ids: Int32Array,
  tokens: number,
  slots: number,
  ctx: MixExpertsContext,
): { out: Float32Array; preact: Float32Array } {
  const d = ctx.tables.d;
  const out = new Float32Array(tokens * d);
  const preact = new Float32Array(tokens * slots);
  ctx.kernels.expertsForward({
    x: xData,
    tokens,
    d,
    ids,
    gates: gateData,
    slots,
    u: ctx.tables.u,
    v: ctx.tables.v,
    activation: ctx.activation,
    out,
    preact,
  });
  return { out, preact };
}
