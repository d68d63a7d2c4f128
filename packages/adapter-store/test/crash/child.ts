/**
 * Crash-test writer, run as a separate process (tsx) and killed with SIGKILL at a random moment by
 * `crash.test.ts`. It commits growth versions and records ingest batches concurrently and prints one
 * line per acknowledgement (stdout to a pipe is synchronous on Linux, so a printed ack happened):
 *   ready | begin <seq> | commit <versionId> <seq> <contentHash> | send <i> | ack <i> <firstOffset> <count> <checksum>
 * Usage: child.ts <pglite|postgres> <dataDir|url> <modelId> <streamId> <firstBatch>
 */
import { openStore } from '../../src/index.js';
import { batchKey, batchRecords, CRASH_ROWS_PER_BLOCK, growthBlocks } from './workload.js';

const [driver, target, modelId, streamId, firstBatch] = process.argv.slice(2);
if (!driver || !target || !modelId || !streamId || firstBatch === undefined)
  throw new Error('usage: child.ts driver target model stream batch');

// Never outlive the test: exit when orphaned (the parent died without killing us) or after 90 s.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && process.exit(3), 250).unref();
setTimeout(() => process.exit(4), 90_000).unref();

const store = driver === 'pglite' ? await openStore({ dataDir: target }) : await openStore({ url: target });
const say = (line: string) => process.stdout.write(`${line}\n`);

async function commitLoop(): Promise<never> {
  for (;;) {
    const model = await store.getModel(modelId as string);
    const head = model.headVersionId;
    if (!head) throw new Error('crash model has no head');
    const manifest = await store.getManifest(head);
    const rows = manifest.filter((e) => e.name.startsWith('peer0.experts.u.')).length * CRASH_ROWS_PER_BLOCK;
    const { blocks } = growthBlocks(model.versionCount + 1, rows);
    say(`begin ${model.versionCount + 1}`);
    const res = await store.commitVersion({
      modelId: model.id,
      parentId: head,
      blocks,
      message: `grow to ${rows}`,
    });
    say(`commit ${res.version.id} ${res.version.seq} ${res.version.contentHash}`);
  }
}

async function ingestLoop(): Promise<never> {
  for (let i = Number(firstBatch); ; i++) {
    say(`send ${i}`);
    const r = await store.recordBatch({
      streamId: streamId as string,
      idempotencyKey: batchKey(i),
      records: batchRecords(i),
      sampleReplay: true,
    });
    say(`ack ${i} ${r.firstOffset} ${r.recordCount} ${r.checksum}`);
  }
}

say('ready');
await Promise.all([commitLoop(), ingestLoop()]);
