import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterPerStreamPlugin } from '../../src/adapters/adapter-per-stream.js';
import { AdapterRegistry } from '../../src/adapters/adapter-registry.js';
import { initBackend } from '../../src/backend/index.js';
import { ContinualLearner } from '../../src/continual/continual-learner.js';
import { EwcPlugin } from '../../src/continual/ewc.js';
import { FreezeAndGrowPlugin } from '../../src/continual/freeze-and-grow.js';
import { L2SpPlugin } from '../../src/continual/l2-sp.js';
import { LwfPlugin } from '../../src/continual/lwf.js';
import type { ContinualPlugin } from '../../src/continual/plugin.js';
import { ReplayPlugin } from '../../src/continual/replay.js';
import type { Scenario } from '../../src/continual/scenario.js';
import { InMemoryContinualStateStore } from '../../src/continual/state-store.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import { syntheticStreams, tinyModel } from './helpers.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const registry = new AdapterRegistry();
afterAll(() => registry.dispose());

const cases: { name: string; scenario: Scenario; plugins: () => ContinualPlugin[]; expect: string[] }[] = [
  { name: 'fine-tune', scenario: 'task', plugins: () => [], expect: ['fine-tune'] },
  {
    name: 'freeze-and-grow',
    scenario: 'task',
    plugins: () => [new FreezeAndGrowPlugin({ rows: 2 })],
    expect: ['freeze-and-grow'],
  },
  {
    name: 'l2-sp',
    scenario: 'domain',
    plugins: () => [new L2SpPlugin({ strength: 0.1 })],
    expect: ['l2-sp'],
  },
  {
    name: 'ewc',
    scenario: 'task',
    plugins: () => [new EwcPlugin({ samples: 8, strength: 10 })],
    expect: ['ewc'],
  },
  {
    name: 'online ewc',
    scenario: 'domain',
    plugins: () => [new EwcPlugin({ samples: 8, online: true, decay: 0.9, labels: 'true' })],
    expect: ['online-ewc'],
  },
  { name: 'lwf', scenario: 'class', plugins: () => [new LwfPlugin({ temperature: 2 })], expect: ['lwf'] },
  {
    name: 'replay',
    scenario: 'class',
    plugins: () => [new ReplayPlugin({ capacity: 10 })],
    expect: ['replay'],
  },
  {
    name: 'freeze-and-grow + replay + lwf',
    scenario: 'task',
    plugins: () => [new FreezeAndGrowPlugin({ rows: 2 }), new ReplayPlugin({ capacity: 5 }), new LwfPlugin()],
    expect: ['freeze-and-grow', 'replay', 'lwf'],
  },
  {
    name: 'freeze-and-grow + adapter per stream',
    scenario: 'domain',
    plugins: () => [
      new FreezeAndGrowPlugin({ rows: 2 }),
      new AdapterPerStreamPlugin(registry, { steps: 3, batchSize: 8, rank: 2 }),
    ],
    expect: ['freeze-and-grow', 'adapter-per-stream'],
  },
  {
    name: 'freeze-and-grow + ewc + l2-sp',
    scenario: 'class',
    plugins: () => [new FreezeAndGrowPlugin({ rows: 2 }), new EwcPlugin({ samples: 4 }), new L2SpPlugin()],
    expect: ['freeze-and-grow', 'ewc', 'l2-sp'],
  },
];

describe('ContinualLearner smoke runs (2 tiny streams, few steps)', () => {
  for (const c of cases) {
    it(`${c.name} (${c.scenario}-IL) runs and reports well-formed metrics without leaking tensors`, async () => {
      const tensorsBefore = tf.memory().numTensors;
      const model = tinyModel(c.scenario);
      const store = new InMemoryContinualStateStore();
      const plugins = c.plugins();
      const learner = new ContinualLearner(
        model,
        { scenario: c.scenario, steps: 4, batchSize: 8, probeSize: 6 },
        { plugins, store },
      );
      const report = await learner.run(syntheticStreams(c.scenario));
      learner.dispose();

      expect(report.scenario).toBe(c.scenario);
      expect(report.strategies.map((s) => s.name)).toEqual(c.expect);
      expect(report.accuracy).toHaveLength(2);
      for (const row of [...report.accuracy, report.baseline]) {
        expect(row).toHaveLength(2);
        for (const a of row) expect(a >= 0 && a <= 1).toBe(true);
      }
      for (const m of [
        report.metrics.acc,
        report.metrics.bwt,
        report.metrics.fwt,
        report.metrics.forgetting,
      ]) {
        expect(Number.isFinite(m)).toBe(true);
      }
      const [first, second] = report.reports;
      expect(first?.steps).toBe(4);
      expect(first?.routingChange).toEqual([]);
      expect(second?.routingChange).toHaveLength(1);
      for (const v of second?.routingChange[0]?.perLayer ?? [Number.NaN]) expect(v >= 0 && v <= 1).toBe(true);
      for (const u of second?.usage ?? []) {
        expect(u.usage > 0 && u.usage <= 1).toBe(true);
        expect(Number.isFinite(u.unevenness)).toBe(true);
      }
      if (c.expect.includes('ewc') || c.expect.includes('online-ewc')) {
        const saved = await store.loadRegularization(
          'run/after-task-0',
          c.expect.includes('ewc') ? 'ewc' : 'online-ewc',
        );
        expect(saved?.fisher.length).toBeGreaterThan(0);
        expect(saved?.anchors.map((b) => b.name)).toEqual(saved?.fisher.map((b) => b.name));
      }
      if (c.expect.includes('replay')) expect(await store.loadReplay('task-1')).toBeDefined();
      if (c.expect.includes('adapter-per-stream')) {
        expect(registry.latest().map((a) => a.id)).toEqual(['task-0@1', 'task-1@1']);
        expect(registry.latest().every((a) => a.key !== null)).toBe(true);
        registry.dispose();
      }
      model.dispose();
      // Everything the run made (optimizers, teachers, anchors, penalties) is gone with the model.
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    });
  }

  it('rejects a task-IL stream without a head of its own, naming the field', async () => {
    const model = tinyModel('task', 1);
    const learner = new ContinualLearner(model, { scenario: 'task', steps: 1, batchSize: 4 });
    await expect(learner.run(syntheticStreams('task'))).rejects.toThrow(PeerConfigError);
    await expect(learner.run(syntheticStreams('task'))).rejects.toThrow(
      /'streams\[1\].task' must be in \[0, 0\]/,
    );
    model.dispose();
  });

  it('rejects a bad config with field, bound and value', () => {
    const model = tinyModel('task');
    expect(() => new ContinualLearner(model, { scenario: 'task', steps: 0 })).toThrow(
      /'steps' must be > 0, but got 0/,
    );
    expect(() => new ReplayPlugin({ capacity: -1 })).toThrow(/'capacity'/);
    model.dispose();
  });
});
