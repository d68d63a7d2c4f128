import * as tf from '@tensorflow/tfjs';
import type { Random } from '../util/random.js';
import { Dense } from './dense.js';

const maskCache = new Map<number, Float32Array>();

/** Additive causal mask [T, T]: 0 where key <= query, -1e9 above the diagonal (exp underflows to 0). */
function causalMaskValues(length: number): Float32Array {
  let mask = maskCache.get(length);
  if (!mask) {
    mask = new Float32Array(length * length);
    for (let q = 0; q < length; q++) for (let k = q + 1; k < length; k++) mask[q * length + k] = -1e9;
    maskCache.set(length, mask);
  }
  return mask;
}

/**
 * Causal multi-head self-attention (Vaswani et al. 2017; nanoGPT's CausalSelfAttention) on the residual
 * stream flattened to [B*T, d]. The projections are 2-D `fastMatMul`s. The scores and the weighted sum are
 * batched matMuls over B*H, which wasm runs on its slow path (~1 GFLOP/s against ~15 for plain 2-D, DESIGN
 * §8): at T = 64, d = 64 they are 2·2·T²·d = 1 MFLOP per sequence, half the projections' 2·T·4d² = 2 MFLOP,
 * but ~8x their time, and they grow as T². Fine for a test-scale LM; at long contexts rewrite them as
 * per-head 2-D matMuls or a kernel.
 */
export class CausalSelfAttention {
  /** Fused q, k, v projection [d, 3d]: one matMul instead of three. */
  readonly qkv: Dense;
  readonly proj: Dense;
  readonly headDim: number;

  /** @param outStd init std of the output projection (GPT-2 scales residual outputs by 1/sqrt(2·layers)). */
  constructor(
    readonly dModel: number,
    readonly heads: number,
    rng: Random,
    std: number,
    outStd: number,
  ) {
    this.headDim = dModel / heads;
    this.qkv = new Dense(dModel, 3 * dModel, rng, { std });
    this.proj = new Dense(dModel, dModel, rng, { std: outStd });
  }

  /** x [batch * length, d] (row-major [B, T, d]) -> [batch * length, d]; position t sees positions <= t. */
  apply(x: tf.Tensor2D, batch: number, length: number): tf.Tensor2D {
    const { dModel: d, heads: h, headDim: hd } = this;
    return tf.tidy(() => {
      const [q, k, v] = tf.split(this.qkv.apply(x), 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const toHeads = (t: tf.Tensor2D): tf.Tensor3D =>
        t
          .reshape([batch, length, h, hd]) // [B*T, d] -> [B, T, H, hd]
          .transpose([0, 2, 1, 3]) // -> [B, H, T, hd]
          .reshape([batch * h, length, hd]); // -> [B*H, T, hd]
      const kT = toHeads(k).transpose([0, 2, 1]) as tf.Tensor3D; // [B*H, T, hd] -> [B*H, hd, T]
      const scores = tf.matMul(toHeads(q), kT).mul(1 / Math.sqrt(hd)); // -> [B*H, T, T]
      const mask = tf.tensor2d(causalMaskValues(length), [length, length]);
      const att = tf.softmax(scores.add(mask)); // softmax over keys, masked keys get weight 0
      const y = tf.matMul(att, toHeads(v)); // [B*H, T, T] x [B*H, T, hd] -> [B*H, T, hd]
      const merged = y
        .reshape([batch, h, length, hd]) // [B*H, T, hd] -> [B, H, T, hd]
        .transpose([0, 2, 1, 3]) // -> [B, T, H, hd]
        .reshape([batch * length, d]) as tf.Tensor2D; // -> [B*T, d]
      return this.proj.apply(merged);
    });
  }

  trainableVariables(): tf.Variable[] {
    return [...this.qkv.trainableVariables(), ...this.proj.trainableVariables()];
  }

  dispose(): void {
    this.qkv.dispose();
    this.proj.dispose();
  }
}
