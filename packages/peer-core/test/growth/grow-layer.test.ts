import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import { growLayer } from '../../src/growth/grow-layer.js';
import { PeerLayer } from '../../src/layer/peer-layer.js';
import { SparseExpertAdam } from '../../src/train/sparse-expert-adam.js';
import { createRandom } from '../../src/util/random.js';

const cfg = { dModel: 16, heads: 2, topK: 4, dKey: 8, subKeyRows: 8, subKeyCols: 8, capacityRows: 16 };

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

function gaussian(tokens: number, mean: number, seed: number): tf.Tensor2D {
  const data = createRandom(seed).fillNormal(new Float32Array(tokens * cfg.dModel), 1);
  for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) + mean;
  return tf.tensor2d(data, [tokens, cfg.dModel]);
}

function trainSteps(layer: PeerLayer, x: tf.Tensor2D, steps: number) {
  const opt: tf.Optimizer = tf.train.adam(0.01);
  const sparse = new SparseExpertAdam(layer, { learningRate: 0.01 });
  const target = tf.zerosLike(x).add(0.5);
  for (let s = 0; s < steps; s++) {
    const vars = layer.trainableVariables();
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => layer.apply(x, { training: true }).sub(target).square().mean() as tf.Scalar,
        vars,
      );
      opt.applyGradients(grads);
    });
    sparse.step();
  }
  target.dispose();
  opt.dispose();
}

describe('growLayer', () => {
  it('leaves outputs unchanged for inputs that retrieve no new expert, and old parameters bit-identical', async () => {
    const layer = new PeerLayer(cfg, { seed: 1 });
    const old = gaussian(32, 0, 2);
    trainSteps(layer, old, 3);
    const before = await layer.applyAsync(old);
    const beforeOut = await before.output.data();
    const frozenBlock = Float32Array.from(layer.experts.rowRange('u', 0, cfg.subKeyRows));
    const frozenV = Float32Array.from(layer.experts.rowRange('v', 0, cfg.subKeyRows));
    const frozenVars = [...layer.query.variables(), ...layer.keys.segments].map((v) =>
      Float32Array.from(v.dataSync()),
    );

    const fresh = gaussian(64, 3, 3);
    const range = growLayer(layer, { rows: 4, sample: fresh });
    expect(range).toEqual({ from: 64, to: 96 });
    expect(layer.numExperts).toBe(96);
    trainSteps(layer, fresh, 5);

    const after = await layer.applyAsync(old);
    const afterOut = await after.output.data();
    const per = cfg.heads * cfg.topK;
    let unchanged = 0;
    for (let t = 0; t < 32; t++) {
      const ids = after.retrieval.ids.subarray(t * per, (t + 1) * per);
      if (ids.some((id) => id >= range.from)) continue;
      unchanged++;
      expect(Array.from(afterOut.subarray(t * cfg.dModel, (t + 1) * cfg.dModel))).toEqual(
        Array.from(beforeOut.subarray(t * cfg.dModel, (t + 1) * cfg.dModel)),
      );
    }
    expect(unchanged).toBeGreaterThan(0);
    expect(layer.experts.rowRange('u', 0, cfg.subKeyRows)).toEqual(frozenBlock);
    expect(layer.experts.rowRange('v', 0, cfg.subKeyRows)).toEqual(frozenV);
    [...layer.query.variables(), ...layer.keys.segments.slice(0, 1)].forEach((v, i) => {
      expect(Float32Array.from(v.dataSync())).toEqual(frozenVars[i]);
    });
    // New data lands on new experts: k-means sub-keys sit where its queries are.
    const routed = await layer.retrieveAsync(fresh);
    const share = routed.ids.filter((id) => id >= range.from).length / routed.ids.length;
    expect(share).toBeGreaterThan(0.3);
    tf.dispose([old, fresh, before.output, after.output]);
    layer.dispose();
  });

  it('costs O(new rows): growing a bigger pool takes no longer', () => {
    const timeGrow = (rows: number) => {
      const layer = new PeerLayer(
        { ...cfg, subKeyRows: rows, subKeyCols: 64, capacityRows: rows + 8 },
        { seed: 1 },
      );
      const t0 = performance.now();
      growLayer(layer, { rows: 8 });
      const ms = performance.now() - t0;
      layer.dispose();
      return ms;
    };
    timeGrow(16); // warm-up
    const small = Math.min(timeGrow(16), timeGrow(16));
    const large = Math.min(timeGrow(1024), timeGrow(1024));
    expect(large).toBeLessThan(small * 4 + 20);
  });

  it('trains the experts even when the whole router is frozen (no trainable variable upstream)', () => {
    const layer = new PeerLayer(cfg, { seed: 2 });
    layer.query.freeze();
    layer.keys.freezeAll();
    const before = Float32Array.from(layer.experts.rowRange('v', 0, cfg.subKeyRows));
    const x = gaussian(16, 0, 5);
    trainSteps(layer, x, 2);
    expect(layer.experts.rowRange('v', 0, cfg.subKeyRows)).not.toEqual(before);
    x.dispose();
    layer.dispose();
  });

  it('rejects growth past capacity with a typed error naming the bound', () => {
    const layer = new PeerLayer(cfg, { seed: 1 });
    expect(() => growLayer(layer, { rows: 9 })).toThrow(PeerConfigError);
    expect(() => growLayer(layer, { rows: 9 })).toThrow(/'rows' must be <= 8/);
    expect(() => growLayer(layer, { rows: 0 })).toThrow(/'rows' must be an integer >= 1, but got 0/);
    const wrong = tf.zeros([4, cfg.dModel + 1]) as tf.Tensor2D;
    expect(() => growLayer(layer, { rows: 1, sample: wrong })).toThrow(/'sample' must be \[n, 16\]/);
    expect(() => growLayer(layer, { rows: 1, claimShare: 1.5 })).toThrow(
      /'claimShare' must be a share in \(0, 1\]/,
    );
    wrong.dispose();
    layer.dispose();
  });

  it('with claimShare, the new keys out-score every old key for about that share of the stream queries', () => {
    const claimed = (claimShare?: number) => {
      const layer = new PeerLayer(cfg, { seed: 4 });
      const sample = gaussian(256, 0.3, 9);
      const oldRows = layer.keys.rows;
      growLayer(layer, { rows: 2, sample, ...(claimShare === undefined ? {} : { claimShare }) });
      // Share of (token, head) queries whose best first-half score is a new row's.
      const share = tf.tidy(() => {
        const q1 = layer.query.apply(sample, false)[0]; // [n*H, half]
        const keys = layer.keys.rowKeys(); // [KH, rows, half]
        const perHead = tf.unstack(keys).map((k, h) => {
          const rowsOfHead = q1.reshape([-1, cfg.heads, cfg.dKey / 2]).gather(h, 1);
          return rowsOfHead.matMul(k, false, true).argMax(1);
        });
        return tf.stack(perHead).greaterEqual(oldRows).mean().dataSync()[0] ?? Number.NaN;
      });
      sample.dispose();
      layer.dispose();
      return share;
    };
    const [half, most] = [claimed(0.5), claimed(0.9)];
    expect(most).toBeGreaterThan(0.8); // 0.9 of each cluster's queries that point its way
    expect(half).toBeGreaterThan(0.4);
    expect(half).toBeLessThan(0.6);
  });
});
