/**
 * End to end over real HTTP against a child `peer serve`, driven by the `peer` CLI and the HTTP client:
 * create → ingest 10k NDJSON lines (`peer ingest`) → training job followed over SSE (with a resume by
 * `Last-Event-ID`) → an adapter trained → predict with `auto` and explicit adapters → a second stream trained
 * and promoted (an alias move) → `peer alias --rollback` → predictions equal the old version's, bit for bit.
 * On PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followJob, type JobStreamEvent } from '../../src/client/job-events.js';
import { PeerClient } from '../../src/client/peer-client.js';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import {
  type Deployment,
  LONG_TEST_MS,
  prepareDeployment,
  SETUP_TIMEOUT_MS,
  testDrivers,
} from '../support/deployment.js';
import { runCli } from '../support/run-cli.js';
import { SMALL_CLASSIFIER, smallRecords } from '../support/test-app.js';

const RECORDS = 10_000;
const ITERATIONS = 120;

interface Prediction {
  version: { id: string; seq: number; contentHash: string };
  outputs: { class: number; probabilities: number[] }[];
  explain?: {
    layers: {
      layer: string;
      heads: { experts: { id: number; row: number; col: number; gate: number }[] }[];
    }[];
    adapters: { name: string; weight: number }[];
  }[];
}

/** Records of the second stream: the same classes, shifted, so the model has something new to learn. */
function shiftedRecords(n: number): string {
  return smallRecords(n, 99)
    .trim()
    .split('\n')
    .map((line) => {
      const r = JSON.parse(line) as { x: number[]; y: number };
      return JSON.stringify({ x: r.x.map((v, j) => Number((v + (j >= 4 ? 2 : -1)).toFixed(4))), y: r.y });
    })
    .join('\n')
    .concat('\n');
}

