import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, SMALL_CLASSIFIER, type TestApp } from '../../test/support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('job event stream at the end of a job', () => {
  it('waits for the events a runner appends just after finishing the job row, instead of inventing them', async () => {
    const model = await (
      await t.call('POST', '/v1/models', {
        key: t.keys.write,
        json: { name: 'race', kind: 'classifier', config: SMALL_CLASSIFIER },
      })
    ).json();
    const tenant = await t.store.findTenantByName('acme');
    if (!tenant) throw new Error('no tenant');
    const job = await t.store.createJob({ tenantId: tenant.id, modelId: model.id, kind: 'train', spec: {} });
    await t.store.claimJob(job.id, 'w');
    await t.store.appendJobEvent(job.id, 'progress', { step: 1, steps: 1, loss: 0.5 });
    // The runner's order: finish the row, then append metrics and done.
    await t.store.finishJob(job.id, 'w', { status: 'succeeded', resultVersionId: model.headVersionId });
    setTimeout(async () => {
      await t.store.appendJobEvent(job.id, 'metrics', { steps: 1 });
      await t.store.appendJobEvent(job.id, 'done', { versionId: model.headVersionId });
    }, 600);
    const res = await t.call('GET', `/v1/jobs/${job.id}/events`, { key: t.keys.read });
    const text = await res.text();
    const ids = [...text.matchAll(/^id: ?(\d+)$/gm)].map((m) => Number(m[1]));
    const events = [...text.matchAll(/^event: ?(\w+)$/gm)].map((m) => m[1]);
    expect(events).toEqual(['progress', 'metrics', 'done']);
    expect(ids).toEqual([1, 2, 3]);
  });
});
