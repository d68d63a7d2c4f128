import * as tf from '@tensorflow/tfjs';
import { PeerConfigError } from '../errors/peer-error.js';
import type { PeerClassifier } from '../models/classifier.js';
import { adapterEmbedding } from './adapter-embedding.js';
import type { AdapterRegistry } from './adapter-registry.js';
import type { LoraAdapter } from './lora-adapter.js';
import { type AdapterMix, adaptedLogits } from './lora-forward.js';

/** One adapter named by the client, with its mixing weight. */
export interface ExplicitAdapterChoice {
  readonly name: string;
  /** Latest version when omitted. */
  readonly version?: string;
  readonly weight: number;
}

/** What a prediction uses: no adapter, retrieval by key, or exactly the named ones (DESIGN §3). */
export type AdapterSelection = 'none' | 'auto' | readonly ExplicitAdapterChoice[];

/** Settings of `auto` retrieval. */
export interface AutoRetrievalOptions {
  /** Adapters mixed per input (default 1: the best match only). */
  readonly topK?: number;
  /** Softmax temperature over cosine scores (default 0.1: scores in [-1, 1] need sharpening to choose). */
  readonly temperature?: number;
}

/**
 * `auto` mixing weights (LoraRetriever, Zhao et al. 2024): per row, the cosine similarity of its embedding to
 * each adapter's key, the top-k adapters kept and weighted by softmax(score / temperature); the rest get 0.
 * Adapters without a key are never retrieved. `embeddings` is [rows, dim] row-major.
 */
export function autoMix(
  embeddings: Float32Array,
  dim: number,
  candidates: readonly LoraAdapter[],
  options: AutoRetrievalOptions = {},
): AdapterMix {
  const topK = options.topK ?? 1;
  const temperature = options.temperature ?? 0.1;
  if (!Number.isInteger(topK) || topK < 1) throw new PeerConfigError('topK', 'an integer >= 1', topK);
  if (!(temperature > 0)) throw new PeerConfigError('temperature', '> 0', temperature);
  const adapters = candidates.filter((a) => a.key && a.key.length === dim);
  const rows = embeddings.length / dim;
  const weights = new Float32Array(rows * adapters.length);
  const norm = (v: ArrayLike<number>, from: number) => {
    let s = 0;
    for (let i = 0; i < dim; i++) s += (v[from + i] ?? 0) ** 2;
    return Math.sqrt(s) || 1;
  };
  const keyNorms = adapters.map((a) => norm(a.key ?? [], 0));
  for (let r = 0; r < rows; r++) {
    const rowNorm = norm(embeddings, r * dim);
    const scores = adapters.map((a, j) => {
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += (embeddings[r * dim + i] ?? 0) * (a.key?.[i] ?? 0);
      return { j, score: dot / (rowNorm * (keyNorms[j] ?? 1)) };
    });
    // Ties go to the earlier adapter: a deterministic choice.
    const top = scores.sort((p, q) => q.score - p.score || p.j - q.j).slice(0, topK);
    const max = top[0]?.score ?? 0;
    const exps = top.map((t) => Math.exp((t.score - max) / temperature));
    const total = exps.reduce((a, b) => a + b, 0);
    top.forEach((t, i) => {
      weights[r * adapters.length + t.j] = (exps[i] ?? 0) / total;
    });
  }
  return { adapters, weights };
}

/** Exactly the named adapters, each with its given weight on every row. */
export function explicitMix(
  registry: AdapterRegistry,
  choices: readonly ExplicitAdapterChoice[],
  rows: number,
): AdapterMix {
  const adapters = choices.map((c) => registry.get(c.name, c.version));
  choices.forEach((c, i) => {
    if (!Number.isFinite(c.weight))
      throw new PeerConfigError(`adapters[${i}].weight`, 'a finite number', c.weight);
  });
  const weights = new Float32Array(rows * adapters.length);
  for (let r = 0; r < rows; r++) {
    for (const [i, c] of choices.entries()) weights[r * adapters.length + i] = c.weight;
  }
  return { adapters, weights };
}

/** The mix a selection resolves to for inputs x (null for `none` or when `auto` finds no keyed adapter). */
export async function selectAdapters(
  model: PeerClassifier,
  registry: AdapterRegistry,
  x: tf.Tensor2D,
  selection: AdapterSelection,
  options: AutoRetrievalOptions = {},
): Promise<AdapterMix | null> {
  if (selection === 'none') return null;
  if (selection !== 'auto') return explicitMix(registry, selection, x.shape[0]);
  const e = adapterEmbedding(model, x);
  const values = Float32Array.from(await e.data());
  const dim = e.shape[1];
  e.dispose();
  const mix = autoMix(values, dim, registry.latest(), options);
  return mix.adapters.length > 0 ? mix : null;
}

/** A prediction with adapters, and which adapters it used (mean weight over the rows). */
export interface AdapterPrediction {
  readonly classes: Int32Array;
  /** [rows, classes] row-major. */
  readonly probabilities: Float32Array;
  readonly used: readonly { readonly id: string; readonly meanWeight: number }[];
}

/** Predicts with the selected adapters mixed in (asynchronous reads only). */
export async function predictWithAdapters(
  model: PeerClassifier,
  registry: AdapterRegistry,
  x: tf.Tensor2D,
  options: { selection: AdapterSelection; task?: number; auto?: AutoRetrievalOptions },
): Promise<AdapterPrediction> {
  const mix = await selectAdapters(model, registry, x, options.selection, options.auto);
  const [probs, best] = tf.tidy(() => {
    const p = tf.softmax(adaptedLogits(model, x, mix, { task: options.task ?? 0 }));
    return [p, tf.argMax(p, 1)];
  });
  try {
    const [probabilities, classes] = await Promise.all([probs.data(), best.data()]);
    const rows = x.shape[0];
    const used = (mix?.adapters ?? []).map((a, j) => {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += mix?.weights[r * (mix?.adapters.length ?? 1) + j] ?? 0;
      return { id: a.id, meanWeight: rows === 0 ? 0 : sum / rows };
    });
    return { classes: Int32Array.from(classes), probabilities: Float32Array.from(probabilities), used };
  } finally {
    tf.dispose([probs, best]);
  }
}
