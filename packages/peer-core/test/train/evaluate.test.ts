import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { toTensors } from '../../src/data/labeled-data.js';
import { gaussianClusters } from '../../src/data/synthetic.js';
import { ExpertUsage } from '../../src/metrics/expert-usage.js';
import { PeerClassifier } from '../../src/models/classifier.js';
import { evaluateAccuracy } from '../../src/train/evaluate.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe('evaluateAccuracy', () => {
  it('equals the accuracy of arg-max logits, in any chunking, and accumulates usage per layer', async () => {
    const { test } = gaussianClusters({ classes: 3, dim: 4, testPerClass: 30, seed: 2 });
    const model = new PeerClassifier(
      {
        inDim: 4,
        classes: 3,
        dModel: 8,
        blocks: 2,
        peer: { subKeyRows: 8, subKeyCols: 8, heads: 2, topK: 4, dKey: 8 },
      },
      { seed: 1 },
    );
    const { x, y } = toTensors(test);
    const predicted = tf.tidy(() => tf.argMax(model.logits(x), 1).dataSync());
    const expected = predicted.filter((p, i) => p === test.y[i]).length;
    const before = tf.memory().numTensors;
    const usage = model.peerLayers().map((l) => new ExpertUsage(l.numExperts));
    const whole = await evaluateAccuracy(model, x, y, { usage });
    const chunked = await evaluateAccuracy(model, x, test.y, { batchSize: 7 });
    expect(tf.memory().numTensors).toBe(before);
    expect(whole).toEqual({ accuracy: expected / 90, correct: expected, total: 90 });
    expect(chunked).toEqual(whole);
    // Every token's gates sum to 1 per head: 90 tokens x 2 heads of mass in each layer.
    for (const u of usage) expect(u.stats().totalMass).toBeCloseTo(180, 3);
    expect(usage[0]?.mass).not.toEqual(usage[1]?.mass);
    tf.dispose([x, y]);
    model.dispose();
  });
});
