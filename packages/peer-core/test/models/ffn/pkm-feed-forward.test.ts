import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/index.js';
import { ExpertUsage } from '../../../src/metrics/expert-usage.js';
import { PkmFeedForward } from '../../../src/models/ffn/pkm-feed-forward.js';
import { bruteForceTopk } from '../../../src/retrieval/brute-force-topk.js';
import { createRandom } from '../../../src/util/random.js';
import { expectAllClose } from './expect-close.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const d = 8;
const config = { heads: 2, topK: 3, dKey: 6, subKeyRows: 5, subKeyCols: 4 } as const;
const input = (tokens: number) =>
  tf.tensor2d(createRandom(9).fillNormal(new Float32Array(tokens * d), 1), [tokens, d]);

/** Every key scored (no product-key shortcut): [tokens * heads] rows of N = rows · cols scores, float64. */
function allScores(pkm: PkmFeedForward, x: tf.Tensor2D) {
  const { heads, subKeyRows: rows, subKeyCols: cols, dKey } = config;
  const half = dKey / 2;
  const [q1, q2] = pkm.query.apply(x, false).map((q) => q.arraySync() as number[][]);
  const c1 = pkm.keys.rowKeys().reshape([rows, half]).arraySync() as number[][];
  const c2 = pkm.keys.columns.reshape([cols, half]).arraySync() as number[][];
  const dot = (a: number[] = [], b: number[] = []) => a.reduce((s, v, i) => s + v * (b[i] ?? 0), 0);
  const queries = x.shape[0] * heads;
  const s1 = new Float32Array(queries * rows);
  const s2 = new Float32Array(queries * cols);
  for (let q = 0; q < queries; q++) {
    for (let i = 0; i < rows; i++) s1[q * rows + i] = dot(q1?.[q], c1[i]);
    for (let j = 0; j < cols; j++) s2[q * cols + j] = dot(q2?.[q], c2[j]);
  }
  return { s1, s2, queries };
}

describe('PkmFeedForward', () => {
  it('retrieves exactly the brute-force top-k over all N = rows · cols keys', () => {
    const pkm = new PkmFeedForward(d, config, { seed: 1 });
    const x = input(7);
    tf.tidy(() => {
      const { s1, s2, queries } = allScores(pkm, x);
      const brute = bruteForceTopk(s1, s2, queries, config.subKeyRows, config.subKeyCols, config.topK);
      const { selection } = pkm.retrieve(x, false);
      expect(Array.from(selection.ids)).toEqual(Array.from(brute.ids));
    });
    x.dispose();
    pkm.dispose();
  });

  it('outputs Σ_heads Σ_i softmax(top-k scores)_i · V[id_i], as a dense reference computes it', () => {
    const pkm = new PkmFeedForward(d, config, { seed: 2 });
    const x = input(5);
    tf.tidy(() => {
      const { s1, s2, queries } = allScores(pkm, x);
      const { subKeyRows: rows, subKeyCols: cols, topK: k, heads } = config;
      const values = pkm.values.arraySync() as number[][];
      const reference = Array.from({ length: 5 }, () => new Float64Array(d));
      for (let q = 0; q < queries; q++) {
        const all: [number, number][] = [];
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < cols; j++)
            all.push([(s1[q * rows + i] ?? 0) + (s2[q * cols + j] ?? 0), i * cols + j]);
        all.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        const top = all.slice(0, k);
        const m = top[0]?.[0] ?? 0;
        const z = top.reduce((s, [v]) => s + Math.exp(v - m), 0);
        const out = reference[Math.floor(q / heads)] ?? new Float64Array(d);
        for (const [v, id] of top)
          for (let c = 0; c < d; c++) out[c] = (out[c] ?? 0) + (Math.exp(v - m) / z) * (values[id]?.[c] ?? 0);
      }
      const got = pkm.apply(x, false).arraySync() as number[][];
      expectAllClose(got, reference, 5);
    });
    x.dispose();
    pkm.dispose();
  });

  it('trains the query network, the sub-keys and only the retrieved value rows', () => {
    const pkm = new PkmFeedForward(d, config, { seed: 3 });
    const x = input(4);
    tf.tidy(() => {
      const { selection } = pkm.retrieve(x, true);
      const { grads } = tf.variableGrads(
        () => pkm.apply(x, true).square().sum() as tf.Scalar,
        pkm.trainableVariables(),
      );
      const dv = grads[pkm.values.name]?.arraySync() as number[][];
      const picked = new Set(selection.ids);
      dv.forEach((row, id) => {
        const norm = row.reduce((s, v) => s + Math.abs(v), 0);
        if (!picked.has(id)) expect(norm).toBe(0);
      });
      expect([...picked].some((id) => (dv[id] ?? []).some((v) => v !== 0))).toBe(true);
      for (const v of [...pkm.keys.variables(), pkm.query.halves[0].weight]) {
        expect(
          tf
            .abs(grads[v.name] ?? tf.scalar(0))
            .sum()
            .dataSync()[0],
        ).toBeGreaterThan(0);
      }
    });
    x.dispose();
    pkm.dispose();
  });

  it('records every retrieved (value id, weight) pair in inference and leaks no tensors', () => {
    const pkm = new PkmFeedForward(d, config, { seed: 4 });
    const x = input(6);
    pkm.usage = new ExpertUsage(pkm.numExperts);
    const run = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () => pkm.apply(x, true).mean() as tf.Scalar,
          pkm.trainableVariables(),
        );
        tf.dispose(grads);
        pkm.apply(x, false);
      });
    run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    expect(pkm.usage.stats().totalMass).toBeCloseTo(2 * 6 * config.heads, 4); // two inference passes
    x.dispose();
    pkm.dispose();
  });
});
