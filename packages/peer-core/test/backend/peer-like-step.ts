import * as tf from '@tensorflow/tfjs';
import { fastMatMul } from '../../src/backend/index.js';
import { seededInts, seededValues } from './helpers.js';

/**
 * A small PEER-like training step (product-key retrieval, expert rows, batch-norm'd queries, GELU,
 * classifier, Adam) that uses every op our PEER layer and models use. The kernel audit records what it
 * runs; the same step on two backends must give the same numbers.
 */
const B = 12; // tokens
const D = 16; // model width
const H = 2; // heads
const DK = 8; // query width; halves of 4 score against the two sub-key codebooks
const HALF = DK / 2;
const N = 6; // sub-keys per codebook -> N*N = 36 experts
const K = 3; // experts per head
const C = 5; // classes
const EPS = 1e-3;

/** What one step produced, read back to plain arrays. */
export interface StepResult {
  loss: number;
  grads: Record<string, number[]>;
  updated: Record<string, number[]>;
  routing: number[];
  predictions: number[];
}

interface Vars {
  wq: tf.Variable<tf.Rank.R2>;
  gamma: tf.Variable<tf.Rank.R1>;
  beta: tf.Variable<tf.Rank.R1>;
  keys1: tf.Variable<tf.Rank.R3>;
  keys2: tf.Variable<tf.Rank.R3>;
  down: tf.Variable<tf.Rank.R2>;
  up: tf.Variable<tf.Rank.R2>;
  wc: tf.Variable<tf.Rank.R2>;
}

function makeVariables(): Vars {
  const v = <R extends tf.Rank>(name: string, shape: number[], seed: number, scale = 0.5, offset = 0) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const init = tf.tidy(() => tf.add(tf.mul(tf.tensor(seededValues(size, seed), shape), scale), offset));
    const variable = tf.variable(init as tf.Tensor<R>, true, name);
    init.dispose(); // the variable holds its own reference to the data
    return variable;
  };
  return {
    wq: v<tf.Rank.R2>('wq', [D, H * DK], 1),
    gamma: v<tf.Rank.R1>('gamma', [H * DK], 2, 0.1, 1),
    beta: v<tf.Rank.R1>('beta', [H * DK], 3, 0.1),
    keys1: v<tf.Rank.R3>('keys1', [H, N, HALF], 4),
    keys2: v<tf.Rank.R3>('keys2', [H, N, HALF], 5),
    down: v<tf.Rank.R2>('down', [N * N, D], 6),
    up: v<tf.Rank.R2>('up', [N * N, D], 7),
    wc: v<tf.Rank.R2>('wc', [D, C], 8),
  };
}

/** [B, D] -> two [H*B, N] score matrices (rows are head-major: row = h*B + b). */
function subKeyScores(x: tf.Tensor2D, vars: Vars): [tf.Tensor2D, tf.Tensor2D] {
  const q = tf.matMul(x, vars.wq); // [B, D] x [D, H*DK] -> [B, H*DK]
  const { mean, variance } = tf.moments(q, 0);
  // Batch-norm twice, with div/sqrt and with rsqrt, to cover both kernels the layer may use.
  const normDiv = tf.div(tf.sub(q, mean), tf.sqrt(tf.add(variance, EPS)));
  const normRsqrt = tf.mul(tf.sub(q, mean), tf.rsqrt(tf.add(variance, EPS)));
  const qn = tf.add(tf.mul(tf.mul(tf.add(normDiv, normRsqrt), 0.5), vars.gamma), vars.beta);
  const perHead = tf.reshape(tf.transpose(tf.reshape(qn, [B, H, DK]), [1, 0, 2]), [H * B, DK]); // -> [H*B, DK]
  const [qa, qb] = tf.split(perHead, 2, 1) as [tf.Tensor2D, tf.Tensor2D]; // -> 2 x [H*B, HALF]
  const s1: tf.Tensor2D[] = [];
  const s2: tf.Tensor2D[] = [];
  for (let h = 0; h < H; h++) {
    const rows = (t: tf.Tensor2D) => tf.slice(t, [h * B, 0], [B, HALF]);
    const codebook = (t: tf.Tensor3D) =>
      tf.reshape(tf.slice(t, [h, 0, 0], [1, N, HALF]), [N, HALF]) as tf.Tensor2D;
    s1.push(tf.matMul(rows(qa), tf.transpose(codebook(vars.keys1)))); // [B, HALF] x [HALF, N]
    s2.push(fastMatMul(rows(qb), codebook(vars.keys2), false, true)); // customGrad path
  }
  return [tf.concat(s1, 0), tf.concat(s2, 0)]; // -> [H*B, N] each
}

