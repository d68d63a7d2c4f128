import * as tf from '@tensorflow/tfjs';
import { it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { seededValues } from './helpers.js';
it('debug', async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
  console.log('backend', tf.getBackend());
  for (const gen of ['seeded', 'uniform', 'seeded-tidy']) {
    const a = gen === 'uniform' ? tf.randomUniform([1024, 512]) : tf.tensor2d(seededValues(1024 * 512, 1), [1024, 512]);
    const b = gen === 'uniform' ? tf.randomUniform([512, 2048]) : tf.tensor2d(seededValues(512 * 2048, 2), [512, 2048]);
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b); c.dataSync(); c.dispose();
      console.log(gen, (performance.now() - t0).toFixed(1), 'ms');
    }
  }
});
