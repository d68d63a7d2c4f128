import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type AdapterStore, mulberry32, randomIntBelow } from '../../src/index.js';
import { batchKey, growthBlocks } from './workload.js';

const TSX = fileURLToPath(new URL('../../../../node_modules/.bin/tsx', import.meta.url));
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

/** Where the crash test writes and how to reopen it. */
export interface CrashTarget {
  readonly driver: 'pglite' | 'postgres';
  /** PGlite data directory or PostgreSQL URL, as passed to the child. */
  readonly target: string;
  open(): Promise<AdapterStore>;
}

/** Everything a killed child acknowledged, accumulated over rounds. */
interface Acks {
  readonly commits: Map<string, { seq: number; contentHash: string }>;
  /** Head whose bytes were fully verified last round; later rounds verify only what was added since. */
  verifiedHead?: string | undefined;
  readonly batches: Map<number, { firstOffset: number; count: number; checksum: string }>;
  nextBatch: number;
}

/** Creates the model (first version = initial layer), its stream and replay reservoir. */
export async function setUpCrashModel(store: AdapterStore): Promise<{ modelId: string; streamId: string }> {
  const tenant = await store.createTenant({ name: `crash-${Date.now()}` });
  const model = await store.createModel({ tenantId: tenant.id, name: 'crash', config: {} });
  const stream = await store.createStream({ modelId: model.id, name: 'crash-stream' });
  await store.configureReplay(stream.id, { capacity: 64, seed: 1234 });
  await store.commitVersion({
    modelId: model.id,
    parentId: null,
    blocks: growthBlocks(1, 0).blocks,
    message: 'initial',
  });
  return { modelId: model.id, streamId: stream.id };
}

/** When to kill: a short random delay after the child's n-th `begin` (commit) or `send` (batch) line. */
interface Trigger {
  readonly event: 'begin' | 'send';
  readonly nth: number;
  readonly delayMs: number;
}

/**
 * Runs `rounds` child writers and SIGKILLs each at a seeded random moment inside a commit (even
 * rounds) or an ingest-ledger write (odd rounds): the kill is armed by the child's own "begin"/"send"
 * line, so it lands mid-operation however fast or slow the machine is. After every kill the store is
 * reopened and the invariants checked. Returns counters for the report.
 */
export async function runCrashRounds(
  t: CrashTarget,
  ids: { modelId: string; streamId: string },
  rounds: number,
  seed: number,
): Promise<{ commits: number; batches: number; killsMidCommit: number; killsMidBatch: number }> {
  const rng = mulberry32(seed);
  const acks: Acks = { commits: new Map(), batches: new Map(), nextBatch: 0 };
  let killsMidCommit = 0;
  let killsMidBatch = 0;
  for (let round = 0; round < rounds; round++) {
    const trigger: Trigger =
      round % 2 === 0
        ? { event: 'begin', nth: 1 + randomIntBelow(rng, 2), delayMs: randomIntBelow(rng, 250) }
        : { event: 'send', nth: 1 + randomIntBelow(rng, 3), delayMs: randomIntBelow(rng, 60) };
    const state = await killOneChild(t, ids, acks, trigger);
    if (state.midCommit) killsMidCommit++;
    if (state.midBatch) killsMidBatch++;
    await checkInvariants(t, ids, acks, round === rounds - 1);
  }
  return { commits: acks.commits.size, batches: acks.batches.size, killsMidCommit, killsMidBatch };
}

