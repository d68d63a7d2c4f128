import * as tf from '@tensorflow/tfjs';
import { fastMatMul } from '../src/backend/fast-matmul.js';
import { initBackend } from '../src/backend/index.js';
import { readCoreEnv } from '../src/env.js';
import { defaultKernelsLabel } from '../src/kernels/default-kernels.js';
import { PeerLayer } from '../src/layer/peer-layer.js';
import { coalesceExpertGradients } from '../src/train/coalesce-expert-gradients.js';
import { createRandom } from '../src/util/random.js';

export interface BenchRow {
  case: 'forward_1' | 'forward_512' | 'retrieve_512' | 'train_512' | 'dense_forward_512';
  n_experts: number;
  tokens: number;
  median_ms: number;
  tokens_per_s: number;
  peak_rss_mb: number;
  backend: string;
  /** wasm threads of tfjs and of the PEER kernels, e.g. 'tfjs 2, kernels 1'. */
  threads: string;
  /** Which PEER kernels ran (native AVX2/FMA, wasm SIMD, plain JS), as the backend banner says. */
  kernels: string;
}

const D_MODEL = 256;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

async function time(runs: number, warmup: number, fn: () => void | Promise<void>): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;
const threadsLabel = (tfjsThreads: number) =>
  `tfjs ${tfjsThreads}, kernels ${readCoreEnv().PEER_KERNEL_THREADS ?? 1}`;

function input(tokens: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(createRandom(seed).fillNormal(new Float32Array(tokens * D_MODEL), 1), [tokens, D_MODEL]);
}

/**
 * forward_1, forward_512 (inference: running BN stats), retrieve_512 (routing only) and train_512
 * (forward + backward: every variable gradient and per-expert gradient rows).
 */
export async function runPeerCases(size: number, runs: number): Promise<BenchRow[]> {
  const info = await initBackend();
  const layer = new PeerLayer(
    { dModel: D_MODEL, heads: 8, topK: 16, dKey: 128, subKeyRows: size, subKeyCols: size },
    { seed: 1 },
  );
  const n = layer.numExperts;
  const rows: BenchRow[] = [];
  const row = (c: BenchRow['case'], tokens: number, ms: number): BenchRow => ({
    case: c,
    n_experts: n,
    tokens,
    median_ms: ms,
    tokens_per_s: (tokens * 1000) / ms,
    peak_rss_mb: peakRssMb(),
    backend: info.name,
    threads: threadsLabel(info.threads),
    kernels: defaultKernelsLabel(),
  });
  const x1 = input(1, 2);
  const x512 = input(512, 3);
  const forward = (x: tf.Tensor2D) => async () => {
    const { output } = await layer.applyAsync(x);
    await output.data();
    output.dispose();
  };
  // Single-token latency is ~0.5 ms, so it gets many more samples (and a JIT warm-up) than the batch cases.
  rows.push(row('forward_1', 1, await time(Math.max(200, runs * 20), 50, forward(x1))));
  rows.push(row('forward_512', 512, await time(runs, 2, forward(x512))));
  // Retrieval alone (queries, sub-key scores, product top-k, gates): the part that must scale as sqrt(N).
  const retrieve = async () => {
    const { gates } = layer.route(x512, false);
    await gates.data();
    gates.dispose();
  };
  rows.push(row('retrieve_512', 512, await time(runs, 2, retrieve)));
  const r = input(512, 4);
  const slotOf = new Int32Array(n).fill(-1);
  const vars = layer.trainableVariables();
  const train = () => {
    const grads = tf.tidy(() => {
      const { grads: g } = tf.variableGrads(
        () => layer.apply(x512, { training: true }).mul(r).sum() as tf.Scalar,
        vars,
      );
      return g;
    });
    // Sum the factored expert gradients into per-expert rows: the sparse form of dense dU, dV.
    coalesceExpertGradients(layer.gradients.drain(), layer.kernels, D_MODEL, 0, slotOf, layer.heap).release();
    tf.dispose(grads);
  };
  rows.push(row('train_512', 512, await time(runs, 2, train)));
  tf.dispose([x1, x512, r]);
  layer.dispose();
  return rows;
}

/** Dense FFN 256 -> 1024 -> 256 (GELU) forward at 512 tokens, for reference. */
export async function runDenseCase(runs: number): Promise<BenchRow[]> {
  const info = await initBackend();
  const rng = createRandom(5);
  const w1 = tf.tensor2d(rng.fillNormal(new Float32Array(D_MODEL * 1024), 0.05), [D_MODEL, 1024]);
  const w2 = tf.tensor2d(rng.fillNormal(new Float32Array(1024 * D_MODEL), 0.05), [1024, D_MODEL]);
  const x = input(512, 6);
  const ms = await time(runs, 3, async () => {
    const y = tf.tidy(() => {
      const h = fastMatMul(x, w1);
      const gelu = h.mul(tf.tanh(h.add(h.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1)).mul(0.5);
      return fastMatMul(gelu as tf.Tensor2D, w2);
    });
    await y.data();
    y.dispose();
  });
  tf.dispose([w1, w2, x]);
  return [
    {
      case: 'dense_forward_512',
      n_experts: 0,
      tokens: 512,
      median_ms: ms,
      tokens_per_s: 512_000 / ms,
      peak_rss_mb: peakRssMb(),
      backend: info.name,
      threads: threadsLabel(info.threads),
      kernels: defaultKernelsLabel(),
    },
  ];
}
