import * as tf from '@tensorflow/tfjs';
import { PeerConfigError, PeerShapeError } from '../errors/peer-error.js';
import type { PeerLayer, PeerRetrieval } from '../layer/peer-layer.js';
import { createRandom } from '../util/random.js';
import { classMask } from './class-mask.js';
import {
  type ClassifierConfig,
  type ClassifierConfigInput,
  parseClassifierConfig,
} from './classifier-config.js';
import { type Labels, softmaxCrossEntropy } from './cross-entropy.js';
import { Dense } from './dense.js';
import { collectPeerLayers, createFeedForward, type FeedForward, PeerFeedForward } from './feed-forward.js';
import { LayerNorm } from './layer-norm.js';
import { peerLayerConfig } from './parse-config.js';

/** Construction options of {@link PeerClassifier}. */
export interface ClassifierOptions {
  /** Seed of every initial parameter (default 0). */
  readonly seed?: number;
}

/** Options of {@link PeerClassifier.logits} and {@link PeerClassifier.loss}. */
export interface ClassifierCallOptions {
  /** Which task head to use (default 0). */
  readonly task?: number;
  /** Training mode: query batch-norm uses batch statistics and PEER layers collect expert gradients. */
  readonly training?: boolean;
}

/** What {@link PeerClassifier.predictAsync} returns; `retrievals` has one entry per PEER block. */
export interface ClassifierPrediction {
  /** Arg-max class per row, [n]. */
  readonly classes: Int32Array;
  /** Softmax probabilities, [n, classes] row-major. */
  readonly probabilities: Float32Array;
  /** Which experts fired in each PEER block, with their gates. */
  readonly retrievals: PeerRetrieval[];
}

interface Block {
  readonly norm: LayerNorm;
  readonly ffn: FeedForward;
}

/**
 * A classifier of vectors: dense input projection -> pre-LN residual blocks h = h + FFN(LN(h)) with a PEER
 * layer as FFN -> final LN -> a linear head per task. The final LN is the pre-LN convention (GPT-2's
 * `ln_f`): without it the head sees the raw residual stream, whose scale grows with depth.
 *
 * @example
 * const model = new PeerClassifier({ inDim: 16, classes: 10, peer: { subKeyRows: 32, subKeyCols: 32 } });
 * const loss = model.loss(x, labels, { training: true });
 */
export class PeerClassifier {
  readonly config: ClassifierConfig;
  readonly input: Dense;
  readonly blocks: readonly Block[];
  readonly finalNorm: LayerNorm;
  readonly heads: readonly Dense[];
  /** Additive logit masks of heads restricted to some classes (see {@link setActiveClasses}). */
  private readonly masks = new Map<number, tf.Tensor1D>();

  constructor(configInput: ClassifierConfigInput, options: ClassifierOptions = {}) {
    const c = parseClassifierConfig(configInput);
    this.config = c;
    const peer = peerLayerConfig(c.peer, c.dModel);
    const rng = createRandom(options.seed ?? 0);
    this.input = new Dense(c.inDim, c.dModel, rng);
    const blocks: Block[] = [];
    for (let b = 0; b < c.blocks; b++) {
      const norm = new LayerNorm(c.dModel, c.layerNormEpsilon);
      const hidden = c.denseMultiplier * c.dModel;
      blocks.push({ norm, ffn: createFeedForward({ kind: c.ffn, dModel: c.dModel, hidden, peer, rng }) });
    }
    this.blocks = blocks;
    this.finalNorm = new LayerNorm(c.dModel, c.layerNormEpsilon);
    const heads: Dense[] = [];
    for (let t = 0; t < c.taskHeads; t++) heads.push(new Dense(c.dModel, c.classes, rng));
    this.heads = heads;
  }

  /** Logits [n, classes] of inputs x [n, inDim] under the head of `task`. Differentiable. */
  logits(x: tf.Tensor2D, options: ClassifierCallOptions = {}): tf.Tensor2D {
    this.head(options.task ?? 0); // an unknown task is a typed error before any forward work
    return tf.tidy(() => this.headLogits(this.features(x, options), options.task ?? 0));
  }

  /**
   * What every head reads: the final-normalised hidden state [n, dModel] of inputs x [n, inDim]. A training
   * step that scores one batch under several heads (replay across tasks, LwF's distillation term) runs this
   * once and {@link headLogits} per head. Differentiable.
   */
  features(x: tf.Tensor2D, options: { readonly training?: boolean } = {}): tf.Tensor2D {
    this.checkInput(x);
    return tf.tidy(() => {
      let h = this.input.apply(x); // [n, inDim] -> [n, d]
      for (const { norm, ffn } of this.blocks) h = h.add(ffn.apply(norm.apply(h), options.training ?? false));
      return this.finalNorm.apply(h);
    });
  }

  /** Logits [n, classes] of {@link features} under the head of `task`, its active-class mask applied. */
  headLogits(features: tf.Tensor2D, task: number): tf.Tensor2D {
    const head = this.head(task);
    return tf.tidy(() => {
      const out = head.apply(features); // [n, d] -> [n, classes]
      const mask = this.masks.get(task);
      return mask ? out.add(mask) : out;
    });
  }

