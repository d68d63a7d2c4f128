import {
  type AdapterMix,
  adapterEmbedding,
  autoMix,
  type PeerClassifier,
  PeerFeedForward,
  PrototypeClassifier,
  prototypeFeatures,
  type SavedPrototypes,
} from '@peer/core';
import type { tf } from '@peer/core/backend';
import { predictWithMix } from './adapted-forward.js';
import type { AdapterSet, ServedAdapter } from './adapter-set.js';

/** An adapter named by the client: its head, or a version by sequence number or id; weight default 1. */
export interface AdapterChoice {
  readonly name: string;
  readonly version?: number | string | undefined;
  readonly weight?: number | undefined;
}

/** Which adapters a prediction uses (DESIGN §3). */
export type AdapterRequest = 'none' | 'auto' | readonly AdapterChoice[];

/** One input's class and class probabilities. */
export interface PredictOutput {
  readonly class: number;
  readonly probabilities: number[];
}

/** Why one input got its output: the experts of every head of every PEER layer, and the adapters mixed in. */
export interface ExplainEntry {
  readonly layers: {
    readonly layer: string;
    readonly heads: { readonly experts: { id: number; row: number; col: number; gate: number }[] }[];
  }[];
  readonly adapters: {
    readonly name: string;
    readonly version: number;
    readonly versionId: string;
    /** Cosine similarity of the input's embedding to the adapter's key (null: the adapter has no key). */
    readonly score: number | null;
    readonly weight: number;
  }[];
}

/** Outputs (and explanations) of a batch. */
export interface Prediction {
  readonly outputs: PredictOutput[];
  readonly explain?: ExplainEntry[];
}

interface ResolvedMix {
  readonly mix: AdapterMix | null;
  readonly served: readonly ServedAdapter[];
  /** [rows, dim] embeddings when computed (auto, or explain with keyed adapters). */
  readonly embedding: { values: Float32Array; dim: number } | null;
}

/** What {@link predictBatch} runs with besides the model and inputs. */
export interface PredictBatchOptions {
  readonly task: number;
  readonly adapters: AdapterRequest;
  readonly explain: boolean;
  readonly set: AdapterSet | undefined;
  /** The version's class prototypes, joined to the head's prediction as its training job measured it. */
  readonly prototypes?: SavedPrototypes | null;
}

/**
 * Runs one batch `x` [n, inDim] through a loaded model with the requested adapters and shapes the response:
 * per input the arg-max class and probabilities (corrected by the version's class prototypes when given),
 * and with `explain` the experts (id, sub-key grid row/col, gate) per head per PEER layer plus the adapters
 * used with their scores and mixing weights.
 */
export async function predictBatch(
  model: PeerClassifier,
  x: tf.Tensor2D,
  options: PredictBatchOptions,
): Promise<Prediction> {
  const resolved = await resolveMix(model, x, options.adapters, options.set, options.explain);
  let prediction = await predictWithMix(model, x, resolved.mix, options.task);
  const saved = options.prototypes;
  if (saved) {
    // Features from the base model: the centroids were taken without adapters.
    const features = await prototypeFeatures(model, x, saved.settings.space);
    const classifier = new PrototypeClassifier(model, saved.prototypes, {
      ...saved.settings,
      streamClasses: saved.streamClasses,
    });
    prediction = await classifier.combine(prediction, features);
  }
  const n = x.shape[0];
  const classes = prediction.probabilities.length / Math.max(1, n);
  const outputs: PredictOutput[] = [];
  for (let r = 0; r < n; r++) {
    outputs.push({
      class: prediction.classes[r] ?? 0,
      probabilities: Array.from(prediction.probabilities.subarray(r * classes, (r + 1) * classes)),
    });
  }
  if (!options.explain) return { outputs };
  const layers = peerLayerGrids(model);
  const explain: ExplainEntry[] = [];
  for (let r = 0; r < n; r++) {
    explain.push({
      layers: prediction.retrievals.map((retrieval, i) => {
        const { name, cols } = layers[i] ?? { name: `peer.${i}`, cols: 1 };
        const heads = [];
        for (let h = 0; h < retrieval.heads; h++) {
          const experts = [];
          for (let j = 0; j < retrieval.k; j++) {
            const at = (r * retrieval.heads + h) * retrieval.k + j; // [tokens, heads, k] flattened
            const id = retrieval.ids[at] ?? 0;
            // Expert (i, j) of the product-key grid has id i * cols + j (He 2024; core `productKeyTopk`).
            experts.push({ id, row: Math.floor(id / cols), col: id % cols, gate: retrieval.gates[at] ?? 0 });
          }
          heads.push({ experts });
        }
        return { layer: name, heads };
      }),
      adapters: adaptersOfRow(resolved, r),
    });
  }
  return { outputs, explain };
}

