import * as tf from '@tensorflow/tfjs';
import { fastMatMul } from '../backend/fast-matmul.js';
import { PeerConfigError } from '../errors/peer-error.js';
import type { PeerLayer } from '../layer/peer-layer.js';
import { createRandom, type Random } from '../util/random.js';
import { CausalSelfAttention } from './causal-attention.js';
import { CharEmbedding } from './char-embedding.js';
import {
  type CharTransformerConfig,
  type CharTransformerConfigInput,
  parseCharTransformerConfig,
} from './char-transformer-config.js';
import { softmaxCrossEntropy } from './cross-entropy.js';
import { Dense } from './dense.js';
import { collectPeerLayers, createFeedForward, type FeedForward } from './feed-forward.js';
import { LayerNorm } from './layer-norm.js';
import { peerLayerConfig } from './parse-config.js';
import { TransformerBlock } from './transformer-block.js';

/** Builds the FFN of block `index`; lets other layer kinds plug in without a config enum. */
export type FeedForwardFactory = (index: number, dModel: number, rng: Random) => FeedForward | undefined;

/** Construction options of {@link CharTransformer}. */
export interface CharTransformerOptions {
  /** Seed of every initial parameter (default 0). */
  readonly seed?: number;
  /** Overrides the FFN of any block for which it returns one. */
  readonly feedForward?: FeedForwardFactory;
}

/** A batch of token windows: `tokens` is row-major [batch, length]. */
export interface TokenBatch {
  readonly tokens: Int32Array;
  readonly batch: number;
}

/**
 * A character-level transformer LM (nanoGPT): token + learned position embeddings, pre-LN blocks of causal
 * self-attention and an FFN, final LN, tied or untied output. The middle block's FFN is dense, PEER, or a
 * baseline of the PEER paper's comparison (MoE, PKM, FFF).
 * Caveat: in training mode a PEER FFN's query batch-norm takes statistics over all B*T tokens, later
 * positions included — a small leak of the future into training-time routing (inference uses running
 * statistics and is strictly causal). LN-style or running-only query normalisation would remove it.
 *
 * @example
 * const lm = new CharTransformer({ vocabSize: 65, ffn: 'peer' });
 * const nats = lm.loss({ tokens, batch: 8 }, { training: true }); // tokens: [8, contextLength + 1]
 */
export class CharTransformer {
  readonly config: CharTransformerConfig;
  readonly embedding: CharEmbedding;
  readonly blocks: readonly TransformerBlock[];
  readonly finalNorm: LayerNorm;
  /** Untied output projection [d, V]; undefined when tied to the token embedding. */
  readonly output: Dense | undefined;

  constructor(configInput: CharTransformerConfigInput, options: CharTransformerOptions = {}) {
    const c = parseCharTransformerConfig(configInput);
    this.config = c;
    const rng = createRandom(options.seed ?? 0);
    const std = c.initStd;
    const outStd = c.initStd / Math.sqrt(2 * c.layers);
    const peer = peerLayerConfig(c.peer, c.dModel);
    const middle = Math.floor(c.layers / 2);
    this.embedding = new CharEmbedding(c.vocabSize, c.contextLength, c.dModel, rng, std);
    const blocks: TransformerBlock[] = [];
    for (let i = 0; i < c.layers; i++) {
      const attention = new CausalSelfAttention(c.dModel, c.heads, rng, std, outStd);
      const ffn =
        options.feedForward?.(i, c.dModel, rng) ??
        createFeedForward({
          kind: i === middle ? c.ffn : 'dense',
          dModel: c.dModel,
          hidden: c.ffnMultiplier * c.dModel,
          peer,
          moe: c.moe,
          pkm: c.pkm,
          fff: c.fff,
          rng,
          std,
          outStd,
        });
      blocks.push(new TransformerBlock(attention, ffn, c.layerNormEpsilon));
    }
    this.blocks = blocks;
    this.finalNorm = new LayerNorm(c.dModel, c.layerNormEpsilon);
    this.output = c.tiedEmbeddings ? undefined : new Dense(c.dModel, c.vocabSize, rng, { std, bias: false });
  }

  /** Next-token logits [batch * length, vocab] of token windows [batch, length]. Differentiable. */
  logits(input: TokenBatch, options: { training?: boolean } = {}): tf.Tensor2D {
    return tf.tidy(() => this.forward(input, options.training ?? false).logits);
  }

