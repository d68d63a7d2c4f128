import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/index.js';
import { ExpertUsage } from '../../../src/metrics/expert-usage.js';
import { FffFeedForward } from '../../../src/models/ffn/fff-feed-forward.js';
import { decisionEntropy, descendTree, softLeafProbabilities } from '../../../src/models/ffn/fff-tree.js';
import { createRandom } from '../../../src/util/random.js';
import { geluScalar } from '../naive-reference.js';
import { expectAllClose } from './expect-close.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

/** The tree walked recursively: returns the leaf reached and the product of soft decisions on each path. */
function referenceTree(logits: number[], depth: number) {
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  const probs = new Float64Array(2 ** depth);
  const walk = (node: number, level: number, leaf: number, p: number): void => {
    if (level === depth) {
      probs[leaf] = p;
      return;
    }
    const right = sigmoid(logits[node] ?? 0);
    walk(2 * node + 1, level + 1, 2 * leaf, p * (1 - right));
    walk(2 * node + 2, level + 1, 2 * leaf + 1, p * right);
  };
  walk(0, 0, 0, 1);
  let node = 0;
  let leaf = 0;
  for (let level = 0; level < depth; level++) {
    const right = (logits[node] ?? 0) > 0;
    leaf = 2 * leaf + (right ? 1 : 0);
    node = 2 * node + (right ? 2 : 1);
  }
  return { leaf, probs };
}

const d = 5;
const make = () => {
  const fff = new FffFeedForward(
    d,
    { depth: 3, leafWidth: 4 },
    { rng: createRandom(1), std: 0.7, outStd: 0.7 },
  );
  fff.leafBias.assign(tf.tensor2d(createRandom(2).fillNormal(new Float32Array(8 * d), 0.3), [8, d]));
  return fff;
};
const input = (tokens: number, seed = 3) =>
  tf.tensor2d(createRandom(seed).fillNormal(new Float32Array(tokens * d), 1), [tokens, d]);

/** leaf_ℓ(x) in float64 from the layer's weights. */
function leafReference(fff: FffFeedForward, x: number[], leaf: number): number[] {
  const w = fff.config.leafWidth;
  const w1 = fff.up.weight.arraySync() as number[][];
  const b1 = (fff.up.bias?.arraySync() ?? []) as number[];
  const w2 = fff.down.weight.arraySync() as number[][];
  const b2 = (fff.leafBias.arraySync() as number[][])[leaf] ?? [];
  const hidden = Array.from({ length: w }, (_, j) =>
    geluScalar(x.reduce((s, v, i) => s + v * (w1[i]?.[leaf * w + j] ?? 0), b1[leaf * w + j] ?? 0)),
  );
  return Array.from({ length: d }, (_, c) =>
    hidden.reduce((s, h, j) => s + h * (w2[leaf * w + j]?.[c] ?? 0), b2[c] ?? 0),
  );
}

