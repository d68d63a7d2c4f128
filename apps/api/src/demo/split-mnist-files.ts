import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type LabeledData, loadMnist, splitMnist } from '@peer/core';

/** One Split-MNIST task as the demo uses it: an NDJSON file to ingest and a test set to predict. */
export interface DemoTask {
  readonly task: number;
  readonly digits: readonly [number, number];
  /** NDJSON of `{"x":[784 pixels in [0,1]],"y":digit}`, one training example a line. */
  readonly file: string;
  readonly records: number;
  readonly test: { readonly inputs: number[][]; readonly labels: number[] };
}

/** Sizes of the demo's tasks: small enough that ingest and training take seconds on two cores. */
export interface DemoTaskSizes {
  readonly tasks: number;
  readonly trainPerTask: number;
  readonly testPerTask: number;
}

/**
 * Writes the first `tasks` Split-MNIST tasks ({0,1}, {2,3}, ...; class-incremental labels, i.e. the digit
 * itself) as NDJSON files under `dir`, streaming line by line, and returns each task's test inputs. Pixels are
 * rounded to 3 decimals: the file stays ~1.5 KB a line and nothing a classifier can see is lost.
 */
export async function writeSplitMnistTasks(dir: string, sizes: DemoTaskSizes): Promise<DemoTask[]> {
  await mkdir(dir, { recursive: true });
  const mnist = await loadMnist();
  const tasks = splitMnist(mnist, { scenario: 'class', seed: 0 }).slice(0, sizes.tasks);
  const out: DemoTask[] = [];
  for (const t of tasks) {
    const file = join(dir, `split-mnist-task-${t.task}.ndjson`);
    const records = Math.min(sizes.trainPerTask, t.train.size);
    await writeNdjson(file, t.train, records);
    const n = Math.min(sizes.testPerTask, t.test.size);
    out.push({
      task: t.task,
      digits: t.digits,
      file,
      records,
      test: {
        inputs: Array.from({ length: n }, (_, i) => row(t.test, i)),
        labels: Array.from(t.test.y.subarray(0, n)),
      },
    });
  }
  return out;
}

async function writeNdjson(file: string, data: LabeledData, count: number): Promise<void> {
  const stream = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    const line = `${JSON.stringify({ x: row(data, i), y: data.y[i] ?? 0 })}\n`;
    if (!stream.write(line)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

function row(data: LabeledData, i: number): number[] {
  const out = new Array<number>(data.dim);
  for (let j = 0; j < data.dim; j++) out[j] = Math.round((data.x[i * data.dim + j] ?? 0) * 1000) / 1000;
  return out;
}
