import { type AdapterMix, adaptedLogits, type ClassifierPrediction, type PeerClassifier } from '@peer/core';
import { tf } from '@peer/core/backend';

/** A linear module of a classifier (core does not export its `Dense` class by name). */
type Dense = PeerClassifier['input'];

/**
 * Inference with LoRA adapters mixed in, reading tensors asynchronously and reporting which experts fired:
 * the forward of core `adaptedLogits` (y = x W + b + Σ_a w[n, a] · scale_a · x A_aᵀ B_aᵀ at every targeted
 * linear module), but with PEER blocks run through `PeerLayer.applyAsync` — the small-batch serving path,
 * which also returns the retrievals that `explain` needs. Without a mix it is `predictAsync`.
 *
 * Adapters can only target dense modules (input, dense FFNs, heads; DESIGN §3). A model whose adapters
 * target its dense FFN blocks has no PEER block to explain, so that case runs core `adaptedLogits` itself.
 */
export async function predictWithMix(
  model: PeerClassifier,
  x: tf.Tensor2D,
  mix: AdapterMix | null,
  task: number,
): Promise<ClassifierPrediction> {
  if (!mix || mix.adapters.length === 0) return model.predictAsync(x, { task });
  if (targetsBlocks(mix)) return denseAdapted(model, x, mix, task);
  const head = model.heads[task];
  if (!head) return model.predictAsync(x, { task }); // the model names the bad task in its error
  const n = x.shape[0];
  const weights = tf.tensor2d(mix.weights, [n, mix.adapters.length]);
  const linear = (name: string, dense: Dense, h: tf.Tensor2D): tf.Tensor2D =>
    tf.tidy(() => {
      let y = dense.apply(h);
      mix.adapters.forEach((adapter, a) => {
        const delta = adapter.delta(name, h);
        if (delta) y = y.add(delta.mul(weights.slice([0, a], [-1, 1]))); // [n, out] * [n, 1]
      });
      return y;
    });
  let hidden: tf.Tensor2D | undefined;
  try {
    const blocks = await model.blocksAsync(linear('input', model.input, x)); // [n, inDim] -> [n, d]
    hidden = blocks.hidden;
    const finalH = hidden;
    const probs = tf.tidy(() => tf.softmax(linear(`heads.${task}`, head, model.finalNorm.apply(finalH))));
    return { ...(await readPrediction(probs as tf.Tensor2D)), retrievals: blocks.retrievals };
  } finally {
    tf.dispose(hidden ? [hidden, weights] : [weights]);
  }
}

/** Whether any adapter of the mix targets a dense FFN block (`blocks.<i>.ffn.*`). */
function targetsBlocks(mix: AdapterMix): boolean {
  return mix.adapters.some((a) => [...a.modules.keys()].some((m) => m.startsWith('blocks.')));
}

async function denseAdapted(
  model: PeerClassifier,
  x: tf.Tensor2D,
  mix: AdapterMix,
  task: number,
): Promise<ClassifierPrediction> {
  const probs = tf.tidy(() => tf.softmax(adaptedLogits(model, x, mix, { task })) as tf.Tensor2D);
  return { ...(await readPrediction(probs)), retrievals: [] };
}

/** Reads (and disposes) probabilities [n, classes] and their arg-max. */
async function readPrediction(probs: tf.Tensor2D): Promise<Omit<ClassifierPrediction, 'retrievals'>> {
  const best = tf.argMax(probs, 1);
  try {
    const [probabilities, classes] = await Promise.all([probs.data(), best.data()]);
    return { classes: Int32Array.from(classes), probabilities: Float32Array.from(probabilities) };
  } finally {
    tf.dispose([probs, best]);
  }
}
