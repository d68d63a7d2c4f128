import { beforeAll, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { ContinualLearner } from '../../src/continual/continual-learner.js';
import { FreezeAndGrowPlugin } from '../../src/continual/freeze-and-grow.js';
import { syntheticStreams, tinyModel } from './helpers.js';
beforeAll(async () => { await initBackend({ backend: 'wasm' }); });
it('probe', async () => {
  for (const rows of [1, 2, 4]) for (const blocks of [1, 2]) {
    const model = tinyModel('task', 2, { blocks });
    const learner = new ContinualLearner(model, { scenario: 'task', steps: 25, batchSize: 16, probeSize: 20 }, { plugins: [new FreezeAndGrowPlugin({ rows, seed: 1 })] });
    const r = await learner.run(syntheticStreams('task'));
    console.log(rows, blocks, JSON.stringify(r.reports[1]?.routingChange), JSON.stringify(r.accuracy));
    model.dispose();
  }
});
