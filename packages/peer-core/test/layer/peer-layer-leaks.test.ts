import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { growLayer } from '../../src/growth/grow-layer.js';
import { PeerLayer } from '../../src/layer/peer-layer.js';
import { SparseExpertAdam } from '../../src/train/sparse-expert-adam.js';
import { createRandom } from '../../src/util/random.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe('tensor memory', () => {
  it('does not grow across forward, backward, optimizer steps, async inference and growth', async () => {
    const layer = new PeerLayer(
      { dModel: 16, heads: 2, topK: 4, dKey: 8, subKeyRows: 8, subKeyCols: 8, capacityRows: 12 },
      { seed: 4 },
    );
    const x = tf.tensor2d(createRandom(1).fillNormal(new Float32Array(64 * 16), 1), [64, 16]);
    let optimizer: tf.Optimizer = tf.train.adam(1e-2);
    const sparse = new SparseExpertAdam(layer, { learningRate: 1e-2 });
    const step = () => {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () => layer.apply(x, { training: true }).square().mean() as tf.Scalar,
          layer.trainableVariables(),
        );
        optimizer.applyGradients(grads);
      });
      sparse.step();
    };
    const infer = async () => {
      const { output } = await layer.applyAsync(x);
      output.dispose();
    };
    step(); // the optimizer creates its slot variables on the first step
    await infer();
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      step();
      await infer();
    }
    expect(tf.memory().numTensors).toBe(baseline);
    growLayer(layer, { rows: 2, sample: x });
    // tfjs Adam keys its moments by position in the gradient list, so a changed trainable set (the growth
    // froze the query network and old keys) needs a fresh optimizer: one per stream.
    optimizer.dispose();
    optimizer = tf.train.adam(1e-2);
    step(); // the new optimizer creates its slots once
    const afterGrowth = tf.memory().numTensors;
    step();
    await infer();
    expect(tf.memory().numTensors).toBe(afterGrowth);
    x.dispose();
    optimizer.dispose();
    layer.dispose();
  });
});
