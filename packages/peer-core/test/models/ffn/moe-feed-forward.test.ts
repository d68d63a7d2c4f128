import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/index.js';
import { PeerConfigError } from '../../../src/errors/peer-error.js';
import { ExpertUsage } from '../../../src/metrics/expert-usage.js';
import { MoeFeedForward } from '../../../src/models/ffn/moe-feed-forward.js';
import { gelu } from '../../../src/models/gelu.js';
import { createRandom } from '../../../src/util/random.js';
import { expectAllClose } from './expect-close.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const d = 6;
const make = (noisy = true) => {
  const moe = new MoeFeedForward(
    d,
    { experts: 4, topK: 2, expertHidden: 5, noisy },
    { rng: createRandom(1), seed: 2 },
  );
  // The router starts at zero (Shazeer et al. App. A); give it a signal so tokens spread over experts.
  moe.wGate.assign(tf.tensor2d(createRandom(3).fillNormal(new Float32Array(d * 4), 1), [d, 4]));
  return moe;
};
const input = (tokens: number, seed = 4) =>
  tf.tensor2d(createRandom(seed).fillNormal(new Float32Array(tokens * d), 1), [tokens, d]);

describe('MoeFeedForward', () => {
  it('equals the dense reference Σ_e G(x)_e · expert_e(x) (running every expert on every token)', () => {
    const moe = make();
    const x = input(9);
    tf.tidy(() => {
      const out = moe.apply(x, false);
      const logits = tf.matMul(x, moe.wGate).arraySync() as number[][];
      const reference = tf.zeros([9, d]).arraySync() as number[][];
      const expertOut = moe.experts.map((e) => e.down.apply(gelu(e.up.apply(x))).arraySync() as number[][]);
      logits.forEach((row, t) => {
        const top = row
          .map((v, i) => [v, i] as const)
          .sort((a, b) => b[0] - a[0] || a[1] - b[1])
          .slice(0, 2);
        const z = top.reduce((s, [v]) => s + Math.exp(v - (top[0]?.[0] ?? 0)), 0);
        for (const [v, e] of top) {
          const g = Math.exp(v - (top[0]?.[0] ?? 0)) / z;
          for (let j = 0; j < d; j++) {
            const r = reference[t] ?? [];
            r[j] = (r[j] ?? 0) + g * (expertOut[e]?.[t]?.[j] ?? 0);
          }
        }
      });
      const got = out.arraySync() as number[][];
      expectAllClose(got, reference, 5);
    });
    x.dispose();
    moe.dispose();
  });

  it('runs only the chosen experts: an expert no token picked gets no gradient', () => {
    const moe = make(false);
    // Make expert 3 lose every token: a very negative router column.
    moe.wGate.assign(tf.concat([moe.wGate.slice([0, 0], [d, 3]), tf.fill([d, 1], -50)], 1) as tf.Tensor2D);
    const x = tf.abs(input(8));
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const { output, auxLoss } = moe.applyWithLoss(x, true);
        return output.square().mean().add(auxLoss) as tf.Scalar;
      }, moe.trainableVariables());
      const unused = moe.experts[3]?.up.weight.name ?? '';
      const used = moe.experts.map((e) => e.up.weight.name).filter((n) => n !== unused);
      expect(grads[unused]).toBeUndefined();
      for (const n of used) {
        const g = grads[n];
        expect(g && tf.abs(g).sum().dataSync()[0]).toBeGreaterThan(0);
      }
      expect(grads[moe.wGate.name]).toBeDefined();
    });
    x.dispose();
    moe.dispose();
  });

  it('adds a positive balancing loss in training and none in inference; records usage in inference', () => {
    const moe = make();
    const x = input(16);
    const usage = new ExpertUsage(4);
    moe.usage = usage;
    tf.tidy(() => {
      expect(moe.applyWithLoss(x, true).auxLoss.dataSync()[0]).toBeGreaterThan(0);
      expect(moe.applyWithLoss(x, false).auxLoss.dataSync()[0]).toBe(0);
    });
    const stats = usage.stats();
    expect(stats.totalMass).toBeCloseTo(16, 4); // inference only: 16 tokens, gates sum to 1 each
    expect(stats.usedExperts).toBeGreaterThan(1);
    x.dispose();
    moe.dispose();
  });

  it('rejects top-k above the expert count', () => {
    expect(() => new MoeFeedForward(4, { experts: 2, topK: 3 }, { rng: createRandom(0) })).toThrow(
      PeerConfigError,
    );
  });

  it('leaks no tensors across training and inference forwards', () => {
    const moe = make();
    const x = input(12);
    const step = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const { output, auxLoss } = moe.applyWithLoss(x, true);
          return output.square().mean().add(auxLoss) as tf.Scalar;
        }, moe.trainableVariables());
        tf.dispose(grads);
        moe.apply(x, false);
      });
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    moe.dispose();
  });
});