/** Name (`blocks.<i>.peer`, the serialization prefix) and grid width of each PEER layer, in block order. */
export function peerLayerGrids(model: PeerClassifier): { name: string; rows: number; cols: number }[] {
  const out: { name: string; rows: number; cols: number }[] = [];
  model.blocks.forEach(({ ffn }, i) => {
    if (ffn instanceof PeerFeedForward) {
      out.push({ name: `blocks.${i}.peer`, rows: ffn.layer.keys.rows, cols: ffn.layer.keys.cols });
    }
  });
  return out;
}

async function resolveMix(
  model: PeerClassifier,
  x: tf.Tensor2D,
  request: AdapterRequest,
  set: AdapterSet | undefined,
  explain: boolean,
): Promise<ResolvedMix> {
  if (request === 'none' || !set) return { mix: null, served: [], embedding: null };
  const n = x.shape[0];
  if (request === 'auto') {
    const candidates = set.candidates();
    if (candidates.length === 0) return { mix: null, served: [], embedding: null };
    const embedding = await embed(model, x);
    const mix = autoMix(
      embedding.values,
      embedding.dim,
      candidates.map((c) => c.adapter),
    );
    const byAdapter = new Map(candidates.map((c) => [c.adapter, c]));
    const served = mix.adapters.map((a) => byAdapter.get(a)).filter((s) => s !== undefined);
    return { mix: mix.adapters.length > 0 ? mix : null, served, embedding };
  }
  const served = await Promise.all(request.map((c) => set.choose(c.name, c.version)));
  const weights = new Float32Array(n * served.length);
  for (let r = 0; r < n; r++) {
    request.forEach((c, j) => {
      weights[r * served.length + j] = c.weight ?? 1;
    });
  }
  const keyed = explain && served.some((s) => s.adapter.key !== null);
  const embedding = keyed ? await embed(model, x) : null;
  return { mix: { adapters: served.map((s) => s.adapter), weights }, served, embedding };
}

async function embed(model: PeerClassifier, x: tf.Tensor2D): Promise<{ values: Float32Array; dim: number }> {
  const e = adapterEmbedding(model, x);
  try {
    return { values: Float32Array.from(await e.data()), dim: e.shape[1] };
  } finally {
    e.dispose();
  }
}

function adaptersOfRow(resolved: ResolvedMix, r: number): ExplainEntry['adapters'] {
  const { mix, served, embedding } = resolved;
  if (!mix) return [];
  const count = mix.adapters.length;
  const out: ExplainEntry['adapters'][number][] = [];
  served.forEach((s, j) => {
    const weight = mix.weights[r * count + j] ?? 0;
    if (weight === 0) return; // auto keeps only the top-k per input
    const key = s.adapter.key;
    const score = embedding && key && key.length === embedding.dim ? cosine(embedding, r, key) : null;
    out.push({ name: s.name, version: s.seq, versionId: s.versionId, score, weight });
  });
  return out;
}

/** Cosine similarity of embedding row `r` to `key`, as core `autoMix` scores it. */
function cosine(embedding: { values: Float32Array; dim: number }, r: number, key: Float32Array): number {
  const { values, dim } = embedding;
  let dot = 0;
  let nx = 0;
  let nk = 0;
  for (let i = 0; i < dim; i++) {
    const v = values[r * dim + i] ?? 0;
    const k = key[i] ?? 0;
    dot += v * k;
    nx += v * v;
    nk += k * k;
  }
  return dot / ((Math.sqrt(nx) || 1) * (Math.sqrt(nk) || 1));
}