describe.each(testDrivers())('end to end over HTTP (%s)', (driver) => {
  let deployment: Deployment;
  let server: ChildServer;
  let client: PeerClient;
  let cliEnv: Record<string, string>;
  const cli = async (...args: string[]) => {
    const run = await runCli(args, cliEnv);
    expect(run.code, `peer ${args.join(' ')}\n${run.stderr}`).toBe(0);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };

  beforeAll(async () => {
    deployment = await prepareDeployment(driver);
    server = await startChildServer(deployment.env);
    client = new PeerClient({ url: server.url, key: deployment.keys.write });
    cliEnv = { PEER_URL: server.url, PEER_API_KEY: deployment.keys.write, DATA_DIR: deployment.dataDir };
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await server?.kill('SIGTERM');
    await deployment?.cleanup();
  }, SETUP_TIMEOUT_MS);

  it(
    'create → ingest → train (SSE) → adapters → alias move → rollback',
    async () => {
      const model = await client.post<{ id: string; name: string }>('/v1/models', {
        name: 'e2e',
        kind: 'classifier',
        config: SMALL_CLASSIFIER,
      });

      // Ingest 10k lines with the CLI (split into several requests), by model name.
      const file = join(deployment.dataDir, 'task-a.ndjson');
      await writeFile(file, smallRecords(RECORDS, 21));
      const ingested = await cli(
        'ingest',
        file,
        '--model',
        'e2e',
        '--stream',
        'task-a',
        '--max-request-mb',
        '0.2',
      );
      expect(ingested).toMatchObject({
        lines: RECORDS,
        accepted: RECORDS,
        rejected: 0,
        offsets: [0, RECORDS - 1],
      });
      expect(ingested.parts).toBeGreaterThan(1);
      // Re-running the same command replays: nothing is stored twice.
      expect(
        await cli('ingest', file, '--model', 'e2e', '--stream', 'task-a', '--max-request-mb', '0.2'),
      ).toMatchObject({
        replayed: true,
        offsets: [0, RECORDS - 1],
      });

      // Train, promote to production, follow the job over SSE.
      const job = await client.post<{ id: string; status: string; kind: string }>(
        `/v1/models/${model.id}/jobs`,
        {
          stream: 'task-a',
          iterations: ITERATIONS,
          promote: 'production',
        },
      );
      expect(job).toMatchObject({ kind: 'train' });
      const events: JobStreamEvent[] = [];
      const done = await followJob(client, job.id, (e) => events.push(e));
      expect(done.type, JSON.stringify(done.data)).toBe('done');
      const progress = events.filter((e) => e.type === 'progress');
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)?.data).toMatchObject({ steps: ITERATIONS });
      const seqs = events.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      const metrics = done.data.metrics as Record<string, unknown>;
      expect(metrics).toMatchObject({ jobId: job.id, stream: 'task-a', steps: ITERATIONS });
      expect((metrics.accuracy as Record<string, number>)['task-a']).toBeGreaterThan(0.8);
      const v2 = String(done.data.versionId);
      // Resuming with Last-Event-ID replays only what came after it.
      const middle = seqs[Math.floor(seqs.length / 2)] ?? 0;
      const resumed = await client.send('GET', `/v1/jobs/${job.id}/events`, {
        headers: { 'last-event-id': String(middle) },
      });
      expect(resumed.headers.get('content-type')).toMatch(/text\/event-stream/);
      const tail =
        (await resumed.text()).match(/^id: ?(\d+)$/gm)?.map((l) => Number(l.replace(/\D/g, ''))) ?? [];
      expect(tail[0]).toBe(middle + 1);
      expect(tail.at(-1)).toBe(seqs.at(-1));
      const finished = await client.get<{ status: string; resultVersionId: string }>(`/v1/jobs/${job.id}`);
      expect(finished).toMatchObject({ status: 'succeeded', resultVersionId: v2 });

      // An adapter trained on the stream, then predictions with `auto` and with it named explicitly.
      const adapterJob = await client.post<{ id: string }>(`/v1/models/${model.id}/adapters`, {
        stream: 'task-a',
        name: 'fix-a',
        iterations: 40,
      });
      const adapterDone = await followJob(client, adapterJob.id);
      expect(adapterDone.type, JSON.stringify(adapterDone.data)).toBe('done');
      const inputs = smallRecords(12, 5)
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { x: number[] }).x);
      const auto = await client.post<Prediction>(`/v1/models/${model.id}/predict`, {
        inputs,
        alias: 'production',
        adapters: 'auto',
        explain: true,
      });
      expect(auto.outputs).toHaveLength(inputs.length);
      expect(auto.explain).toHaveLength(inputs.length);
      expect(auto.explain?.[0]?.layers[0]?.layer).toBe('blocks.0.peer');
      const expert = auto.explain?.[0]?.layers[0]?.heads[0]?.experts[0];
      expect(expert && expert.id === expert.row * SMALL_CLASSIFIER.peer.subKeyCols + expert.col).toBe(true);
      expect(auto.explain?.[0]?.adapters.map((a) => a.name)).toContain('fix-a');
      const explicit = await cli(
        'predict',
        '--model',
        'e2e',
        '--alias',
        'production',
        '--input',
        JSON.stringify(inputs),
        '--adapters',
        'fix-a:1',
        '--explain',
      );
      const explicitPrediction = explicit as unknown as Prediction;
      expect(explicitPrediction.outputs).toHaveLength(inputs.length);
      expect(explicitPrediction.explain?.[0]?.adapters).toEqual([
        expect.objectContaining({ name: 'fix-a', weight: 1 }),
      ]);
      const none = await client.post<Prediction>(`/v1/models/${model.id}/predict`, {
        inputs,
        alias: 'production',
      });
      expect(none.version.id).toBe(v2);
      const atV2 = none.outputs;

      // A second stream, trained and promoted: production moves to version 3.
      await client.request('POST', `/v1/models/${model.id}/streams/task-b/records`, {
        body: shiftedRecords(3000),
        headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'task-b-1' },
      });
      const job2 = await client.post<{ id: string }>(`/v1/models/${model.id}/jobs`, {
        stream: 'task-b',
        iterations: ITERATIONS,
        promote: 'production',
      });
      const done2 = await followJob(client, job2.id);
      expect(done2.type, JSON.stringify(done2.data)).toBe('done');
      const v3 = String(done2.data.versionId);
      const continual = (done2.data.metrics as { continual: { streams: string[]; R: number[][] } }).continual;
      expect(continual.streams).toEqual(['task-a', 'task-b']);
      expect(continual.R).toHaveLength(2);
      const atProduction = await client.post<Prediction>(`/v1/models/${model.id}/predict`, {
        inputs,
        alias: 'production',
      });
      expect(atProduction.version.id).toBe(v3);

      const versions = (await cli('versions', '--model', 'e2e')) as {
        versions: { id: string; seq: number }[];
      };
      expect(versions.versions.map((v) => v.seq)).toEqual([1, 2, 3]);

      // Roll production back with the CLI: it serves version 2 again, with exactly version 2's outputs.
      const rolledBack = await cli(
        'alias',
        '--model',
        'e2e',
        '--name',
        'production',
        '--rollback',
        '--reason',
        'e2e',
      );
      expect(JSON.stringify(rolledBack)).toContain(v2);
      const afterRollback = await client.post<Prediction>(`/v1/models/${model.id}/predict`, {
        inputs,
        alias: 'production',
      });
      expect(afterRollback.version.id).toBe(v2);
      expect(afterRollback.outputs).toEqual(atV2);
      const pinned = await cli(
        'predict',
        '--model',
        model.id,
        '--version',
        '2',
        '--input',
        JSON.stringify(inputs),
      );
      expect((pinned as unknown as Prediction).outputs).toEqual(atV2);

      // An explicit move back to 3, and the alias log lists every move.
      await cli('alias', '--model', 'e2e', '--name', 'production', '--version', '3');
      const history = (await cli('alias', '--model', 'e2e', '--name', 'production', '--history')) as {
        moves: unknown[];
      };
      expect(history.moves.length).toBeGreaterThanOrEqual(4);
    },
    LONG_TEST_MS,
  );
});