/** Product-key top-k outside the tape (indices are constants of the step, as in the layer). */
function route(x: tf.Tensor2D, vars: Vars) {
  return tf.tidy(() => {
    const [s1, s2] = subKeyScores(x, vars);
    const t1 = tf.topk(s1, K);
    const t2 = tf.topk(s2, K);
    const grid = tf.reshape(tf.add(tf.expandDims(t1.values, 2), tf.expandDims(t2.values, 1)), [H * B, K * K]);
    const best = tf.topk(grid, K).indices; // [H*B, K] positions in the K x K grid
    const kInt = tf.scalar(K, 'int32');
    const i1 = tf.floorDiv(best, kInt);
    const i2 = tf.mod(best, kInt);
    const row = tf.gather(t1.indices, i1, 1, 1);
    const col = tf.gather(t2.indices, i2, 1, 1);
    const expertIds = tf.add(tf.mul(row, tf.scalar(N, 'int32')), col); // [H*B, K]
    return { idx1: t1.indices, idx2: t2.indices, i1, i2, expertIds };
  });
}

function gelu(h: tf.Tensor): tf.Tensor {
  // tanh approximation (Hendrycks & Gimpel 2016) and the exact erf form, averaged: both kernels covered.
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(h, tf.mul(0.044715, tf.pow(h, 3))));
  const tanhForm = tf.mul(tf.mul(0.5, h), tf.add(1, tf.tanh(inner)));
  const erfForm = tf.mul(tf.mul(0.5, h), tf.add(1, tf.erf(tf.div(h, Math.SQRT2))));
  return tf.mul(tf.add(tanhForm, erfForm), 0.5);
}

function lossFn(x: tf.Tensor2D, labels: tf.Tensor1D, vars: Vars, r: ReturnType<typeof route>) {
  const [s1, s2] = subKeyScores(x, vars);
  const c1 = tf.gather(tf.gather(s1, r.idx1, 1, 1), r.i1, 1, 1); // [H*B, K]
  const c2 = tf.gather(tf.gather(s2, r.idx2, 1, 1), r.i2, 1, 1);
  const weights = tf.softmax(tf.add(c1, c2)); // [H*B, K]
  const ids = tf.reshape(r.expertIds, [H * B * K]);
  const down = tf.gather(vars.down, ids); // [H*B*K, D]
  const up = tf.gather(vars.up, ids);
  // x for every (head, token, expert) row, in the head-major row order of `ids`.
  const xRows = tf.reshape(tf.tile(tf.expandDims(x, 0), [H, 1, K]), [H * B * K, D]);
  const act = tf.mul(gelu(tf.sum(tf.mul(down, xRows), 1)), tf.reshape(weights, [H * B * K])); // [H*B*K]
  const mixed = tf.sum(tf.reshape(tf.mul(tf.expandDims(act, 1), up), [H, B, K, D]), [0, 2]); // -> [B, D]
  const y = tf.add(x, mixed);
  const gated = tf.mul(tf.relu(y), tf.sigmoid(y));
  // The condition must not depend on variables: tfjs has no gradient for Greater and no stop-gradient,
  // so where(greater(y, 0), ...) on the tape fails on every backend. Here it comes from the input.
  const leaky = tf.where(tf.greater(x, 0), gated, tf.mul(y, 0.1));
  const logits = fastMatMul(leaky as tf.Tensor2D, vars.wc); // [B, C]
  const targets = tf.cast(tf.oneHot(labels, C), 'float32');
  const ce = tf.losses.softmaxCrossEntropy(targets, logits);
  const nll = tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1)));
  const margin = tf.mean(tf.sub(tf.max(logits, 1), tf.min(logits, 1)));
  const reg = tf.mul(tf.mean(tf.square(vars.wq)), 1e-2);
  return tf.addN([ce, tf.mul(nll, 0.5), tf.mul(margin, 1e-3), reg]) as tf.Scalar;
}

/** Runs one Adam step on the current backend from seeded data; everything it allocates is disposed. */
export async function runPeerLikeStep(): Promise<StepResult> {
  const vars = makeVariables();
  try {
    return await stepWith(vars);
  } finally {
    tf.dispose(Object.values(vars));
  }
}

async function stepWith(vars: Vars): Promise<StepResult> {
  const x = tf.tensor2d(seededValues(B * D, 11), [B, D]);
  const labels = tf.tensor1d(seededInts(B, 0, C, 12), 'int32');
  const r = route(x, vars);
  const optimizer = tf.train.adam(0.01);
  const { value, grads } = tf.variableGrads(() => lossFn(x, labels, vars, r));
  const gradValues: Record<string, number[]> = {};
  for (const [name, g] of Object.entries(grads)) gradValues[name] = Array.from(await g.data());
  optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
  const predictions = tf.tidy(() => tf.argMax(tf.matMul(x, vars.wc), 1));
  const result: StepResult = {
    loss: (await value.data())[0] as number,
    grads: gradValues,
    updated: Object.fromEntries(
      await Promise.all(
        Object.entries(vars).map(
          async ([k, v]: [string, tf.Variable]) => [k, Array.from(await v.data())] as const,
        ),
      ),
    ),
    routing: Array.from(await r.expertIds.data()),
    predictions: Array.from(await predictions.data()),
  };
  tf.dispose([value, grads, x, labels, r, predictions]);
  optimizer.dispose();
  return result;
}
