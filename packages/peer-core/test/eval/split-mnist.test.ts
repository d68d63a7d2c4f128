import { describe, expect, it } from 'vitest';
import { PeerFormatError } from '../../src/adapters/format-error.js';
import { parseIdx } from '../../src/eval/idx.js';
import { loadMnist, splitMnist, splitMnistStreams } from '../../src/eval/split-mnist.js';

describe('IDX parser', () => {
  it('reads a hand-made [2, 2] unsigned-byte array', () => {
    const bytes = Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 255]);
    expect(parseIdx(bytes)).toEqual({ dims: [2, 2], data: Uint8Array.from([1, 2, 3, 255]) });
  });

  it('rejects a wrong magic, type or length with typed errors', () => {
    const reason = (bytes: number[]) => {
      try {
        parseIdx(Uint8Array.from(bytes));
      } catch (error) {
        return error instanceof PeerFormatError ? error.reason : 'other';
      }
      return 'accepted';
    };
    expect(reason([1, 0, 8, 1, 0, 0, 0, 1, 5])).toBe('invalid_magic');
    expect(reason([0, 0, 0x0d, 1, 0, 0, 0, 1, 5, 5, 5, 5])).toBe('unsupported_type');
    expect(reason([0, 0, 8, 1, 0, 0, 0, 3, 5])).toBe('invalid_length');
    expect(reason([0, 0, 8, 2, 0, 0])).toBe('invalid_header');
  });
});

describe('Split MNIST', () => {
  it('loads the packaged IDX files and builds 5 two-digit tasks per scenario with a held-out validation split', async () => {
    const mnist = await loadMnist({ trainLimit: 3000, testLimit: 1000 });
    expect(mnist.train.dim).toBe(784);
    expect(mnist.train.size).toBe(3000);
    expect(mnist.test.size).toBe(1000);
    expect(mnist.train.x.reduce((a, b) => Math.max(a, b), 0)).toBe(1);
    expect(new Set(mnist.train.y).size).toBe(10);

    const classIL = splitMnist(mnist, { scenario: 'class', seed: 1 });
    const taskIL = splitMnist(mnist, { scenario: 'task', seed: 1 });
    expect(classIL.map((t) => t.digits)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
      [8, 9],
    ]);
    let trainRows = 0;
    let validationRows = 0;
    classIL.forEach((t, i) => {
      expect(new Set(t.train.y)).toEqual(new Set(t.digits));
      expect(t.train.classes).toBe(10);
      expect(new Set(taskIL[i]?.train.y)).toEqual(new Set([0, 1]));
      expect(taskIL[i]?.train.classes).toBe(2);
      trainRows += t.train.size;
      validationRows += t.validation.size;
    });
    expect(validationRows).toBe(300); // 10% of 3000, held out before the split
    expect(trainRows).toBe(2700);
    // Validation rows are not training rows: no validation image appears in its task's training set.
    const t0 = classIL[0];
    if (!t0) throw new Error('no task');
    const seen = new Set<string>();
    for (let r = 0; r < t0.train.size; r++) seen.add(t0.train.x.subarray(r * 784, (r + 1) * 784).join());
    for (let r = 0; r < t0.validation.size; r++)
      expect(seen.has(t0.validation.x.subarray(r * 784, (r + 1) * 784).join())).toBe(false);
    const streams = splitMnistStreams(taskIL);
    expect(streams.map((s) => s.id)).toEqual([
      'split-mnist-0',
      'split-mnist-1',
      'split-mnist-2',
      'split-mnist-3',
      'split-mnist-4',
    ]);
    expect(() => splitMnist(mnist, { scenario: 'domain', validationFraction: 1 })).toThrow(
      /'validationFraction' must be in \[0, 1\)/,
    );
  });
});
