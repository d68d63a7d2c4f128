import {
  type LabeledData,
  PeerClassifier,
  parseClassifierConfig,
  serializeClassifier,
  type TensorBlock,
} from '@peer/core';
import { initBackend } from '@peer/core/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { SMALL_CLASSIFIER } from '../../test/support/test-app.js';
import { TaskCancelledError } from './task-errors.js';
import type { TrainSpec } from './train-spec.js';
import { runTrainTask } from './train-task.js';
import type { TaskStream, TrainModelOutput, TrainTaskInput } from './train-task-types.js';

/** Separable data of SMALL_CLASSIFIER: class c has a bump at x[c + shift]. */
function data(n: number, shift: number, seed: number): LabeledData {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const x = new Float32Array(n * 8);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 8; j++) x[i * 8 + j] = rand() + (j === (y[i] ?? 0) + shift ? 3 : 0);
  }
  return { x, y, size: n, dim: 8, classes: 3 };
}

function stream(name: string, shift: number, seed: number): TaskStream {
  return { name, task: 0, train: data(120, shift, seed), heldOut: data(30, shift, seed + 100) };
}

function spec(overrides: Partial<TrainSpec> = {}): TrainSpec {
  return {
    stream: 'a',
    streamId: '00000000-0000-4000-8000-000000000000',
    strategy: { plugins: ['freeze-and-grow', 'replay'], settings: {} },
    rows: 4,
    iterations: 30,
    batchSize: 32,
    learningRate: 1e-2,
    seed: 0,
    ...overrides,
  };
}

function baseInput(blocks: TensorBlock[], manifest: TrainTaskInput['manifest']): TrainTaskInput {
  return {
    jobId: '11111111-1111-4111-8111-111111111111',
    kind: 'train',
    spec: spec(),
    manifest,
    blocks,
    scenario: 'class',
    history: [],
    historyKeys: [],
    current: stream('a', 0, 1),
    replay: { x: new Float32Array(0), y: new Int32Array(0), task: new Int32Array(0), dim: 8 },
    regularization: [],
  };
}

function initial() {
  const model = new PeerClassifier(parseClassifierConfig(SMALL_CLASSIFIER), { seed: 0 });
  const { manifest, blocks } = serializeClassifier(model);
  const list = [...blocks].map((b) => ({ ...b, bytes: b.bytes.slice() }));
  model.dispose();
  return { manifest: JSON.parse(JSON.stringify(manifest)) as TrainTaskInput['manifest'], blocks: list };
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('runTrainTask', () => {
  it('trains a first stream, then grows for a second one leaving old expert rows byte-identical', async () => {
    const v1 = initial();
    const progress: number[] = [];
    const first = (await runTrainTask(baseInput(v1.blocks, v1.manifest), {
      onProgress: (p) => progress.push(p.step),
    })) as TrainModelOutput;
    expect(first.kind).toBe('train');
    expect(first.metrics.steps).toBe(30);
    expect(progress.length).toBeGreaterThanOrEqual(10);
    expect(progress.at(-1)).toBe(30);
    expect(first.metrics.rowsAdded).toEqual({}); // nothing to protect on the first stream
    expect(first.metrics.accuracy.a).toBeGreaterThan(0.6);
    expect(first.tensors.after).toBe(first.tensors.before);
    const usage = first.metrics.usage['blocks.0.peer'];
    expect(usage).toMatchObject({ rows: 4, cols: 4 });
    expect(usage?.counts).toHaveLength(16);
    // 30 held-out rows x 2 heads x top-2 = 120 retrievals
    expect(usage?.counts.reduce((a, b) => a + b, 0)).toBe(120);

    // The parent of the second run: v1 with the first run's changed blocks applied.
    const byName = new Map<string, TensorBlock>(v1.blocks.map((b) => [b.name, b]));
    for (const b of first.changed) byName.set(b.name, b);
    const v2 = [...byName.values()].map((b) => ({ ...b, bytes: b.bytes.slice() }));
    const v2Copy = new Map(v2.map((b) => [b.name, b.bytes.slice()]));
    const second = (await runTrainTask({
      ...baseInput(v2, first.manifest),
      history: [stream('a', 0, 1)],
      historyKeys: ['job:first'],
      current: stream('b', 3, 2),
      replay: {
        ...(() => {
          const d = data(20, 0, 9);
          return { x: d.x, y: d.y };
        })(),
        task: new Int32Array(20),
        dim: 8,
      },
    })) as TrainModelOutput;
    expect(second.metrics.rowsAdded).toEqual({ 'blocks.0.peer': [4, 8] });
    expect(second.metrics.experts).toEqual([32]);
    expect(Object.keys(second.metrics.accuracy)).toEqual(['a', 'b']);
    expect(second.metrics.usage['blocks.0.peer']?.counts).toHaveLength(32);
    const changed = second.changed.map((b) => b.name);
    // New rows' experts and keys are new blocks; old expert rows and the frozen query network are untouched.
    expect(changed).toContain('blocks.0.peer.experts.u.rows.000004-000008');
    expect(changed).toContain('blocks.0.peer.keys.rows.000004-000008');
    expect(changed).not.toContain('blocks.0.peer.experts.u.rows.000000-000004');
    expect(changed.some((n) => n.startsWith('blocks.0.peer.query'))).toBe(false);
    expect(changed).not.toContain('input.weight');
    for (const b of second.changed) {
      const old = v2Copy.get(b.name);
      if (old) expect(Buffer.compare(old, b.bytes)).not.toBe(0);
    }
    expect(second.tensors.after).toBe(second.tensors.before);
  });

  it('stops between steps when cancelled', async () => {
    const v1 = initial();
    const controller = new AbortController();
    const started = performance.now();
    const run = runTrainTask(
      { ...baseInput(v1.blocks, v1.manifest), spec: spec({ iterations: 100_000 }) },
      { signal: controller.signal },
    );
    // The loop yields between steps, so a timer fires mid-run.
    setTimeout(() => controller.abort(), 300);
    await expect(run).rejects.toBeInstanceOf(TaskCancelledError);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('trains a LoRA adapter on the input projection with a retrieval key', async () => {
    const v1 = initial();
    const out = await runTrainTask({
      ...baseInput(v1.blocks, v1.manifest),
      kind: 'train-adapter',
      spec: spec({ adapter: { name: 'ad', rank: 2, alpha: 4 } }),
    });
    if (out.kind !== 'train-adapter') throw new Error('expected an adapter result');
    expect(out).toMatchObject({ targetLayer: 'input', rank: 2, alpha: 4, dIn: 8, dOut: 16 });
    expect(out.a).toHaveLength(2 * 8);
    expect(out.b).toHaveLength(16 * 2);
    expect(out.b.some((v) => v !== 0)).toBe(true); // B starts at zero: it trained
    expect(out.retrievalKey.length).toBeGreaterThan(0);
    expect(out.tensors.after).toBe(out.tensors.before);
  });
});
