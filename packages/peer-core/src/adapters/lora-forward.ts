import * as tf from '@tensorflow/tfjs';
import { PeerConfigError, PeerShapeError } from '../errors/peer-error.js';
import type { PeerClassifier } from '../models/classifier.js';
import type { Dense } from '../models/dense.js';
import { DenseFeedForward } from '../models/feed-forward.js';
import { gelu } from '../models/gelu.js';
import type { LinearShape, LoraAdapter } from './lora-adapter.js';

/**
 * The linear modules of a classifier that adapters can target, by name: `input`, `blocks.<i>.ffn.up` and
 * `blocks.<i>.ffn.down` (dense blocks) and `heads.<t>`. PEER layers have no dense weight to adapt: their
 * capacity grows by experts instead.
 */
export function classifierLinearModules(model: PeerClassifier): Map<string, Dense> {
  const out = new Map<string, Dense>([['input', model.input]]);
  model.blocks.forEach(({ ffn }, i) => {
    if (ffn instanceof DenseFeedForward) {
      out.set(`blocks.${i}.ffn.up`, ffn.up);
      out.set(`blocks.${i}.ffn.down`, ffn.down);
    }
  });
  for (const [t, head] of model.heads.entries()) out.set(`heads.${t}`, head);
  return out;
}

/** Shapes of the named modules of a classifier, to build an adapter for them. */
export function linearShapes(model: PeerClassifier, names: readonly string[]): Record<string, LinearShape> {
  const modules = classifierLinearModules(model);
  const out: Record<string, LinearShape> = {};
  for (const name of names) {
    const m = modules.get(name);
    if (!m) throw new PeerConfigError('targetModules', `names among ${[...modules.keys()].join(', ')}`, name);
    out[name] = { inDim: m.inDim, outDim: m.outDim };
  }
  return out;
}

/** Adapters applied to a batch, with a per-row mixing weight: `weights` is [rows, adapters] row-major. */
export interface AdapterMix {
  readonly adapters: readonly LoraAdapter[];
  readonly weights: Float32Array;
}

/**
 * The classifier's logits with adapters mixed in at every targeted linear module: per row n,
 * y_n = x_n W + b + sum_a weights[n, a] * scale_a x_n A_a^T B_a^T. Mixing module outputs per input is how
 * LoraRetriever composes retrieved adapters (Zhao et al. 2024, "mixture"). The forward mirrors
 * `PeerClassifier.logits` (input -> pre-LN residual blocks -> final LN -> head); with no adapters it equals it.
 */
export function adaptedLogits(
  model: PeerClassifier,
  x: tf.Tensor2D,
  mix: AdapterMix | null,
  options: { task?: number; training?: boolean } = {},
): tf.Tensor2D {
  const task = options.task ?? 0;
  const head = model.heads[task];
  if (!head) throw new PeerConfigError('task', `an integer in [0, ${model.heads.length - 1}]`, task);
  const adapters = mix?.adapters ?? [];
  if (mix && mix.weights.length !== x.shape[0] * adapters.length) {
    throw new PeerShapeError(
      `adapter weights: ${mix.weights.length} values for ${x.shape[0]} rows x ${adapters.length} adapters`,
    );
  }
  return tf.tidy(() => {
    const w = mix && adapters.length > 0 ? tf.tensor2d(mix.weights, [x.shape[0], adapters.length]) : null;
    const linear = (name: string, dense: Dense, h: tf.Tensor2D): tf.Tensor2D => {
      let y = dense.apply(h);
      adapters.forEach((adapter, a) => {
        const delta = adapter.delta(name, h);
        if (delta && w) y = y.add(delta.mul(w.slice([0, a], [-1, 1]))); // [n, out] * [n, 1]
      });
      return y;
    };
    const training = options.training ?? false;
    let h = linear('input', model.input, x); // [n, inDim] -> [n, d]
    model.blocks.forEach(({ norm, ffn }, i) => {
      const a = norm.apply(h);
      const out =
        ffn instanceof DenseFeedForward
          ? linear(`blocks.${i}.ffn.down`, ffn.down, gelu(linear(`blocks.${i}.ffn.up`, ffn.up, a)))
          : ffn.apply(a, training);
      h = h.add(out);
    });
    return linear(`heads.${task}`, head, model.finalNorm.apply(h)); // [n, d] -> [n, classes]
  });
}