describe('FFF tree math', () => {
  it('descends to the same leaf as a recursive walk, and soft leaf probabilities are the path products', () => {
    const depth = 4;
    const nodes = 2 ** depth - 1;
    const tokens = 20;
    const logits = createRandom(5).fillNormal(new Float32Array(tokens * nodes), 2);
    const leaves = descendTree(logits, tokens, depth);
    const soft = tf.tidy(() =>
      softLeafProbabilities(tf.tensor2d(logits, [tokens, nodes]), depth).arraySync(),
    );
    for (let t = 0; t < tokens; t++) {
      const ref = referenceTree(Array.from(logits.subarray(t * nodes, (t + 1) * nodes)), depth);
      expect(leaves[t]).toBe(ref.leaf);
      expectAllClose(soft[t] ?? [], ref.probs, 6);
      expect(soft[t]?.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
  });

  it('hardening loss is the mean binary entropy: ln 2 at logit 0, → 0 for confident decisions', () => {
    tf.tidy(() => {
      expect(decisionEntropy(tf.zeros([3, 7])).dataSync()[0]).toBeCloseTo(Math.LN2, 6);
      expect(decisionEntropy(tf.fill([2, 3], 30)).dataSync()[0]).toBeLessThan(1e-6);
    });
  });
});

describe('FffFeedForward', () => {
  it('inference runs each token through its one descended leaf, equal to a straightforward reference', () => {
    const fff = make();
    const x = input(12);
    const usage = new ExpertUsage(8);
    fff.usage = usage;
    tf.tidy(() => {
      const got = fff.apply(x, false).arraySync() as number[][];
      const logits = fff.nodes.apply(x).arraySync() as number[][];
      const xs = x.arraySync() as number[][];
      const reached = new Set<number>();
      got.forEach((row, t) => {
        const { leaf } = referenceTree(logits[t] ?? [], 3);
        reached.add(leaf);
        const ref = leafReference(fff, xs[t] ?? [], leaf);
        expectAllClose(row, ref, 5);
      });
      expect(reached.size).toBeGreaterThan(1); // several leaves exercised
      expect(usage.stats().usedExperts).toBe(reached.size);
    });
    x.dispose();
    fff.dispose();
  });

  it('training is the soft mixture Σ_ℓ P(ℓ|x) leaf_ℓ(x), differentiable in nodes and every leaf', () => {
    const fff = make();
    const x = input(6);
    tf.tidy(() => {
      const got = fff.apply(x, true).arraySync() as number[][];
      const logits = fff.nodes.apply(x).arraySync() as number[][];
      const xs = x.arraySync() as number[][];
      got.forEach((row, t) => {
        const { probs } = referenceTree(logits[t] ?? [], 3);
        const ref = new Float64Array(d);
        for (let l = 0; l < probs.length; l++) {
          const out = leafReference(fff, xs[t] ?? [], l);
          for (let c = 0; c < d; c++) ref[c] = (ref[c] ?? 0) + (probs[l] ?? 0) * (out[c] ?? 0);
        }
        expectAllClose(row, ref, 5);
      });
      const { value, grads } = tf.variableGrads(() => {
        const { output, auxLoss } = fff.applyWithLoss(x, true);
        return output.square().mean().add(auxLoss) as tf.Scalar;
      }, fff.trainableVariables());
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      for (const v of fff.trainableVariables()) {
        expect(
          tf
            .abs(grads[v.name] ?? tf.scalar(0))
            .sum()
            .dataSync()[0],
        ).toBeGreaterThan(0);
      }
      // Each leaf's slice of the first layer receives gradient (soft routing reaches all of them).
      const dUp = grads[fff.up.weight.name]?.abs().sum(0).reshape([8, 4]).sum(1).arraySync() as number[];
      for (const g of dUp) expect(g).toBeGreaterThan(0);
    });
    x.dispose();
    fff.dispose();
  });

  it('has node-weight gradients equal to central finite differences of the soft loss', () => {
    const fff = make();
    const x = input(4);
    const loss = () =>
      tf.tidy(() => {
        const { output, auxLoss } = fff.applyWithLoss(x, true);
        return output.square().sum().add(auxLoss) as tf.Scalar;
      });
    const analytic = tf.tidy(() => {
      const { grads } = tf.variableGrads(loss, [fff.nodes.weight]);
      return Array.from(grads[fff.nodes.weight.name]?.dataSync() ?? []);
    });
    const base = Float32Array.from(fff.nodes.weight.dataSync());
    const eps = 1e-2;
    for (let i = 0; i < base.length; i += 3) {
      const at = (delta: number) => {
        const w = Float32Array.from(base);
        w[i] = (w[i] ?? 0) + delta;
        fff.nodes.weight.assign(tf.tensor2d(w, fff.nodes.weight.shape));
        return tf.tidy(() => loss().dataSync()[0] ?? 0);
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      expect(Math.abs((analytic[i] ?? 0) - fd)).toBeLessThan(5e-3 + 2e-2 * Math.abs(fd));
    }
    fff.nodes.weight.assign(tf.tensor2d(base, fff.nodes.weight.shape));
    x.dispose();
    fff.dispose();
  });

  it('leaks no tensors across training and inference', () => {
    const fff = make();
    const x = input(10);
    const step = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () => fff.applyWithLoss(x, true).output.mean() as tf.Scalar,
          fff.trainableVariables(),
        );
        tf.dispose(grads);
        fff.apply(x, false);
      });
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    fff.dispose();
  });
});
