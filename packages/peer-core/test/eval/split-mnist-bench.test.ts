import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BenchmarkOptions, runSplitMnistBenchmark } from '../../bench/split-mnist/benchmark.js';
import { CellCache } from '../../bench/split-mnist/cell-cache.js';
import { parseCli } from '../../bench/split-mnist/cli.js';
import { DEFAULT_RECIPE, PROTOCOL_METHODS } from '../../bench/split-mnist/methods.js';
import { markdownTable } from '../../bench/split-mnist/report.js';
import { type BenchRow, mergeRows } from '../../bench/split-mnist/results.js';
import type { CellResult } from '../../bench/split-mnist/run-cell.js';
import { initBackend } from '../../src/backend/index.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const dir = mkdtempSync(join(tmpdir(), 'split-mnist-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEYS = [
  'benchmark',
  'scenario',
  'method',
  'replay_per_class',
  'seeds',
  'iterations',
  'acc_mean',
  'acc_sd',
  'bwt',
  'forgetting',
];

/** CI-sized: 3 iterations per task on 1,200 train / 500 test images; checks shapes, not accuracy. */
const smoke: BenchmarkOptions = {
  scenarios: ['task', 'domain', 'class'],
  methods: ['joint', 'freeze-and-grow+replay'],
  seeds: [0],
  iterations: 3,
  batchSize: 16,
  learningRate: 1e-3,
  evaluateOn: 'test',
  validationFraction: 0.1,
  trainLimit: 1200,
  testLimit: 500,
};

