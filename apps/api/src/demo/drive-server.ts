/**
 * `npm run demo`: drives a running `peer serve` (start it with `npm start`) through the HTTP API only —
 * creates a model, streams two Split-MNIST tasks (digits 0/1, then 2/3) with a progress bar, trains on each
 * (SSE progress), predicts, moves the `production` alias back and predicts again.
 *
 *   npm run demo [-- --url http://127.0.0.1:8787 --key peer_... --per-task 4000 --iterations 300]
 *
 * The key defaults to PEER_API_KEY, else the bootstrap admin key `peer serve` saved in `<DATA_DIR>/admin-key`.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { adminKeyFile, readSavedAdminKey } from '../client/admin-key-file.js';
import { PeerApiError, PeerConnectionError } from '../client/client-error.js';
import { ingestFile } from '../client/ingest-file.js';
import { PeerClient } from '../client/peer-client.js';
import { ProgressBar } from '../client/progress-bar.js';
import { readApiEnv } from '../env.js';
import { accuracy, pct, predictAll, say, type Target, type TrainedVersion, trainOn } from './demo-steps.js';
import { type DemoTask, writeSplitMnistTasks } from './split-mnist-files.js';

/**
 * A model that learns a Split-MNIST task in a few hundred steps on two cores: 16 x 16 = 256 experts to start,
 * room for 48 more sub-key rows (each training job grows 4 rows = 64 experts per task, DESIGN §2).
 */
const MODEL_CONFIG = {
  inDim: 784,
  classes: 10,
  dModel: 64,
  peer: { subKeyRows: 16, subKeyCols: 16, capacityRows: 64, heads: 4, topK: 8, dKey: 32 },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      'per-task': { type: 'string', default: '4000' },
      iterations: { type: 'string', default: '300' },
    },
  });
  const env = readApiEnv();
  const perTask = positive(values['per-task'], '--per-task');
  const iterations = positive(values.iterations, '--iterations');
  const url = values.url ?? env.PEER_URL;
  const key = values.key ?? env.PEER_API_KEY ?? (await savedKey(env.DATA_DIR));
  const client = new PeerClient({ url, key });
  await client.get('/healthz');
  say(`PEER demo against ${url}`);

  say('\n1. Create a model');
  const name = `split-mnist-${Date.now().toString(36)}`;
  const model = await client.post<{ id: string }>('/v1/models', {
    name,
    kind: 'classifier',
    config: MODEL_CONFIG,
  });
  say(
    `   ${name} (${model.id}): 784 pixels -> 10 digits, 16 x 16 = 256 experts, version 1 = initial weights`,
  );

  const tasks = await writeSplitMnistTasks(join(env.DATA_DIR, 'demo'), {
    tasks: 2,
    trainPerTask: perTask,
    testPerTask: 500,
  });
  const [first, second] = tasks as [DemoTask, DemoTask];

  say(`\n2. Stream task 0 (digits ${first.digits.join(', ')}): ${first.records} records as NDJSON`);
  await ingest(client, model.id, first);
  say(`\n3. Train on task-0 (${iterations} steps; the job promotes the new version to "production")`);
  const v2 = await trainOn(client, model.id, { stream: 'task-0', iterations, promote: 'production' });
  say(
    `   -> version ${v2.seq}: held-out accuracy ${formatAccuracy(v2.metrics.accuracy)}; ${formatGrowth(v2)}`,
  );
  const atV2 = await report(client, model.id, tasks, { alias: 'production' }, 'predict at production');

  say(`\n4. Stream task 1 (digits ${second.digits.join(', ')}) and train on it`);
  await ingest(client, model.id, second);
  const v3 = await trainOn(client, model.id, { stream: 'task-1', iterations, promote: 'production' });
  const c = v3.metrics.continual;
  say(
    `   -> version ${v3.seq}: held-out accuracy ${formatAccuracy(v3.metrics.accuracy)}; ${formatGrowth(v3)}`,
  );
  if (c)
    say(
      `      continual: ACC ${pct(c.acc)}  BWT ${(c.bwt * 100).toFixed(1)} pts  forgetting ${(c.forgetting * 100).toFixed(1)} pts`,
    );
  await report(client, model.id, tasks, { alias: 'production' }, 'predict at production');
  await explainOne(client, model.id, second.test.inputs[0] ?? []);

  say('\n5. Roll "production" back (an alias move, logged) and predict again');
  await client.post(`/v1/models/${model.id}/aliases/production/rollback`, { reason: 'demo: roll back' });
  const back = await report(client, model.id, tasks, { alias: 'production' }, 'predict at production');
  const same =
    back.classes.length === atV2.classes.length && back.classes.every((k, i) => k === atV2.classes[i]);
  say(`   predictions identical to version ${v2.seq}'s: ${same ? 'yes' : 'NO'}`);
  const { moves } = await client.get<{ moves: unknown[] }>(
    `/v1/models/${model.id}/aliases/production/history`,
  );
  say(
    `   alias log of "production": ${moves.length} moves (GET /v1/models/${model.id}/aliases/production/history)`,
  );
  say(`\nDone. Browse the API at ${url}/docs, or use the CLI, e.g.`);
  const keyHint =
    values.key || env.PEER_API_KEY ? '' : `PEER_API_KEY=$(cat ${resolve(adminKeyFile(env.DATA_DIR))}) `;
  say(`   ${keyHint}npx peer versions --model ${name} --url ${url}`);
}

