import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, SMALL_CLASSIFIER, smallRecords, type TestApp } from '../../test/support/test-app.js';
import { PeerApiError, PeerConnectionError } from './client-error.js';
import { fileIdempotencyKey, ingestFile } from './ingest-file.js';
import { PeerClient } from './peer-client.js';
import type { ProgressState } from './progress-bar.js';

let t: TestApp;
let dir: string;
let modelId: string;
/** A client whose requests go to the in-process app (no socket), with a streamed body like over HTTP. */
const clientFor = (key: string) =>
  new PeerClient({
    url: 'http://peer.test',
    key,
    fetch: (input, init) => Promise.resolve(t.app.fetch(new Request(input as string, init))),
  });

beforeAll(async () => {
  t = await createTestApp();
  dir = await mkdtemp(join(tmpdir(), 'ingest-file-'));
  const model = await clientFor(t.keys.write).post<{ id: string }>('/v1/models', {
    name: 'files',
    kind: 'classifier',
    config: SMALL_CLASSIFIER,
  });
  modelId = model.id;
}, 60_000);
afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ingestFile', () => {
  it('streams a file in parts at line boundaries, numbers errors by file line, and replays on a re-run', async () => {
    const good = smallRecords(3000, 4).trim().split('\n');
    good.splice(1500, 0, '{"x":[1,2],"y":0}'); // line 1501 is bad
    const path = join(dir, 'a.ndjson');
    await writeFile(path, `${good.join('\n')}\n`);
    const seen: ProgressState[] = [];
    const client = clientFor(t.keys.write);
    const first = await ingestFile({
      client,
      modelId,
      stream: 'files',
      path,
      maxPartBytes: 40_000,
      onProgress: (s) => seen.push(s),
    });
    expect(first.parts).toBeGreaterThan(3);
    expect(first).toMatchObject({
      lines: 3001,
      accepted: 3000,
      rejected: 1,
      offsets: [0, 2999],
      replayed: false,
    });
    expect(first.errors).toEqual([expect.objectContaining({ line: 1501, field: 'x' })]);
    expect(first.results.map((r) => r.ingestId)).toEqual(
      first.results.map((_, i) => `${first.idempotencyKey}.p${i}`),
    );
    expect(seen.at(-1)?.total).toBe(first.bytes);
    expect(seen.every((s, i) => i === 0 || s.done >= (seen[i - 1]?.done ?? 0))).toBe(true);

    const again = await ingestFile({ client, modelId, stream: 'files', path, maxPartBytes: 40_000 });
    expect(again).toMatchObject({ replayed: true, accepted: 3000, offsets: [0, 2999] });
    const stream = await client.get<{ records: number }>(`/v1/models/${modelId}/streams/files`);
    expect(stream.records).toBe(3000);
  });

  it('derives the key from path, size and mtime', async () => {
    const path = join(dir, 'k.ndjson');
    await writeFile(path, smallRecords(3));
    const k1 = await fileIdempotencyKey(path);
    expect(k1).toMatch(/^file-[0-9a-f]{32}$/);
    expect(await fileIdempotencyKey(path)).toBe(k1);
    await writeFile(path, smallRecords(4));
    expect(await fileIdempotencyKey(path)).not.toBe(k1);
  });

  it("surfaces the API's error code (403 for a read key, 404 for an unknown model)", async () => {
    const path = join(dir, 'e.ndjson');
    await writeFile(path, smallRecords(2));
    const denied = ingestFile({ client: clientFor(t.keys.read), modelId, stream: 'x', path });
    await expect(denied).rejects.toBeInstanceOf(PeerApiError);
    await expect(denied).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    await expect(clientFor(t.keys.write).resolveModel('no-such-model')).rejects.toMatchObject({
      status: 404,
    });
    expect((await clientFor(t.keys.read).resolveModel('files')).id).toBe(modelId);
  });
});

describe('PeerClient', () => {
  it('reports an unreachable server as a connection error naming the URL', async () => {
    const client = new PeerClient({ url: 'http://127.0.0.1:1/', key: 'k' });
    await expect(client.get('/healthz')).rejects.toBeInstanceOf(PeerConnectionError);
    await expect(client.get('/healthz')).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1:1 /);
  });
});