describe('Split MNIST benchmark runner (smoke)', () => {
  it('runs 2 methods x 3 scenarios and writes well-formed JSON rows and a table', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const lines: string[] = [];
    const rows = await runSplitMnistBenchmark(smoke, { log: (l) => lines.push(l) });
    // Every model, optimiser, teacher and buffer of every cell is freed.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(lines.some((l) => l.includes('class-IL freeze-and-grow+replay seed 0: ACC'))).toBe(true);

    const path = join(dir, 'split-mnist.json');
    mergeRows(path, rows, PROTOCOL_METHODS);
    const written = JSON.parse(readFileSync(path, 'utf8')) as BenchRow[];
    expect(written).toHaveLength(6);
    expect(written.map((r) => `${r.scenario}/${r.method}`)).toEqual([
      'task/joint',
      'task/freeze-and-grow+replay',
      'domain/joint',
      'domain/freeze-and-grow+replay',
      'class/joint',
      'class/freeze-and-grow+replay',
    ]);
    for (const r of written) {
      // PEER methods add the routing summary of the harness; the MLP's joint training has none.
      expect(Object.keys(r)).toEqual(
        r.method === 'joint' ? KEYS : [...KEYS, 'routing_change', 'usage', 'unevenness'],
      );
      expect(r.benchmark).toBe('split-mnist');
      expect(r.seeds).toBe(1);
      expect(r.iterations).toBe(3);
      expect(r.acc_mean >= 0 && r.acc_mean <= 100).toBe(true);
      expect(r.acc_sd).toBeNull(); // one seed: no spread
      if (r.method === 'joint') {
        expect(r.replay_per_class).toBe(0);
        expect([r.bwt, r.forgetting]).toEqual([null, null]);
      } else {
        expect(r.replay_per_class).toBe(100);
        expect(r.bwt !== null && r.bwt >= -100 && r.bwt <= 100).toBe(true);
        expect(r.forgetting !== null && r.forgetting >= -100 && r.forgetting <= 100).toBe(true);
        expect(r.routing_change !== undefined && r.routing_change >= 0 && r.routing_change <= 100).toBe(true);
        expect(r.usage !== undefined && r.usage > 0 && r.usage <= 100).toBe(true);
        expect(r.unevenness !== undefined && r.unevenness >= 0).toBe(true);
      }
    }

    // A later run of one cell replaces that cell and keeps the others.
    const again = { ...written[0], acc_mean: 1 } as BenchRow;
    expect(mergeRows(path, [again], PROTOCOL_METHODS)).toHaveLength(6);
    expect((JSON.parse(readFileSync(path, 'utf8')) as BenchRow[])[0]?.acc_mean).toBe(1);

    const table = markdownTable(written);
    expect(table).toContain('| joint | 0 |');
    expect(table).toContain('97.9–98.2'); // the published joint class-IL number beside ours
    expect(table).toContain('| method (PEER) | stored/class |');
    const withPrototypes = { ...written[5], method: 'default', prototypes_per_class: 48 } as BenchRow;
    expect(markdownTable([withPrototypes])).toMatch(/ \| \d+\.\d\d \(\+48 prototypes\) \|/);
    expect(table).toMatch(/\| freeze-and-grow\+replay \| 100 \| [\d.]+ \/ [\d.]+ \/ [\d.]+ \|/);
  });

  it('records every cell as it ends and, resuming, runs only the cells still missing', async () => {
    const path = join(dir, 'grid.cells.jsonl');
    const tiny: BenchmarkOptions = { ...smoke, scenarios: ['domain'], methods: ['fine-tune'], seeds: [0, 1] };
    const run = async (options: BenchmarkOptions, resume: boolean) => {
      const lines: string[] = [];
      const cache = new CellCache(path, 'test-commit');
      const rows = await runSplitMnistBenchmark(options, {
        log: (l) => lines.push(l),
        cells: { cache, resume },
      });
      return { rows, recorded: lines.filter((l) => l.includes('recorded by test-commit')).length };
    };
    const first = await run({ ...tiny, seeds: [0] }, false);
    expect(first.recorded).toBe(0);
    // A killed process may leave half a line: it is skipped, not fatal.
    appendFileSync(path, '{"key": {"scenario": "dom');
    // Seed 0 comes from the file, seed 1 runs; the row aggregates both.
    const resumed = await run(tiny, true);
    expect(resumed.recorded).toBe(1);
    expect(resumed.rows[0]?.seeds).toBe(2);
    const all = await run(tiny, true);
    expect(all.recorded).toBe(2);
    expect(all.rows).toEqual(resumed.rows);
    // Without --resume, or with other iterations, every cell runs again.
    expect((await run(tiny, false)).recorded).toBe(0);
    expect((await run({ ...tiny, iterations: 2 }, true)).recorded).toBe(0);
    // `default` is keyed by the recipe it stands for: fine-tune's cells are not taken for it.
    expect((await run({ ...tiny, methods: ['default'] }, true)).recorded).toBe(0);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[lines.length - 1] ?? '{}')).toMatchObject({
      key: { scenario: 'domain', recipe: DEFAULT_RECIPE.domain, seed: 1, iterations: 3 },
      commit: 'test-commit',
    });
  });

  it('sees the cells another process appended to the shared file after it opened it', () => {
    const path = join(dir, 'shared.cells.jsonl');
    const key = (seed: number) => ({
      scenario: 'task' as const,
      recipe: 'ewc',
      seed,
      iterations: 2000,
      evaluateOn: 'validation' as const,
      trainLimit: null,
      testLimit: null,
    });
    const cell = (acc: number) => ({ acc }) as unknown as CellResult;
    const first = new CellCache(path, 'first');
    const second = new CellCache(path, 'second');
    expect(second.find(key(0))).toBeUndefined();
    first.add(key(0), cell(0.9));
    expect(second.find(key(0))).toMatchObject({ commit: 'first', cell: { acc: 0.9 } });
    // A line cut by a killed writer is skipped, and the next record still lands on a line of its own.
    appendFileSync(path, '{"key": {"scenario": "ta');
    second.add(key(1), cell(0.8));
    expect(first.find(key(1))).toMatchObject({ commit: 'second', cell: { acc: 0.8 } });
    // A re-run supersedes the earlier record in every reader.
    first.add(key(0), cell(0.95));
    expect(second.find(key(0))?.cell.acc).toBe(0.95);
    expect(new CellCache(path, 'third').find(key(0))?.cell.acc).toBe(0.95);
    expect(
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{"key":{')),
    ).toHaveLength(3);
  });

  it('parses the CLI flags, with the protocol as default', () => {
    const root = '/repo';
    const full = parseCli([], {}, root);
    if (full === 'help') throw new Error('help');
    expect(full.bench.iterations).toBe(2000);
    expect(full.bench.seeds).toEqual([0, 1, 2, 3, 4]);
    // the 12 of the issue (default included), freeze-and-grow (+ replay) with fixed keys, the no-storage default
    expect(full.bench.methods).toHaveLength(15);
    expect(full.json).toBe('/repo/bench-results/split-mnist.json');
    expect(full.cells).toBe('/repo/bench-results/split-mnist.cells.jsonl');
    expect(full.resume).toBe(false);
    const some = parseCli(
      [
        '--iterations',
        '50',
        '--seeds',
        '3,7',
        '--methods',
        'ewc,default',
        '--scenarios',
        'class',
        '--json',
        'x.json',
      ],
      { INIT_CWD: '/work' },
      root,
    );
    if (some === 'help') throw new Error('help');
    expect(some.bench).toMatchObject({
      iterations: 50,
      seeds: [3, 7],
      methods: ['ewc', 'default'],
      scenarios: ['class'],
    });
    expect(some.json).toBe('/work/x.json');
    expect(some.cells).toBe('/work/x.cells.jsonl');
    const resume = parseCli(['--resume', '--cells', 'c.jsonl'], { INIT_CWD: '/work' }, root);
    if (resume === 'help') throw new Error('help');
    expect([resume.resume, resume.cells]).toEqual([true, '/work/c.jsonl']);
    const quick = parseCli(['--quick'], {}, root);
    if (quick === 'help') throw new Error('help');
    expect(quick.bench).toMatchObject({ iterations: 100, seeds: [0], trainLimit: 6000 });
    expect(() => parseCli(['--methods', 'nope'], {}, root)).toThrow(/'methods' must be one of/);
    expect(() => parseCli(['--scenarios', 'task,x'], {}, root)).toThrow(/'scenarios'/);
    expect(() => parseCli(['--iterations', '0'], {}, root)).toThrow(/'iterations' must be an integer >= 1/);
  });
});
