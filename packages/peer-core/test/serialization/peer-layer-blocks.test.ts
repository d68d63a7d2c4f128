import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { growLayer } from '../../src/growth/grow-layer.js';
import { PeerLayer } from '../../src/layer/peer-layer.js';
import { peerLayerBlocks, peerLayerFromBlocks, peerLayerState } from '../../src/serialization/index.js';
import { createRandom } from '../../src/util/random.js';

const cfg = { dModel: 16, heads: 2, topK: 4, dKey: 8, subKeyRows: 8, subKeyCols: 8, capacityRows: 16 };
const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe('PEER layer serialization', () => {
  it('round-trips exactly: same blocks, same outputs', async () => {
    const layer = new PeerLayer(cfg, { seed: 6 });
    const x = tf.tensor2d(createRandom(2).fillNormal(new Float32Array(10 * 16), 1), [10, 16]);
    growLayer(layer, { rows: 3, sample: x });
    const blocks = [...peerLayerBlocks(layer, 'peer0')];
    const copy = peerLayerFromBlocks(peerLayerState(layer), blocks, 'peer0', { seed: 99 });
    expect([...peerLayerBlocks(copy, 'peer0')].map((b) => [b.name, hash(b.bytes)])).toEqual(
      blocks.map((b) => [b.name, hash(b.bytes)]),
    );
    const a = await layer.applyAsync(x);
    const b = await copy.applyAsync(x);
    expect(Array.from(await b.output.data())).toEqual(Array.from(await a.output.data()));
    expect(copy.frozenExperts).toBe(layer.frozenExperts);
    expect(copy.query.frozen).toBe(true);
    tf.dispose([x, a.output, b.output]);
    layer.dispose();
    copy.dispose();
  });

  it('a growth step adds blocks and leaves every old block byte-identical', () => {
    const layer = new PeerLayer(cfg, { seed: 6 });
    const before = new Map([...peerLayerBlocks(layer, 'p')].map((b) => [b.name, hash(b.bytes)]));
    growLayer(layer, { rows: 4 });
    const after = new Map([...peerLayerBlocks(layer, 'p')].map((b) => [b.name, hash(b.bytes)]));
    for (const [name, h] of before) expect(after.get(name), name).toBe(h);
    const added = [...after.keys()].filter((n) => !before.has(n));
    expect(added).toEqual(
      expect.arrayContaining([
        'p.keys.rows.000008-000012',
        'p.experts.u.rows.000008-000012',
        'p.experts.v.rows.000008-000012',
      ]),
    );
    layer.dispose();
  });

  it('rejects a block of the wrong size with a typed error naming it', () => {
    const layer = new PeerLayer(cfg, { seed: 6 });
    const blocks = [...peerLayerBlocks(layer, 'p')].map((b) =>
      b.name === 'p.query.1.weight' ? { ...b, bytes: b.bytes.subarray(4) } : b,
    );
    expect(() => peerLayerFromBlocks(peerLayerState(layer), blocks, 'p')).toThrow(/p\.query\.1\.weight/);
    layer.dispose();
  });
});
