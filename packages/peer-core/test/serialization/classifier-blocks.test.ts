import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { growLayer } from '../../src/growth/grow-layer.js';
import { PeerClassifier } from '../../src/models/classifier.js';
import { deserializeClassifier, serializeClassifier } from '../../src/serialization/index.js';
import { createRandom } from '../../src/util/random.js';

const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe('classifier serialization', () => {
  it.each(['peer', 'dense'] as const)(
    'round-trips a %s classifier exactly (blocks, growth, predictions)',
    async (ffn) => {
      const model = new PeerClassifier(
        {
          inDim: 12,
          classes: 3,
          dModel: 16,
          blocks: 2,
          taskHeads: 2,
          ffn,
          peer: { heads: 2, topK: 2, dKey: 8, subKeyRows: 4, subKeyCols: 4, capacityRows: 8 },
        },
        { seed: 3 },
      );
      const x = tf.tensor2d(createRandom(5).fillNormal(new Float32Array(7 * 12), 1), [7, 12]);
      const [first] = model.peerLayers();
      if (first) growLayer(first, { rows: 2 });
      const { manifest, blocks } = serializeClassifier(model);
      const saved = [...blocks];
      const copy = deserializeClassifier(JSON.parse(JSON.stringify(manifest)), saved);
      const again = [...serializeClassifier(copy).blocks];
      expect(again.map((b) => [b.name, hash(b.bytes)])).toEqual(saved.map((b) => [b.name, hash(b.bytes)]));
      for (const task of [0, 1]) {
        const a = await model.predictAsync(x, { task });
        const b = await copy.predictAsync(x, { task });
        expect(Array.from(b.probabilities)).toEqual(Array.from(a.probabilities));
      }
      expect(() =>
        deserializeClassifier(
          manifest,
          saved.filter((b) => b.name !== 'heads.1.bias'),
        ),
      ).toThrow(/heads\.1\.bias/);
      x.dispose();
      model.dispose();
      copy.dispose();
    },
  );
});
