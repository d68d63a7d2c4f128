import type { AdapterStore } from '@peer/adapter-store';
import { parseClassifierConfig } from '@peer/core';
import { resolveTrainSpec, trainSpecJson } from '../../src/jobs/train-spec.js';
import { commitInitialVersion } from '../../src/models/initial-version.js';
import { type ModelSpec, specJson } from '../../src/models/model-spec.js';
import { SMALL_CLASSIFIER, smallRecords } from './test-app.js';

/**
 * A `SMALL_CLASSIFIER` model straight in the store (version 1 committed) with a stream 'a' of 150
 * acknowledged records and 50 more in a discarded batch, and a maker of 20-iteration training jobs on it.
 */
export async function setupTrainingJob(store: AdapterStore, name: string) {
  const tenant = (await store.findTenantByName('runner')) ?? (await store.createTenant({ name: 'runner' }));
  const spec: ModelSpec = {
    kind: 'classifier',
    classifier: parseClassifierConfig(SMALL_CLASSIFIER),
    seed: 0,
    defaultStrategy: { plugins: ['freeze-and-grow', 'replay'], settings: {} },
  };
  const model = await store.createModel({ tenantId: tenant.id, name, config: specJson(spec) });
  await commitInitialVersion(store, model, spec, 'test');
  const stream = await store.createStream({ modelId: model.id, name: 'a' });
  await store.configureReplay(stream.id, { capacity: 100, seed: 0 });
  const records = smallRecords(200)
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  await store.recordBatch({
    streamId: stream.id,
    idempotencyKey: 'k:0',
    records: records.slice(0, 150),
    sampleReplay: true,
  });
  // A batch of a request that was never acknowledged: it must not be trained on.
  await store.recordBatch({
    streamId: stream.id,
    idempotencyKey: 'k2:0',
    records: records.slice(150),
    sampleReplay: true,
  });
  await store.setBatchStatus(stream.id, 'k2:0', 'discarded');
  const trainSpec = resolveTrainSpec(
    { stream: 'a', iterations: 20, batchSize: 32, learningRate: 0.01, seed: 0 },
    stream.id,
    spec.defaultStrategy,
  );
  const createJob = (maxAttempts = 3, iterations = trainSpec.iterations) =>
    store.createJob({
      tenantId: tenant.id,
      modelId: model.id,
      kind: 'train',
      spec: trainSpecJson({ ...trainSpec, iterations }),
      maxAttempts,
    });
  return { model, stream, createJob };
}
