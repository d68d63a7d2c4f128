import type { ContinualStream, Scenario } from '../../src/continual/scenario.js';
import { filterByLabel, type LabeledData } from '../../src/data/labeled-data.js';
import { gaussianClusters } from '../../src/data/synthetic.js';
import { PeerClassifier } from '../../src/models/classifier.js';

export const tinyPeer = {
  subKeyRows: 8,
  subKeyCols: 8,
  heads: 2,
  topK: 4,
  dKey: 8,
  capacityRows: 24,
} as const;

/** A tiny classifier for a scenario with `tasks` tasks of 2 classes each. */
export function tinyModel(scenario: Scenario, tasks = 2, extra: object = {}): PeerClassifier {
  const classes = scenario === 'class' ? 2 * tasks : 2;
  const taskHeads = scenario === 'task' ? tasks : 1;
  return new PeerClassifier(
    { inDim: 6, classes, dModel: 16, taskHeads, peer: tinyPeer, ...extra },
    { seed: 3 },
  );
}

/**
 * `tasks` streams of two classes each from one synthetic problem, labels in the scenario's space.
 * `shift` moves task t's inputs by t * shift on every axis (a new domain far from the old ones).
 */
export function syntheticStreams(scenario: Scenario, tasks = 2, perClass = 40, shift = 0): ContinualStream[] {
  const { train, test } = gaussianClusters({
    classes: 2 * tasks,
    dim: 6,
    trainPerClass: perClass,
    testPerClass: 10,
    seed: 5,
  });
  return Array.from({ length: tasks }, (_, t) => {
    const keep = (y: number) => y === 2 * t || y === 2 * t + 1;
    const relabel = (y: number) => (scenario === 'class' ? y : y - 2 * t);
    const classes = scenario === 'class' ? 2 * tasks : 2;
    const moved = (d: LabeledData): LabeledData => ({ ...d, x: d.x.map((v) => v + t * shift) });
    return {
      id: `task-${t}`,
      task: t,
      train: moved(filterByLabel(train, keep, relabel, classes)),
      test: moved(filterByLabel(test, keep, relabel, classes)),
    };
  });
}
