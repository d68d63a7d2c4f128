import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { defaultNativeAddon } from '../../src/kernels/default-kernels.js';
import { CausalSelfAttention } from '../../src/models/causal-attention.js';
import { composedGelu, gelu } from '../../src/models/gelu.js';
import { composedLayerNorm, LayerNorm } from '../../src/models/layer-norm.js';
import { createRandom } from '../../src/util/random.js';
import {
  type AttentionParams,
  attention,
  dot,
  geluScalar,
  layerNorm,
  layerNormGradients,
  maxRelError,
  numericGradient,
} from './naive-reference.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const f64 = (t: tf.Tensor) => Float64Array.from(t.dataSync());
const randn = (n: number, seed: number, std = 1) => createRandom(seed).fillNormal(new Float32Array(n), std);

describe('gelu', () => {
  // 41 values: five AVX2 blocks of 8 and a scalar tail on the native path.
  it.each([
    ['default (native one-op where the addon is built)', gelu],
    ['composed tfjs ops', composedGelu],
  ])('%s matches the tanh-approximation formula and its numeric derivative', (_, f) => {
    expect(defaultNativeAddon()).toBeDefined(); // the first case must exercise the native op
    const xs = Float32Array.from({ length: 41 }, (_, i) => -4 + i * 0.2);
    const x = tf.tensor1d(xs);
    expect(maxRelError(f(x).dataSync(), Array.from(xs, geluScalar))).toBeLessThan(1e-6);
    const dx = tf.grad((t: tf.Tensor) => f(t).sum())(x);
    const numeric = Array.from(xs, (a) => (geluScalar(a + 1e-5) - geluScalar(a - 1e-5)) / 2e-5);
    expect(maxRelError(dx.dataSync(), numeric)).toBeLessThan(1e-4);
    tf.dispose([x, dx]);
  });

  it('native op: value and gradient of a [64, 37] activation, saturated tails included, equal float64', () => {
    const xs = randn(64 * 37, 5, 3);
    xs.set([0, -0, 1e-6, -1e-6, 12, -12, 40, -40, 95, -95, 1e4, -1e4]);
    const x = tf.tensor2d(xs, [64, 37]);
    const w = randn(64 * 37, 6); // loss = sum(gelu(x) * w), so dx = w * gelu'(x)
    const dGelu = (a: number) => {
      const c = Math.sqrt(2 / Math.PI);
      const t = Math.tanh(c * (a + 0.044715 * a ** 3));
      return 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * c * (1 + 3 * 0.044715 * a * a);
    };
    const before = tf.memory().numTensors;
    const y = gelu(x);
    const dx = tf.grad((t: tf.Tensor) =>
      gelu(t)
        .mul(tf.tensor2d(w, [64, 37]))
        .sum(),
    )(x);
    expect(maxRelError(y.dataSync(), Array.from(xs, geluScalar))).toBeLessThan(1e-6);
    expect(
      maxRelError(
        dx.dataSync(),
        Array.from(xs, (a, i) => dGelu(a) * (w[i] ?? 0)),
      ),
    ).toBeLessThan(1e-5);
    tf.dispose([y, dx]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('LayerNorm', () => {
  // Widths 6 (the native op's scalar tail only) and 37 (four AVX2 blocks of 8 and a tail).
  it.each([
    ['default (native one-op where the addon is built)', 6, false],
    ['default (native one-op where the addon is built)', 37, false],
    ['composed tfjs ops', 37, true],
  ])(
    '%s, width %i: forward and gradients (input, gain, bias) match a float64 reference',
    (_, d, composed) => {
      expect(defaultNativeAddon()).toBeDefined(); // the default cases must exercise the native op
      const n = 3;
      const norm = new LayerNorm(d, 1e-5);
      norm.gamma.assign(tf.tensor1d(randn(d, 2)));
      norm.beta.assign(tf.tensor1d(randn(d, 3)));
      const apply = (t: tf.Tensor2D) =>
        composed ? composedLayerNorm(t, norm.gamma, norm.beta, 1e-5) : norm.apply(t);
      const xs = randn(n * d, 1);
      const w = Float64Array.from(randn(n * d, 4)); // loss = sum(LN(x) * w)
      const x = Float64Array.from(xs);
      const gamma = f64(norm.gamma);
      const beta = f64(norm.beta);
      const ref = () => dot(layerNorm(x, n, d, gamma, beta, 1e-5), w);

      const xt = tf.tensor2d(xs, [n, d]);
      const wt = tf.tensor2d(Float32Array.from(w), [n, d]);
      const before = tf.memory().numTensors;
      const y = apply(xt);
      expect(maxRelError(y.dataSync(), layerNorm(x, n, d, gamma, beta, 1e-5))).toBeLessThan(1e-5);
      const loss = (input: tf.Tensor2D) => apply(input).mul(wt).sum() as tf.Scalar;
      const dx = tf.grad((input: tf.Tensor) => loss(input as tf.Tensor2D))(xt);
      const { value, grads } = tf.variableGrads(() => loss(xt), norm.variables());
      expect(maxRelError(dx.dataSync(), numericGradient(x, ref))).toBeLessThan(1e-3);
      expect(maxRelError(grads[norm.gamma.name]?.dataSync() ?? [], numericGradient(gamma, ref))).toBeLessThan(
        1e-4,
      );
      expect(maxRelError(grads[norm.beta.name]?.dataSync() ?? [], numericGradient(beta, ref))).toBeLessThan(
        1e-4,
      );
      tf.dispose([y, dx, value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([xt, wt]);
      norm.dispose();
    },
  );

  it('native op on a [128, 400] activation equals float64, rows far from zero included', () => {
    const [n, d] = [128, 400];
    const norm = new LayerNorm(d);
    norm.gamma.assign(tf.tensor1d(randn(d, 12)));
    norm.beta.assign(tf.tensor1d(randn(d, 13)));
    const xs = randn(n * d, 11, 2);
    // Row 0 sits at 1e3 with sd 0.5: plain float32 sums lose its deviations (tfjs's moments: ~1.2e-3
    // error), so the native op sums x - x[0].
    for (let j = 0; j < d; j++) xs[j] = 1000 + (xs[j] ?? 0) / 4;
    const ws = randn(n * d, 14);
    const x = tf.tensor2d(xs, [n, d]);
    const w = tf.tensor2d(ws, [n, d]);
    const before = tf.memory().numTensors;
    const outputs = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => norm.apply(x).mul(w).sum() as tf.Scalar,
        norm.variables(),
      );
      const gx = tf.grad((t: tf.Tensor) =>
        norm
          .apply(t as tf.Tensor2D)
          .mul(w)
          .sum(),
      )(x);
      return [norm.apply(x), gx, grads[norm.gamma.name], grads[norm.beta.name], value];
    });
    const [y, dx, dgamma, dbeta] = outputs.map((t) => Float64Array.from(t?.dataSync() ?? []));
    tf.dispose(outputs.filter((t) => t !== undefined));
    expect(tf.memory().numTensors).toBe(before);
    const [x64, gamma64] = [Float64Array.from(xs), f64(norm.gamma)];
    const ref = layerNormGradients(x64, n, d, gamma64, Float64Array.from(ws), norm.epsilon);
    expect(maxRelError(y ?? [], layerNorm(x64, n, d, gamma64, f64(norm.beta), norm.epsilon))).toBeLessThan(
      1e-5,
    );
    expect(maxRelError(dx ?? [], ref.dx)).toBeLessThan(1e-4);
    expect(maxRelError(dgamma ?? [], ref.dgamma)).toBeLessThan(1e-5);
    expect(maxRelError(dbeta ?? [], ref.dbeta)).toBeLessThan(1e-5);
    tf.dispose([x, w]);
    norm.dispose();
  });
});

describe('CausalSelfAttention', () => {
  const [batch, length, d, heads] = [2, 5, 8, 2];

  function setup() {
    const attn = new CausalSelfAttention(d, heads, createRandom(7), 0.3, 0.3);
    // Non-zero biases so their paths are exercised too.
    attn.qkv.bias?.assign(tf.tensor1d(randn(3 * d, 8, 0.1)));
    attn.proj.bias?.assign(tf.tensor1d(randn(d, 9, 0.1)));
    const p: AttentionParams = {
      d,
      heads,
      wqkv: f64(attn.qkv.weight),
      bqkv: attn.qkv.bias ? f64(attn.qkv.bias) : new Float64Array(3 * d),
      wproj: f64(attn.proj.weight),
      bproj: attn.proj.bias ? f64(attn.proj.bias) : new Float64Array(d),
    };
    return { attn, p };
  }

  it('forward matches the naive float64 reference', () => {
    const { attn, p } = setup();
    const xs = randn(batch * length * d, 1);
    const x = tf.tensor2d(xs, [batch * length, d]);
    const y = attn.apply(x, batch, length);
    expect(y.shape).toEqual([batch * length, d]);
    expect(maxRelError(y.dataSync(), attention(p, Float64Array.from(xs), batch, length))).toBeLessThan(1e-5);
    tf.dispose([x, y]);
    attn.dispose();
  });

  it('gradients in x and in the projections match central differences of the reference', () => {
    const { attn, p } = setup();
    const x = Float64Array.from(randn(batch * length * d, 1));
    const w = Float64Array.from(randn(batch * length * d, 5));
    const ref = () => dot(attention(p, x, batch, length), w);
    const xt = tf.tensor2d(Float32Array.from(x), [batch * length, d]);
    const wt = tf.tensor2d(Float32Array.from(w), [batch * length, d]);
    const loss = (input: tf.Tensor2D) => attn.apply(input, batch, length).mul(wt).sum() as tf.Scalar;
    const dx = tf.grad((input: tf.Tensor) => loss(input as tf.Tensor2D))(xt);
    const { grads } = tf.variableGrads(() => loss(xt), attn.trainableVariables());
    expect(maxRelError(dx.dataSync(), numericGradient(x, ref))).toBeLessThan(1e-3);
    expect(
      maxRelError(grads[attn.qkv.weight.name]?.dataSync() ?? [], numericGradient(p.wqkv, ref)),
    ).toBeLessThan(1e-3);
    expect(
      maxRelError(grads[attn.proj.weight.name]?.dataSync() ?? [], numericGradient(p.wproj, ref)),
    ).toBeLessThan(1e-3);
    tf.dispose([xt, wt, dx, ...Object.values(grads)]);
    attn.dispose();
  });

  it('position t ignores positions after t', () => {
    const { attn } = setup();
    const xs = randn(batch * length * d, 1);
    const changed = xs.slice();
    for (let j = 0; j < d; j++) changed[(length - 1) * d + j] = 10; // last position of sequence 0
    const [a, b] = [xs, changed].map((v) => attn.apply(tf.tensor2d(v, [batch * length, d]), batch, length));
    const [av, bv] = [a?.dataSync() ?? [], b?.dataSync() ?? []];
    for (let i = 0; i < (length - 1) * d; i++) expect(bv[i]).toBe(av[i]);
    expect(
      maxRelError(bv.slice((length - 1) * d, length * d), av.slice((length - 1) * d, length * d)),
    ).toBeGreaterThan(1e-3);
    tf.dispose([a, b]);
    attn.dispose();
  });
});