async function killOneChild(
  t: CrashTarget,
  ids: { modelId: string; streamId: string },
  acks: Acks,
  trigger: Trigger,
): Promise<{ midCommit: boolean; midBatch: boolean }> {
  const child = spawn(TSX, [CHILD, t.driver, t.target, ids.modelId, ids.streamId, String(acks.nextBatch)], {
    detached: true, // own process group: tsx runs the script in a grandchild, and both must die
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let inFlight: number | undefined;
  let committing = false;
  let seen = 0;
  let armed: () => void = () => {};
  const armedP = new Promise<void>((resolve) => {
    armed = resolve;
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    const [kind, a, b, c, d] = line.split(' ');
    if (kind === trigger.event && ++seen === trigger.nth) armed();
    if (kind === 'begin') committing = true;
    else if (kind === 'commit') {
      acks.commits.set(a as string, { seq: Number(b), contentHash: c as string });
      committing = false;
    } else if (kind === 'send') inFlight = Number(a);
    else if (kind === 'ack') {
      acks.batches.set(Number(a), { firstOffset: Number(b), count: Number(c), checksum: d as string });
      inFlight = undefined;
      acks.nextBatch = Number(a) + 1;
    }
  });
  const exited = once(child, 'exit');
  const closed = once(lines, 'close');
  try {
    const died = exited.then(() => {
      throw new Error(`crash child exited on its own (code ${child.exitCode}):\n${stderr}`);
    });
    const stuck = new Promise<never>((_, reject) => {
      setTimeout(
        () => reject(new Error(`no '${trigger.event}' #${trigger.nth} within 60 s:\n${stderr}`)),
        60_000,
      ).unref();
    });
    await Promise.race([armedP, died, stuck]);
    await new Promise((r) => setTimeout(r, trigger.delayMs));
  } finally {
    killGroup(child);
    await exited;
    await closed;
  }
  const midBatch = inFlight !== undefined;
  // A batch sent but not acknowledged is retried with the same key by the next child, like a client would.
  if (inFlight !== undefined) acks.nextBatch = inFlight;
  return { midCommit: committing, midBatch };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function checkInvariants(
  t: CrashTarget,
  ids: { modelId: string; streamId: string },
  acks: Acks,
  final: boolean,
): Promise<void> {
  const store = await t.open();
  try {
    // Versions: dense seqs, a linear chain (one writer), head = newest, every manifest matches its row.
    const versions = await store.listVersions(ids.modelId);
    expect(versions.map((v) => v.seq)).toEqual(versions.map((_, i) => i + 1));
    expect(versions.map((v) => v.parentId)).toEqual(
      versions.map((_, i) => (i === 0 ? null : versions[i - 1]?.id)),
    );
    const head = versions[versions.length - 1];
    expect((await store.getModel(ids.modelId)).headVersionId).toBe(head?.id);
    for (const v of versions) await store.verifyVersion(v.id, { data: false });
    // Growth only appends, so the head references every block ever committed: verify the bytes added
    // since the last round (all of them in the final round) against their sha256.
    if (head && (final || !acks.verifiedHead)) await store.verifyVersion(head.id);
    else if (head && acks.verifiedHead && acks.verifiedHead !== head.id) {
      const diff = await store.diffVersions(acks.verifiedHead, head.id);
      const names = [...diff.added.map((e) => e.name), ...diff.changed.map((c) => c.to.name)];
      for await (const _ of store.loadBlocks(head.id, { names })) {
        // loading verifies each block
      }
    }
    acks.verifiedHead = head?.id;
    for (const [id, ack] of acks.commits) {
      const v = await store.getVersion(id);
      expect([v.seq, v.contentHash]).toEqual([ack.seq, ack.contentHash]);
    }
    // Nothing of a killed commit survived, not even unreferenced blocks.
    expect((await store.collectGarbage()).deletedBlocks).toBe(0);
    // Ledger: every acknowledged batch present and intact; offsets dense; keys batch-0..batch-n.
    const stream = await store.getStream(ids.streamId);
    const batches = await store.listBatches(ids.streamId, { limit: 100_000 });
    let next = 0;
    for (const b of batches) {
      expect(b.firstOffset).toBe(next);
      next += b.recordCount;
    }
    expect(next).toBe(stream.nextOffset);
    expect(batches.map((b) => b.idempotencyKey).sort()).toEqual(batches.map((_, i) => batchKey(i)).sort());
    for (const [i, ack] of acks.batches) {
      const got = await store.getBatch(ids.streamId, batchKey(i));
      expect([got.firstOffset, got.recordCount, got.checksum]).toEqual([
        ack.firstOffset,
        ack.count,
        ack.checksum,
      ]);
    }
    const newest = batches[batches.length - 1];
    if (newest) await store.readBatch(ids.streamId, newest.idempotencyKey); // re-verifies its checksum
    expect(
      await store.readRecords(ids.streamId, { fromOffset: Math.max(0, next - 1), limit: 5 }),
    ).toHaveLength(next > 0 ? 1 : 0);
    // Replay: sampled in the same transaction as each batch.
    const replay = await store.replayState(ids.streamId);
    expect([replay.seen, replay.size]).toEqual([next, Math.min(64, next)]);
    expect(await store.loadReplay(ids.streamId)).toHaveLength(replay.size);
  } finally {
    await store.close();
  }
}
