import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { growLayer } from '../../src/growth/grow-layer.js';
import { PeerLayer } from '../../src/layer/peer-layer.js';
import { bruteForceTopk } from '../../src/retrieval/brute-force-topk.js';
import { createRandom } from '../../src/util/random.js';
import { referenceParamsOf } from '../support/layer-params.js';
import { gelu, referenceForward } from '../support/reference-peer.js';

const base = { dModel: 16, heads: 3, topK: 4, dKey: 8, subKeyRows: 6, subKeyCols: 7, queryBatchNorm: false };

function randomInput(tokens: number, d: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(createRandom(seed).fillNormal(new Float32Array(tokens * d), 1), [tokens, d]);
}

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe('PeerLayer forward', () => {
  it.each([
    { sharedKeys: true, activation: 'gelu' as const },
    { sharedKeys: false, activation: 'relu' as const },
  ])('retrieves the brute-force top-k over all N experts (%o)', (variant) => {
    const layer = new PeerLayer({ ...base, ...variant }, { seed: 3 });
    const tokens = 5;
    const x = randomInput(tokens, base.dModel, 9);
    const { ids, selection, gates } = layer.route(x, false);
    // Recompute every sub-key score in JS and brute-force the top-k over rows*cols experts.
    const p = referenceParamsOf(layer, false);
    const half = base.dKey / 2;
    const [w1, w2] = layer.query.halves.map((h) => tf.matMul(x, h.weight).arraySync() as number[][]);
    for (let b = 0; b < tokens; b++)
      for (let h = 0; h < base.heads; h++) {
        const kh = variant.sharedKeys ? 0 : h;
        const s1 = new Float32Array(base.subKeyRows);
        const s2 = new Float32Array(base.subKeyCols);
        for (let i = 0; i < base.subKeyRows; i++)
          for (let c = 0; c < half; c++)
            s1[i] = (s1[i] ?? 0) + (w1?.[b]?.[h * half + c] ?? 0) * (p.c1[(kh * p.rows + i) * half + c] ?? 0);
        for (let j = 0; j < base.subKeyCols; j++)
          for (let c = 0; c < half; c++)
            s2[j] = (s2[j] ?? 0) + (w2?.[b]?.[h * half + c] ?? 0) * (p.c2[(kh * p.cols + j) * half + c] ?? 0);
        const expected = bruteForceTopk(s1, s2, 1, base.subKeyRows, base.subKeyCols, base.topK);
        const got = ids.subarray((b * base.heads + h) * base.topK, (b * base.heads + h + 1) * base.topK);
        // Float32 matmul vs JS accumulation may reorder near-ties: compare as sets of ids.
        expect([...got].sort((a, z) => a - z)).toEqual([...expected.ids].sort((a, z) => a - z));
      }
    // Ids are grid positions i * cols + j of the selected sub-keys, never candidate positions.
    for (let s = 0; s < selection.ids.length; s++) {
      expect(selection.ids[s]).toBe(
        (selection.rowIndex[s] ?? 0) * base.subKeyCols + (selection.colIndex[s] ?? 0),
      );
    }
    gates.dispose();
    x.dispose();
    layer.dispose();
  });

  it('matches the float64 reference forward and gates sum to one per head', () => {
    const layer = new PeerLayer({ ...base, queryBatchNorm: true }, { seed: 5 });
    const tokens = 6;
    const x = randomInput(tokens, base.dModel, 11);
    const { ids, selection, gates } = layer.route(x, true);
    const gateData = gates.dataSync();
    for (let r = 0; r < tokens * base.heads; r++) {
      let sum = 0;
      for (let t = 0; t < base.topK; t++) sum += gateData[r * base.topK + t] ?? 0;
      expect(sum).toBeCloseTo(1, 5);
    }
    const y = layer.apply(x, { training: true });
    const p = referenceParamsOf(layer, true);
    const sel = { rowIndex: selection.rowIndex, colIndex: selection.colIndex };
    const ref = referenceForward(p, Float64Array.from(x.dataSync()), tokens, sel);
    const got = y.dataSync();
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(ref.y[i] ?? 0, 4);
    expect(ids.length).toBe(tokens * base.heads * base.topK);
    tf.dispose([x, y, gates]);
    layer.dispose();
  });

  it('with k = 1 equals an MLP of h neurons (the retrieved ones), heads summed', () => {
    const layer = new PeerLayer({ ...base, topK: 1, queryBatchNorm: false }, { seed: 8 });
    const tokens = 4;
    const x = randomInput(tokens, base.dModel, 12);
    const { ids, gates } = layer.route(x, false);
    expect(Array.from(gates.dataSync())).toEqual(new Array(tokens * base.heads).fill(1));
    const y = layer.apply(x).arraySync();
    const xs = x.arraySync();
    const { u, v } = layer.experts;
    const d = base.dModel;
    for (let b = 0; b < tokens; b++) {
      const expected = new Float64Array(d);
      for (let h = 0; h < base.heads; h++) {
        const id = ids[b * base.heads + h] ?? 0;
        let a = 0;
        for (let c = 0; c < d; c++) a += (u.data[id * d + c] ?? 0) * (xs[b]?.[c] ?? 0);
        for (let c = 0; c < d; c++) expected[c] = (expected[c] ?? 0) + gelu(a) * (v.data[id * d + c] ?? 0);
      }
      for (let c = 0; c < d; c++) expect(y[b]?.[c]).toBeCloseTo(expected[c] ?? 0, 5);
    }
    tf.dispose([x, gates]);
    layer.dispose();
  });

  it.each([
    { sharedKeys: true, queryBatchNorm: true, grow: false },
    { sharedKeys: false, queryBatchNorm: true, grow: false },
    { sharedKeys: true, queryBatchNorm: false, grow: true },
  ])(
    'serves a token alone (tfjs-free small-batch path) as within a batch (tfjs path): %o',
    async (variant) => {
      const layer = new PeerLayer(
        { ...base, sharedKeys: variant.sharedKeys, queryBatchNorm: variant.queryBatchNorm, capacityRows: 9 },
        { seed: 2 },
      );
      const x = randomInput(400, base.dModel, 4); // 400 * 3 * (rows + cols) key dots: routed through tfjs
      if (variant.grow) growLayer(layer, { rows: 3, sample: x });
      const batch = await layer.applyAsync(x);
      const batchOut = await batch.output.data();
      const per = base.heads * base.topK;
      for (const t of [0, 5, 399]) {
        const one = x.slice([t, 0], [1, base.dModel]);
        const single = await layer.applyAsync(one);
        expect(Array.from(single.retrieval.ids)).toEqual(
          Array.from(batch.retrieval.ids.subarray(t * per, (t + 1) * per)),
        );
        const out = await single.output.data();
        for (let c = 0; c < base.dModel; c++)
          expect(out[c]).toBeCloseTo(batchOut[t * base.dModel + c] ?? 0, 5);
        tf.dispose([one, single.output]);
      }
      const syncOut = layer.apply(x);
      expect(Array.from(syncOut.dataSync())).toEqual(Array.from(batchOut));
      tf.dispose([x, batch.output, syncOut]);
      layer.dispose();
    },
  );
});
