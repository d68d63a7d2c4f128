import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/index.js';
import { parsePeerConfig } from '../../../src/config/peer-config.js';
import { QueryNetwork } from '../../../src/layer/query-network.js';
import { CharTransformer } from '../../../src/models/char-transformer.js';
import { createRandom } from '../../../src/util/random.js';
import { expectAllClose } from './expect-close.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe('query batch-norm recalibration (PreciseBN)', () => {
  it('makes inference-mode queries equal the batch-statistics queries of the same inputs', () => {
    const config = parsePeerConfig({ dModel: 6, heads: 2, dKey: 4, subKeyRows: 4, subKeyCols: 4, topK: 2 });
    const query = new QueryNetwork(config, createRandom(1));
    const x = tf.tensor2d(createRandom(2).fillNormal(new Float32Array(30 * 6), 3), [30, 6]);
    const before = tf.memory().numTensors;
    query.recalibrate(x);
    const inference = tf.tidy(() => query.apply(x, false).map((q) => q.arraySync()));
    const training = tf.tidy(() => query.apply(x, true).map((q) => q.arraySync()));
    expectAllClose(inference.flat(), training.flat(), 4);
    query.dispose(); // the serving cache
    expect(tf.memory().numTensors).toBe(before);
    for (const v of query.variables()) v.dispose();
    x.dispose();
  });

  it('leaves a frozen query network alone', () => {
    const config = parsePeerConfig({ dModel: 4, heads: 1, dKey: 2, subKeyRows: 2, subKeyCols: 2, topK: 1 });
    const query = new QueryNetwork(config, createRandom(3));
    query.freeze();
    const x = tf.fill([5, 4], 7) as tf.Tensor2D;
    query.recalibrate(x);
    expect(Array.from(query.halves[0].movingMean?.dataSync() ?? [])).toEqual([0]);
    x.dispose();
    query.dispose();
    for (const v of query.variables()) v.dispose();
  });

  it.each(['peer', 'pkm'] as const)(
    'CharTransformer(%s): after recalibrating on a batch, inference logits equal training-mode logits',
    (ffn) => {
      const lm = new CharTransformer(
        {
          vocabSize: 11,
          contextLength: 8,
          dModel: 16,
          heads: 2,
          ffn,
          peer: { heads: 2, topK: 2, dKey: 8, subKeyRows: 4, subKeyCols: 4 },
          pkm: { heads: 2, topK: 2, dKey: 8, subKeyRows: 4, subKeyCols: 4 },
        },
        { seed: 4 },
      );
      const rng = createRandom(5);
      const tokens = Int32Array.from({ length: 6 * 8 }, () => rng.int(11));
      lm.recalibrateNorms({ tokens, batch: 6 }); // also builds the serving caches
      const before = tf.memory().numTensors;
      lm.recalibrateNorms({ tokens, batch: 6 });
      expect(tf.memory().numTensors).toBe(before);
      const inference = tf.tidy(() => lm.logits({ tokens, batch: 6 }, { training: false }).arraySync());
      // Training mode normalises with the batch's own statistics: no dropout or noise elsewhere in this model.
      const training = tf.tidy(() => lm.logits({ tokens, batch: 6 }, { training: true }).arraySync());
      expectAllClose(inference, training, 3);
      lm.dispose();
    },
  );
});