  /**
   * Restricts a head to `classes` (the "active classes" of class-incremental learning, van de Ven & Tolias
   * 2019): the other outputs get no probability in {@link logits}, losses and predictions, and so no gradient.
   * `null` makes every class active again. A runtime setting, not a parameter: serialization ignores it.
   */
  setActiveClasses(task: number, classes: readonly number[] | null): void {
    this.head(task);
    this.masks.get(task)?.dispose();
    this.masks.delete(task);
    if (classes) this.masks.set(task, classMask(this.config.classes, classes));
  }

  /** Mean softmax cross-entropy (nats) of inputs x [n, inDim] against integer labels [n]. */
  loss(x: tf.Tensor2D, labels: Labels, options: ClassifierCallOptions = {}): tf.Scalar {
    return tf.tidy(() => softmaxCrossEntropy(this.logits(x, options), labels));
  }

  /**
   * Inference with asynchronous reads (request paths): classes, probabilities and, per PEER block, which
   * experts fired. Dense blocks run as plain tensor ops.
   */
  async predictAsync(x: tf.Tensor2D, options: { task?: number } = {}): Promise<ClassifierPrediction> {
    const head = this.head(options.task ?? 0);
    this.checkInput(x);
    const { hidden, retrievals } = await this.blocksAsync(this.input.apply(x));
    let probs: tf.Tensor2D | undefined;
    let best: tf.Tensor1D | undefined;
    try {
      const mask = this.masks.get(options.task ?? 0);
      probs = tf.tidy(() => {
        const logits = head.apply(this.finalNorm.apply(hidden));
        return tf.softmax(mask ? logits.add(mask) : logits) as tf.Tensor2D;
      });
      best = tf.argMax(probs, 1) as tf.Tensor1D;
      const [probabilities, classes] = await Promise.all([probs.data(), best.data()]);
      return {
        classes: Int32Array.from(classes),
        probabilities: Float32Array.from(probabilities),
        retrievals,
      };
    } finally {
      tf.dispose([hidden, ...(probs ? [probs] : []), ...(best ? [best] : [])]);
    }
  }

  /**
   * The residual blocks in inference mode, h = h + FFN(LN(h)) per block, with PEER blocks on their
   * asynchronous serving path; returns the last hidden state [n, d] and which experts each PEER block
   * retrieved. Takes ownership of `h` (it is disposed, also on error).
   */
  async blocksAsync(h: tf.Tensor2D): Promise<{ hidden: tf.Tensor2D; retrievals: PeerRetrieval[] }> {
    const retrievals: PeerRetrieval[] = [];
    let current = h;
    try {
      for (const { norm, ffn } of this.blocks) {
        const normed = norm.apply(current);
        let out: tf.Tensor2D;
        try {
          if (ffn instanceof PeerFeedForward) {
            const result = await ffn.layer.applyAsync(normed);
            retrievals.push(result.retrieval);
            out = result.output;
          } else {
            out = ffn.apply(normed, false);
          }
        } finally {
          normed.dispose();
        }
        const next = current.add(out) as tf.Tensor2D;
        tf.dispose([current, out]);
        current = next;
      }
      return { hidden: current, retrievals };
    } catch (error) {
      current.dispose();
      throw error;
    }
  }

  /** Variables a tfjs optimizer should train (frozen ones excluded; expert tables are not variables). */
  trainableVariables(): tf.Variable[] {
    return [
      ...this.input.trainableVariables(),
      ...this.blocks.flatMap(({ norm, ffn }) => [...norm.trainableVariables(), ...ffn.trainableVariables()]),
      ...this.finalNorm.trainableVariables(),
      ...this.heads.flatMap((h) => h.trainableVariables()),
    ];
  }

  /** The PEER layer of every PEER block, in block order. */
  peerLayers(): PeerLayer[] {
    return collectPeerLayers(this.blocks.map((b) => b.ffn));
  }

  /** The validated config (JSON-serialisable) the model was built from. */
  getConfig(): ClassifierConfig {
    return structuredClone(this.config);
  }

  /** Frees every variable and expert table. */
  dispose(): void {
    this.input.dispose();
    for (const { norm, ffn } of this.blocks) {
      norm.dispose();
      ffn.dispose();
    }
    this.finalNorm.dispose();
    for (const h of this.heads) h.dispose();
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
  }

  private head(task: number): Dense {
    const head = Number.isInteger(task) ? this.heads[task] : undefined;
    if (!head) throw new PeerConfigError('task', `an integer in [0, ${this.heads.length - 1}]`, task);
    return head;
  }

  private checkInput(x: tf.Tensor2D): void {
    if (x.rank !== 2 || x.shape[1] !== this.config.inDim) {
      throw new PeerShapeError(`classifier input must be [n, ${this.config.inDim}], but got [${x.shape}]`);
    }
  }
}
