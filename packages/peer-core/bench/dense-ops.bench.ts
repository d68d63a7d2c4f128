// The dense-model parts of a training step that are not matrix products, tfjs ops against the native fused
// ones, on the Split-MNIST MLP's shapes (784-400 input, one 400-400-400 block, two LayerNorms, a 2-way head:
// 0.64M parameters; batch 128): Adam, GELU and LayerNorm. Run: npm run bench:dense-ops -w @peer/core [-- --runs 7]
// Prints medians (ms) over runs of 50 repetitions each, tfjs and native alternating within each run.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';
import { loadNativeAddon } from '../src/kernels/native-addon.js';
import { composedGelu, gelu } from '../src/models/gelu.js';
import { composedLayerNorm, LayerNorm } from '../src/models/layer-norm.js';
import { DenseAdam } from '../src/train/dense-adam.js';
import { TfjsAdam } from '../src/train/tfjs-adam.js';

const at = process.argv.indexOf('--runs');
const RUNS = Math.max(3, at > 0 ? Number(process.argv[at + 1]) : 5);
const REPS = 50;

await initBackend({ backend: 'wasm' });
const addon = loadNativeAddon();
if (!addon) throw new Error('the native addon is not built: npm run build:native -w @peer/core');

const shapes = [
  [784, 400],
  [400],
  [400, 400],
  [400],
  [400, 400],
  [400],
  [400, 2],
  [2],
  [400],
  [400],
  [400],
  [400],
];
const vars = shapes.map((s) => tf.variable(tf.randomNormal(s)));
const grads = shapes.map((s) => tf.randomNormal(s));
const options = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
const tfjsAdam = new TfjsAdam(options);
const nativeAdam = new DenseAdam(options, addon);
const x = tf.randomNormal([128, 400]) as tf.Tensor2D;
const w = tf.randomNormal([128, 400]);

const msPer = (f: () => void): number => {
  const t0 = performance.now();
  for (let i = 0; i < REPS; i++) tf.tidy(f);
  return (performance.now() - t0) / REPS;
};
const adamStep = (adam: TfjsAdam | DenseAdam) => () => {
  vars.forEach((v, i) => {
    adam.apply(v, grads[i] as tf.Tensor);
  });
};
const geluStep = (f: (t: tf.Tensor) => tf.Tensor) => () => {
  tf.grad((t: tf.Tensor) => f(t).mul(w).sum())(x);
};
const norm = new LayerNorm(400);
// One forward and the three gradients of a training step (input, gain, bias).
const normStep = (f: (t: tf.Tensor2D) => tf.Tensor2D) => () => {
  tf.grads((t: tf.Tensor, _gamma: tf.Tensor, _beta: tf.Tensor) =>
    f(t as tf.Tensor2D)
      .mul(w)
      .sum(),
  )([x, norm.gamma, norm.beta]);
};
const cases = {
  adam_tfjs: adamStep(tfjsAdam),
  adam_native: adamStep(nativeAdam),
  gelu_fwd_bwd_tfjs: geluStep(composedGelu),
  gelu_fwd_bwd_native: geluStep(gelu),
  layernorm_fwd_bwd_tfjs: normStep((t) => composedLayerNorm(t, norm.gamma, norm.beta, norm.epsilon)),
  layernorm_fwd_bwd_native: normStep((t) => norm.apply(t)),
};
for (const f of Object.values(cases)) msPer(f); // warm-up: JIT, optimizer state
const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < RUNS; r++) for (const [name, f] of Object.entries(cases)) times[name]?.push(msPer(f));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
for (const [name, xs] of Object.entries(times)) console.log(`${name.padEnd(22)} ${median(xs).toFixed(2)} ms`);
console.log(
  `adam: native ${(median(times.adam_tfjs ?? []) / median(times.adam_native ?? [])).toFixed(2)}x tfjs; ` +
    `gelu: native ${(median(times.gelu_fwd_bwd_tfjs ?? []) / median(times.gelu_fwd_bwd_native ?? [])).toFixed(2)}x tfjs; ` +
    `layernorm: native ${(median(times.layernorm_fwd_bwd_tfjs ?? []) / median(times.layernorm_fwd_bwd_native ?? [])).toFixed(2)}x tfjs ` +
    `(${RUNS} runs x ${REPS} reps, wasm backend, 1 thread)`,
);
