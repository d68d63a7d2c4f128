import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSimdKernels } from '../../src/kernels/simd-kernels.js';
import { createRandom } from '../../src/util/random.js';
import { makeCase, runBackward, runForward } from './experts-case.js';
import { expectSame, uniform } from './kernel-helpers.js';

// Splitting rows/tokens between two threads must not change a single bit: each row and token is computed
// by the same code either way.
describe('two-thread SIMD kernels', () => {
  const one = createSimdKernels();
  const two = createSimdKernels(undefined, { threads: 2 });
  afterAll(() => two.close());
  const rng = createRandom(8);

  it('topkRows and productTopk equal the one-thread results', () => {
    const rows = 301;
    const cols = 1000;
    const scores = uniform(rng, rows * cols);
    const run = (kernels: typeof one) => {
      const index = new Int32Array(rows * 16);
      const score = new Float32Array(rows * 16);
      kernels.topkRows(scores, rows, cols, 16, index, score);
      const out = [
        new Int32Array(rows * 16),
        new Float32Array(rows * 16),
        new Int32Array(rows * 16),
        new Int32Array(rows * 16),
      ];
      const [id, s, a, b] = out as [Int32Array, Float32Array, Int32Array, Int32Array];
      kernels.productTopk(score, index, score, index, rows, 16, cols, id, s, a, b);
      return [index, score, ...out];
    };
    const want = run(one);
    const got = run(two);
    for (const [i, array] of want.entries()) expectSame(got[i] as ArrayLike<number>, array, `output ${i}`);
  });

  it.each([0, 1] as const)('expertsForward/Backward equal the one-thread results (act %i)', (activation) => {
    const c = makeCase(rng, { tokens: 67, slots: 64, d: 64, numExperts: 999, activation });
    const f1 = runForward(one, c);
    const f2 = runForward(two, c);
    expectSame(f2.out, f1.out, 'out');
    expectSame(f2.preact, f1.preact, 'preact');
    const b1 = runBackward(one, { ...c, preact: f1.preact });
    const b2 = runBackward(two, { ...c, preact: f1.preact });
    for (const key of ['dx', 'dgates', 'coefU', 'coefV'] as const) expectSame(b2[key], b1[key], key);
  });

  it('does not keep the process alive', () => {
    const script = fileURLToPath(new URL('./two-threads-exit.fixture.ts', import.meta.url));
    const started = performance.now();
    const output = execFileSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(output.trim()).toBe('done');
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});
