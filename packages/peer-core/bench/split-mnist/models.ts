import type { Scenario } from '../../src/continual/scenario.js';
import { PeerClassifier } from '../../src/models/classifier.js';

/** The two model families of the benchmark: the protocol's MLP baseline and the PEER classifier. */
export type ModelFamily = 'mlp' | 'peer';

/** Tasks of Split MNIST (5 × 2 digits). */
export const TASKS = 5;

/** Output units of a head: 10 digits in class-IL, the within-task label (first / second digit) otherwise. */
export function classesOf(scenario: Scenario): number {
  return scenario === 'class' ? 10 : 2;
}

/**
 * The closest equivalent of van de Ven & Tolias' MLP 784-400-400 that the continual plugins run on (they take a
 * `PeerClassifier`): a linear 784→400 input projection, one pre-LN residual block h + W2·GELU(W1·LN(h)) with
 * 400 hidden units, a final LayerNorm and a linear head per task. It has one non-linear hidden layer of 400
 * (the paper has two ReLU layers of 400) and ~0.64M parameters (the paper's ~0.48M).
 */
export function mlpModel(scenario: Scenario, seed: number): PeerClassifier {
  return new PeerClassifier(
    {
      inDim: 784,
      classes: classesOf(scenario),
      dModel: 400,
      ffn: 'dense',
      denseMultiplier: 1,
      taskHeads: scenario === 'task' ? TASKS : 1,
    },
    { seed },
  );
}

/** Sub-key rows freeze-and-grow appends per task after the first: 8 × 16 = 128 new experts per task. */
export const GROW_ROWS = 8;

/**
 * The PEER classifier of the PEER variants: linear 784→256, one pre-LN residual PEER block (4 heads × top-8 of
 * 16 × 16 = 256 single-neuron experts at the start, 64-dim keys, query BN), final LN, a head per task. Capacity
 * leaves room for four growth steps of {@link GROW_ROWS} rows (768 experts after the last task).
 */
export function peerModel(scenario: Scenario, seed: number): PeerClassifier {
  return new PeerClassifier(
    {
      inDim: 784,
      classes: classesOf(scenario),
      dModel: 256,
      taskHeads: scenario === 'task' ? TASKS : 1,
      peer: {
        heads: 4,
        topK: 8,
        dKey: 64,
        subKeyRows: 16,
        subKeyCols: 16,
        capacityRows: 16 + (TASKS - 1) * GROW_ROWS,
      },
    },
    { seed },
  );
}

/** A fresh model of a family for a scenario. */
export function buildModel(family: ModelFamily, scenario: Scenario, seed: number): PeerClassifier {
  return family === 'mlp' ? mlpModel(scenario, seed) : peerModel(scenario, seed);
}
