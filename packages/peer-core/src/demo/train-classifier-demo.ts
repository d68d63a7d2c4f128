/**
 * The newcomer's main job (until the API exists): train a PEER classifier on a synthetic set for ~20 s on
 * this machine, print progress, test accuracy and expert usage, exit.
 *
 *   npm run demo -w @peer/core [-- --seconds=20 --baseline]      (PEER_BACKEND=cpu|wasm forces a backend)
 *
 * `--baseline` then trains the dense-FFN model of the same width for the same time, for comparison.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { type LabeledData, toTensors } from '../data/labeled-data.js';
import { gaussianClusters } from '../data/synthetic.js';
import { ExpertUsage } from '../metrics/expert-usage.js';
import { PeerClassifier } from '../models/classifier.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import { classifierObjective } from '../train/objectives.js';
import { Trainer } from '../train/trainer.js';

const demo = {
  /** Wall-clock training budget per model; `--seconds=N` overrides. */
  seconds: secondsArg() ?? 20,
  /** Also train the dense baseline (`--baseline`). */
  baseline: process.argv.includes('--baseline'),
  /**
   * 10 classes x 16 Gaussian clusters in 32-D with noise std 1: nearest-centre with the true centres (about
   * the Bayes rule) gets 97.7%. 100k training examples: with 20k, 4096 experts memorise (98% train, 88% test).
   */
  data: {
    classes: 10,
    dim: 32,
    clustersPerClass: 16,
    noiseStd: 1,
    trainPerClass: 10_000,
    testPerClass: 500,
    seed: 1,
  },
  /** d 64, one PEER block of 64 x 64 = 4096 experts, 4 heads x top-8: the demo size. */
  model: { dModel: 64, blocks: 1, peer: { subKeyRows: 64, subKeyCols: 64, heads: 4, topK: 8, dKey: 32 } },
  /** Adam 3e-3 converges within the 20 s budget here; 1e-2 was worse, 1e-3 slower. */
  learningRate: 3e-3,
  /** Batch 128: the protocol batch of DESIGN §7 (Split MNIST). */
  batchSize: 128,
  progressEvery: 200,
};

function secondsArg(): number | undefined {
  const arg = process.argv.find((a) => a.startsWith('--seconds='));
  const value = arg ? Number(arg.slice('--seconds='.length)) : undefined;
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

const log = (line: string) => console.log(`[demo] ${line}`);

/** Trains `model` for the time budget, then reports test accuracy and (for PEER blocks) expert usage. */
async function trainAndEvaluate(name: string, model: PeerClassifier, train: LabeledData, test: LabeledData) {
  const layers = model.peerLayers();
  const params = model.trainableVariables().reduce((n, v) => n + v.size, 0);
  const expertWeights = layers.reduce((n, l) => n + 2 * l.numExperts * l.experts.d, 0);
  log(`${name}: ${params} dense parameters + ${expertWeights} expert weights`);
  const trainer = new Trainer(model, { learningRate: demo.learningRate, progressEvery: demo.progressEvery });
  const history = await trainer.fit({
    steps: Number.MAX_SAFE_INTEGER,
    timeLimitMs: demo.seconds * 1000,
    batchSize: demo.batchSize,
    loss: classifierObjective(model, train, { batchSize: demo.batchSize, seed: 2 }),
    onProgress: ({ step, loss, examplesPerSec, stepsPerSec, elapsedMs }) =>
      log(
        `${name} step ${String(step).padStart(5)}  loss ${loss.toFixed(4)}  ${examplesPerSec.toFixed(0)} ex/s  ` +
          `${stepsPerSec.toFixed(1)} steps/s  (${(elapsedMs / 1000).toFixed(1)} s)`,
      ),
  });
  log(
    `${name} trained ${history.steps} steps in ${(history.elapsedMs / 1000).toFixed(1)} s ` +
      `(${history.stepsPerSec.toFixed(1)} steps/s, ${history.examplesPerSec.toFixed(0)} examples/s)`,
  );
  const usage = layers.map((l) => new ExpertUsage(l.numExperts));
  const { x, y } = toTensors(test);
  const started = performance.now();
  const result = await evaluateAccuracy(model, x, y, { usage, batchSize: 1000 });
  const evalMs = performance.now() - started;
  tf.dispose([x, y]);
  log(
    `${name} test accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.correct}/${result.total}; ` +
      `inference ${((result.total / evalMs) * 1000).toFixed(0)} examples/s)`,
  );
  usage.forEach((u, i) => {
    const s = u.stats();
    log(
      `${name} block ${i}: expert usage ${(100 * s.usage).toFixed(1)}% of ${s.numExperts} (${s.usedExperts} used), ` +
        `unevenness ${s.unevenness.toFixed(3)} nats (KL to uniform; PEER Table 2, 1M experts, query BN: 1.06)`,
    );
  });
  trainer.dispose();
  return result.accuracy;
}

async function main(): Promise<void> {
  const backend = await initBackend();
  log(`backend ${backend.name}${backend.simd ? ' (simd)' : ''}, ${backend.threads} thread(s)`);
  const { train, test } = gaussianClusters(demo.data);
  const { classes, dim, clustersPerClass, noiseStd } = demo.data;
  log(
    `data: ${classes} classes x ${clustersPerClass} Gaussian clusters in ${dim}-D, noise ${noiseStd}; ` +
      `${train.size} train / ${test.size} test`,
  );
  const p = demo.model.peer;
  log(
    `model: d ${demo.model.dModel}, ${demo.model.blocks} PEER block(s) of ${p.subKeyRows}x${p.subKeyCols} = ` +
      `${p.subKeyRows * p.subKeyCols} experts, h ${p.heads}, k ${p.topK}; Adam ${demo.learningRate}, batch ${demo.batchSize}`,
  );
  const peer = new PeerClassifier({ inDim: dim, classes, ...demo.model }, { seed: 1 });
  await trainAndEvaluate('peer', peer, train, test);
  peer.dispose();
  if (demo.baseline) {
    const dense = new PeerClassifier({ inDim: dim, classes, ...demo.model, ffn: 'dense' }, { seed: 1 });
    await trainAndEvaluate('dense', dense, train, test);
    dense.dispose();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
