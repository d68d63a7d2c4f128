import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { defaultNativeAddon } from '../../src/kernels/default-kernels.js';
import { CausalSelfAttention } from '../../src/models/causal-attention.js';
import { composedGelu, gelu } from '../../src/models/gelu.js';
import { LayerNorm } from '../../src/models/layer-norm.js';
import { createRandom } from '../../src/util/random.js';
import {
  type AttentionParams,
  attention,
  dot,
  geluScalar,
  layerNorm,
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
  it('forward and gradients (input, gain, bias) match a float64 reference', () => {
    const [n, d] = [3, 6];
    const norm = new LayerNorm(d, 1e-5);
    norm.gamma.assign(tf.tensor1d(randn(d, 2)));
    norm.beta.assign(tf.tensor1d(randn(d, 3)));
    const xs = randn(n * d, 1);
    const w = Float64Array.from(randn(n * d, 4)); // loss = sum(LN(x) * w)
    const x = Float64Array.from(xs);
    const gamma = f64(norm.gamma);
    const beta = f64(norm.beta);
    const ref = () => dot(layerNorm(x, n, d, gamma, beta, 1e-5), w);

    const xt = tf.tensor2d(xs, [n, d]);
    expect(maxRelError(norm.apply(xt).dataSync(), layerNorm(x, n, d, gamma, beta, 1e-5))).toBeLessThan(1e-5);
    const wt = tf.tensor2d(Float32Array.from(w), [n, d]);
    const loss = (input: tf.Tensor2D) => norm.apply(input).mul(wt).sum() as tf.Scalar;
    const dx = tf.grad((input: tf.Tensor) => loss(input as tf.Tensor2D))(xt);
    const { grads } = tf.variableGrads(() => loss(xt), norm.variables());
    expect(maxRelError(dx.dataSync(), numericGradient(x, ref))).toBeLessThan(1e-3);
    expect(maxRelError(grads[norm.gamma.name]?.dataSync() ?? [], numericGradient(gamma, ref))).toBeLessThan(
      1e-4,
    );
    expect(maxRelError(grads[norm.beta.name]?.dataSync() ?? [], numericGradient(beta, ref))).toBeLessThan(
      1e-4,
    );
    tf.dispose([xt, wt, dx, ...Object.values(grads)]);
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