  /** Logits plus the sum of the FFNs' auxiliary losses (MoE balancing, FFF hardening; 0 without any). */
  forward(input: TokenBatch, training: boolean): { logits: tf.Tensor2D; auxLoss: tf.Scalar } {
    const { batch, length } = this.shapeOf(input, 1, this.config.contextLength);
    return tf.tidy(() => {
      let h = this.embedding.apply(input.tokens, batch, length); // [B*T, d]
      let auxLoss: tf.Scalar = tf.scalar(0);
      for (const block of this.blocks) {
        const out = block.forward(h, batch, length, training);
        h = out.output;
        if (out.auxLoss) auxLoss = auxLoss.add(out.auxLoss);
      }
      const final = this.finalNorm.apply(h);
      const logits = this.output
        ? this.output.apply(final) // [B*T, d] -> [B*T, V]
        : fastMatMul(final, this.embedding.tokens, false, true); // [B*T, d] x [V, d]ᵀ -> [B*T, V]
      return { logits, auxLoss };
    });
  }

  /**
   * Mean next-character cross-entropy in nats of windows [batch, length + 1]: positions 0..length-1 are
   * the input, 1..length the targets. In training mode the FFNs' auxiliary losses are added (the
   * objective minimised); inference mode returns the cross-entropy alone.
   */
  loss(windows: TokenBatch, options: { training?: boolean } = {}): tf.Scalar {
    const { batch, length } = this.shapeOf(windows, 2, this.config.contextLength + 1);
    const inputs = new Int32Array(batch * (length - 1));
    const targets = new Int32Array(batch * (length - 1));
    for (let b = 0; b < batch; b++) {
      const row = windows.tokens.subarray(b * length, (b + 1) * length);
      inputs.set(row.subarray(0, length - 1), b * (length - 1)); // [B, T+1] -> [B, T]
      targets.set(row.subarray(1), b * (length - 1));
    }
    const training = options.training ?? false;
    return tf.tidy(() => {
      const { logits, auxLoss } = this.forward({ tokens: inputs, batch }, training);
      const ce = softmaxCrossEntropy(logits, targets);
      return training ? ce.add(auxLoss) : ce;
    });
  }

  /** Bits per character of windows [batch, length + 1] in inference mode (asynchronous read). */
  async bitsPerChar(windows: TokenBatch): Promise<number> {
    const nats = this.loss(windows, { training: false });
    const [value] = await nats.data();
    nats.dispose();
    return natsToBits(value ?? Number.NaN);
  }

  /**
   * PreciseBN for the FFNs' query batch-norms: sets their running statistics to the exact statistics of their
   * inputs on token windows [batch, length] (use training text), block by block in inference mode. After a
   * short training the running averages lag the weights and inference routes to other experts than training
   * did; the PEER paper's long runs let them converge.
   */
  recalibrateNorms(input: TokenBatch): void {
    const { batch, length } = this.shapeOf(input, 1, this.config.contextLength);
    tf.tidy(() => {
      let h = this.embedding.apply(input.tokens, batch, length); // [B*T, d]
      for (const block of this.blocks) h = block.recalibrate(h, batch, length);
    });
  }

  trainableVariables(): tf.Variable[] {
    return [
      ...this.embedding.trainableVariables(),
      ...this.blocks.flatMap((b) => b.trainableVariables()),
      ...this.finalNorm.trainableVariables(),
      ...(this.output?.trainableVariables() ?? []),
    ];
  }

  /** The PEER layers inside (the middle block's when `ffn` is 'peer'). */
  peerLayers(): PeerLayer[] {
    return collectPeerLayers(this.blocks.map((b) => b.ffn));
  }

  /** The validated config (JSON-serialisable). */
  getConfig(): CharTransformerConfig {
    return structuredClone(this.config);
  }

  dispose(): void {
    this.embedding.dispose();
    for (const b of this.blocks) b.dispose();
    this.finalNorm.dispose();
    this.output?.dispose();
  }

  private shapeOf(
    input: TokenBatch,
    minLength: number,
    maxLength: number,
  ): { batch: number; length: number } {
    const { tokens, batch } = input;
    if (!Number.isInteger(batch) || batch < 1) throw new PeerConfigError('batch', 'an integer >= 1', batch);
    const length = tokens.length / batch;
    if (!Number.isInteger(length) || length < minLength || length > maxLength) {
      throw new PeerConfigError(
        'tokens.length / batch',
        `an integer in [${minLength}, ${maxLength}]`,
        length,
      );
    }
    return { batch, length };
  }
}

/** Converts a cross-entropy in nats to bits (bits per character when the loss is per character). */
export function natsToBits(nats: number): number {
  return nats / Math.LN2;
}
