import * as tf from '@tensorflow/tfjs';
import { PeerConfigError } from '../../errors/peer-error.js';
import type { ExpertUsage } from '../../metrics/expert-usage.js';
import { createRandom, type Random } from '../../util/random.js';
import { readTensorSync } from '../../util/read-tensor.js';
import { Dense } from '../dense.js';
import type { FeedForward } from '../feed-forward.js';
import { gelu } from '../gelu.js';
import { constantVariable } from '../param-init.js';
import { parseConfig } from '../parse-config.js';
import { type MoeBlockConfig, type MoeBlockConfigInput, moeBlockSchema } from './ffn-configs.js';
import { balancingLoss, noisyTopKGating } from './moe-gating.js';
import { groupByExpert, runDispatched } from './sparse-dispatch.js';

/** Construction options of {@link MoeFeedForward}. */
export interface MoeOptions {
  /** Draws the experts' initial weights. */
  readonly rng: Random;
  /** Seed of the router noise ε (training only): same seed, same routing. */
  readonly seed?: number;
  readonly std?: number;
  readonly outStd?: number;
}

/**
 * A coarse sparsely-gated mixture of experts in a feed-forward slot (Shazeer et al. 2017): a noisy top-k
 * softmax router over `experts` GELU MLPs; each token runs only its top-k experts (top-2 as in Mixtral and
 * Grok-1), weighted by the renormalised gates. Training adds w_imp·CV(Importance)² + w_load·CV(Load)².
 *
 * @example const moe = new MoeFeedForward(64, { experts: 8, topK: 2 }, { rng: createRandom(0) });
 */
export class MoeFeedForward implements FeedForward {
  readonly config: MoeBlockConfig;
  /** W_g and W_noise [d, experts], zero-initialised as in Shazeer et al. 2017 App. A (balanced at the start). */
  readonly wGate: tf.Variable<tf.Rank.R2>;
  readonly wNoise: tf.Variable<tf.Rank.R2> | undefined;
  readonly experts: readonly { readonly up: Dense; readonly down: Dense }[];
  usage: ExpertUsage | undefined;
  private readonly noiseRng: Random;

  constructor(dModel: number, config: MoeBlockConfigInput, options: MoeOptions) {
    const c = parseConfig(moeBlockSchema, config);
    if (c.topK > c.experts) throw new PeerConfigError('moe.topK', `<= moe.experts (${c.experts})`, c.topK);
    if (c.noisy && c.topK === c.experts) {
      throw new PeerConfigError('moe.topK', `< moe.experts (${c.experts}) when noisy`, c.topK);
    }
    this.config = c;
    this.wGate = constantVariable([dModel, c.experts], 0);
    this.wNoise = c.noisy ? constantVariable([dModel, c.experts], 0) : undefined;
    const { rng, std, outStd } = options;
    this.experts = Array.from({ length: c.experts }, () => ({
      up: new Dense(dModel, c.expertHidden, rng, std === undefined ? {} : { std }),
      down: new Dense(c.expertHidden, dModel, rng, outStd === undefined ? {} : { std: outStd }),
    }));
    this.noiseRng = createRandom(options.seed ?? 0);
  }

  get numExperts(): number {
    return this.config.experts;
  }

  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => this.applyWithLoss(x, training).output);
  }

  /** Output [tokens, d] and the balancing loss (0 in inference, where there is no noise to shape). */
  applyWithLoss(x: tf.Tensor2D, training: boolean): { output: tf.Tensor2D; auxLoss: tf.Scalar } {
    const { experts, topK, importanceWeight, loadWeight } = this.config;
    const tokens = x.shape[0];
    const noisy = training && this.wNoise !== undefined;
    return tf.tidy(() => {
      const gating = noisyTopKGating({
        x,
        wGate: this.wGate,
        k: topK,
        ...(noisy && this.wNoise
          ? { wNoise: this.wNoise, noise: this.noiseRng.fillNormal(new Float32Array(tokens * experts), 1) }
          : {}),
      });
      const dispatch = groupByExpert(gating.topIds, tokens, topK, experts);
      const flatGates = gating.gates.reshape([tokens * experts]) as tf.Tensor1D; // [T, E] -> [T*E]
      if (this.usage && !training) this.recordUsage(gating.topIds, flatGates, tokens);
      const output = runDispatched(
        x,
        dispatch,
        (e, rows) => {
          const ex = this.experts[e];
          if (!ex) throw new PeerConfigError('expert', `< ${experts}`, e);
          return ex.down.apply(gelu(ex.up.apply(rows))); // [n_e, d] -> [n_e, hidden] -> [n_e, d]
        },
        flatGates,
      );
      const auxLoss = training ? balancingLoss(gating, importanceWeight, loadWeight) : tf.scalar(0);
      return { output, auxLoss };
    });
  }

  trainableVariables(): tf.Variable[] {
    const router = this.wNoise ? [this.wGate, this.wNoise] : [this.wGate];
    const experts = this.experts.flatMap((e) => [
      ...e.up.trainableVariables(),
      ...e.down.trainableVariables(),
    ]);
    return [...router.filter((v) => v.trainable), ...experts];
  }

  dispose(): void {
    this.wGate.dispose();
    this.wNoise?.dispose();
    for (const e of this.experts) {
      e.up.dispose();
      e.down.dispose();
    }
  }

  private recordUsage(topIds: Int32Array, flatGates: tf.Tensor1D, tokens: number): void {
    const gates = readTensorSync(flatGates);
    const { experts } = this.config;
    const picked = new Float32Array(topIds.length);
    const k = topIds.length / tokens;
    for (let i = 0; i < topIds.length; i++) {
      picked[i] = gates[Math.floor(i / k) * experts + (topIds[i] ?? 0)] ?? 0;
    }
    this.usage?.add({ ids: topIds, gates: picked });
  }
}
