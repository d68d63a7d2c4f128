import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { allCases } from '../../bench/char-lm/cases.js';
import { evaluationWindows, mobyDickText, splitTail } from '../../bench/char-lm/moby-dick.js';
import { formatTable, rowProblems } from '../../bench/char-lm/report.js';
import { type LmRow, runCase } from '../../bench/char-lm/run-case.js';
import { initBackend } from '../../src/backend/index.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

// CI-sized: the real corpus and every case of `npm run bench:lm`, but ~3 steps of 4 windows and 8
// validation windows each. Checks the pipeline and the row format, not the numbers.
describe('char-LM benchmark pipeline (smoke)', () => {
  const text = mobyDickText();
  const data = splitTail(text, 0.05);

  it('loads Moby-Dick and holds out the tail', () => {
    expect(text.length).toBeGreaterThan(1_000_000);
    expect(text.startsWith('Call me Ishmael') || text.includes('Call me Ishmael.')).toBe(true);
    expect(data.train.length + data.validation.length).toBe(Array.from(text).length);
    expect(data.vocab.decode(data.validation.subarray(-20))).toBe(Array.from(text).slice(-20).join(''));
    const windows = evaluationWindows(
      Int32Array.from({ length: 10 }, (_, i) => i),
      3,
    );
    expect(Array.from(windows)).toEqual([0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9]);
  });

  it('trains every case for the same FLOP budget and reports well-formed rows', async () => {
    const rows: LmRow[] = [];
    const lines: string[] = [];
    const before = tf.memory().numTensors;
    for (const c of allCases) {
      rows.push(
        await runCase(c, data, {
          budgetFlops: 3 * 4 * 64 * 1.1e6,
          batchSize: 4,
          learningRate: 3e-3,
          evalWindows: 8,
          calibrationWindows: 8,
          seed: 0,
          progressEvery: 10,
          log: (line) => lines.push(line),
        }),
      );
    }
    expect(tf.memory().numTensors).toBe(before); // every model and optimizer freed
    expect(rows.map((r) => r.case)).toEqual(allCases.map((c) => c.name));
    for (const r of rows) {
      expect(rowProblems(r), r.case).toEqual([]);
      expect(r.benchmark).toBe('char-lm');
      expect(r.train_flops).toBeLessThanOrEqual(3 * 4 * 64 * 1.1e6);
      expect(r.val_tokens).toBe(8 * 64);
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    }
    expect(rows.find((r) => r.case === 'peer-512')?.n_experts).toBe(512 * 512);
    expect(rows.find((r) => r.case === 'peer-128-nobn')?.query_bn).toBe(false);
    for (const r of rows) expect(r.val_bpc_running_bn === null).toBe(r.query_bn !== true);
    expect(lines.some((l) => l.includes('val'))).toBe(true);
    expect(formatTable(rows).split('\n')).toHaveLength(rows.length + 1);
  });
});