async function ingest(client: PeerClient, modelId: string, task: DemoTask): Promise<void> {
  const bar = new ProgressBar(process.stderr);
  const result = await ingestFile({
    client,
    modelId,
    stream: `task-${task.task}`,
    path: task.file,
    onProgress: (state) => bar.update(state),
  });
  bar.update({ done: result.bytes, total: result.bytes, records: result.lines }, true);
  bar.done();
  say(
    `   stored ${result.accepted} records at offsets ${result.offsets?.join('..') ?? '-'} (${result.rejected} rejected)`,
  );
}

/** Predicts both tasks' test images at `target` and prints the accuracy per task. */
async function report(
  client: PeerClient,
  modelId: string,
  tasks: readonly DemoTask[],
  target: Target,
  what: string,
) {
  const inputs = tasks.flatMap((t) => t.test.inputs);
  const { classes, versionSeq } = await predictAll(client, modelId, inputs, target);
  let at = 0;
  const parts = tasks.map((t) => {
    const acc = accuracy(classes.slice(at, at + t.test.labels.length), t.test.labels);
    at += t.test.labels.length;
    return `task ${t.task} (${t.digits.join('/')}) ${pct(acc)}`;
  });
  say(`   ${what} (version ${versionSeq}): ${parts.join('   ')}  [${inputs.length} test images]`);
  return { classes, versionSeq };
}

/** Shows which experts one input retrieved: the top gates of the first head of each PEER layer. */
async function explainOne(client: PeerClient, modelId: string, input: number[]): Promise<void> {
  type Explain = {
    layers: {
      layer: string;
      heads: { experts: { id: number; row: number; col: number; gate: number }[] }[];
    }[];
  };
  const answer = await client.post<{ outputs: { class: number }[]; explain?: Explain[] }>(
    `/v1/models/${modelId}/predict`,
    { inputs: [input], alias: 'production', explain: true },
  );
  for (const layer of answer.explain?.[0]?.layers ?? []) {
    const top = [...(layer.heads[0]?.experts ?? [])].sort((a, b) => b.gate - a.gate).slice(0, 3);
    const shown = top
      .map((e) => `#${e.id} (row ${e.row}, col ${e.col}) gate ${e.gate.toFixed(2)}`)
      .join(', ');
    say(`   explain: a "${answer.outputs[0]?.class}" used, in ${layer.layer} head 0: ${shown}, ...`);
  }
}

/** Experts per PEER layer after a job, and the sub-key rows it added (none: it trained the pool it had). */
function formatGrowth(v: TrainedVersion): string {
  const experts = `experts ${v.metrics.experts?.join('/') ?? '?'}`;
  const added = Object.entries(v.metrics.rowsAdded ?? {}).map(
    ([layer, [from, to]]) => `${layer} rows ${from}-${to}`,
  );
  return added.length > 0 ? `${experts} (grew ${added.join(', ')})` : experts;
}

function formatAccuracy(accuracyByStream: Record<string, number> | undefined): string {
  if (!accuracyByStream) return 'n/a';
  return Object.entries(accuracyByStream)
    .map(([stream, acc]) => `${stream} ${pct(acc).trim()}`)
    .join(', ');
}

async function savedKey(dataDir: string): Promise<string> {
  const key = await readSavedAdminKey(dataDir);
  if (key) return key;
  throw new DemoError(
    `no API key: set PEER_API_KEY, pass --key, or start the server with \`npm start\` (it saves ${adminKeyFile(dataDir)})`,
  );
}

function positive(text: string | undefined, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new DemoError(`${flag} must be a positive integer, got ${text}`);
  return n;
}

/** A demo precondition that failed (no server, no key): printed without a stack. */
class DemoError extends Error {
  override name = 'DemoError';
}

main().catch((error: unknown) => {
  if (error instanceof PeerConnectionError) {
    process.stderr.write(`demo: ${error.message}\n  start the server first: npm start\n`);
  } else if (error instanceof PeerApiError || error instanceof DemoError) {
    process.stderr.write(`demo: ${error.message}\n`);
  } else {
    process.stderr.write(
      `demo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
