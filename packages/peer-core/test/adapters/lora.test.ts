import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { meanEmbedding } from '../../src/adapters/adapter-embedding.js';
import { AdapterRegistry } from '../../src/adapters/adapter-registry.js';
import { autoMix, predictWithAdapters, selectAdapters } from '../../src/adapters/adapter-selection.js';
import { LoraAdapter } from '../../src/adapters/lora-adapter.js';
import { adaptedLogits, linearShapes } from '../../src/adapters/lora-forward.js';
import { trainAdapter } from '../../src/adapters/train-adapter.js';
import { initBackend } from '../../src/backend/index.js';
import { filterByLabel } from '../../src/data/labeled-data.js';
import { gaussianClusters } from '../../src/data/synthetic.js';
import { PeerError } from '../../src/errors/peer-error.js';
import { PeerClassifier } from '../../src/models/classifier.js';
import type { DenseFeedForward } from '../../src/models/feed-forward.js';
import { createRandom } from '../../src/util/random.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const peer = { subKeyRows: 8, subKeyCols: 8, heads: 2, topK: 4, dKey: 8 } as const;
const owned: { dispose(): void }[] = [];
const keep = <T extends { dispose(): void }>(m: T): T => {
  owned.push(m);
  return m;
};
afterEach(() => {
  for (const m of owned.splice(0)) m.dispose();
});

const model = (ffn: 'peer' | 'dense' = 'peer') =>
  keep(
    new PeerClassifier(
      { inDim: 6, classes: 3, dModel: 8, blocks: 1, ffn, peer, denseMultiplier: 2 },
      { seed: 1 },
    ),
  );
const inputs = (n: number, seed = 2) =>
  tf.tensor2d(createRandom(seed).fillNormal(new Float32Array(n * 6), 1), [n, 6]);
const values = (t: tf.Tensor) => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

/** An adapter with random (non-zero) B, so it changes the output. */
function randomAdapter(m: PeerClassifier, name: string, targets: string[], seed: number): LoraAdapter {
  const adapter = keep(
    LoraAdapter.create({ name, rank: 2, alpha: 4, modules: linearShapes(m, targets), seed }),
  );
  const rng = createRandom(seed + 100);
  for (const mod of adapter.modules.values())
    mod.b.assign(tf.tensor2d(rng.fillNormal(new Float32Array(mod.b.size), 0.5), mod.b.shape));
  return adapter;
}

describe('LoRA forward', () => {
  it('without adapters equals the classifier forward exactly (PEER and dense blocks)', () => {
    for (const kind of ['peer', 'dense'] as const) {
      const m = model(kind);
      const x = inputs(5);
      expect(values(adaptedLogits(m, x, null))).toEqual(values(m.logits(x)));
      x.dispose();
    }
  });

  it('a fresh adapter (B = 0) is a no-op', () => {
    const m = model('dense');
    const adapter = keep(
      LoraAdapter.create({
        name: 'fresh',
        rank: 3,
        alpha: 6,
        modules: linearShapes(m, ['input', 'blocks.0.ffn.up', 'heads.0']),
      }),
    );
    const x = inputs(4);
    const mix = { adapters: [adapter], weights: new Float32Array(4).fill(1) };
    expect(values(adaptedLogits(m, x, mix))).toEqual(values(m.logits(x)));
    x.dispose();
  });

  it('equals the dense model with W + (alpha/r) (B A)^T merged into each target (hand-computed product)', () => {
    const m = model('dense');
    const targets = ['input', 'blocks.0.ffn.down'] as const;
    const adapter = randomAdapter(m, 'a', [...targets], 3);
    const x = inputs(5);
    const adapted = values(
      adaptedLogits(m, x, { adapters: [adapter], weights: new Float32Array(5).fill(1) }),
    );
    // The same model (same seed) with the update merged by hand: W[i][o] += (alpha/r) sum_k B[o][k] A[k][i].
    const merged = model('dense');
    const ffn = merged.blocks[0]?.ffn as DenseFeedForward;
    const dense = { input: merged.input, 'blocks.0.ffn.down': ffn.down };
    for (const name of targets) {
      const mod = adapter.modules.get(name);
      if (!mod) throw new Error(name);
      const A = mod.a.dataSync();
      const B = mod.b.dataSync();
      const delta = new Float32Array(mod.inDim * mod.outDim);
      for (let i = 0; i < mod.inDim; i++)
        for (let o = 0; o < mod.outDim; o++) {
          let s = 0;
          for (let k = 0; k < adapter.rank; k++)
            s += (B[o * adapter.rank + k] ?? 0) * (A[k * mod.inDim + i] ?? 0);
          delta[i * mod.outDim + o] = (adapter.alpha / adapter.rank) * s;
        }
      for (const [j, v] of adapter.deltaWeight(name).entries())
        expect(v).toBeCloseTo(delta[j] ?? Number.NaN, 5);
      const target = dense[name];
      target.weight.assign(tf.tidy(() => target.weight.add(tf.tensor2d(delta, target.weight.shape))));
    }
    const reference = values(merged.logits(x));
    for (const [i, v] of adapted.entries()) expect(v).toBeCloseTo(reference[i] ?? Number.NaN, 4);
    x.dispose();
  });
});

/** Two domains far apart: inputs of cluster set 0 and the same shifted by +5. */
function domains() {
  const { train } = gaussianClusters({ classes: 3, dim: 6, trainPerClass: 30, seed: 4 });
  const shifted = { ...train, x: train.x.map((v) => v + 5) };
  return [train, shifted] as const;
}

describe('adapter selection', () => {
  it('auto retrieves the adapter whose key matches the inputs, explicit applies exactly the named one', async () => {
    const m = model();
    const registry = keep(new AdapterRegistry());
    const [near, far] = domains();
    const a = randomAdapter(m, 'near', ['input'], 5);
    const b = randomAdapter(m, 'far', ['input', 'heads.0'], 6);
    owned.splice(owned.indexOf(a), 1);
    owned.splice(owned.indexOf(b), 1);
    a.key = await meanEmbedding(m, near.x, near.size, near.dim);
    b.key = await meanEmbedding(m, far.x, far.size, far.dim);
    registry.add(a);
    registry.add(b);
    const x = tf.tensor2d(far.x.subarray(0, 8 * 6), [8, 6]);
    const mix = await selectAdapters(m, registry, x, 'auto');
    expect(mix?.adapters.map((ad) => ad.id)).toEqual(['near@1', 'far@1']);
    for (let r = 0; r < 8; r++) expect(mix?.weights[r * 2 + 1]).toBe(1); // top-1: all weight on 'far'
    const auto = await predictWithAdapters(m, registry, x, { selection: 'auto' });
    expect(auto.used).toEqual([
      { id: 'near@1', meanWeight: 0 },
      { id: 'far@1', meanWeight: 1 },
    ]);
    const explicit = await predictWithAdapters(m, registry, x, { selection: [{ name: 'far', weight: 1 }] });
    const only = tf.softmax(adaptedLogits(m, x, { adapters: [b], weights: new Float32Array(8).fill(1) }));
    expect(Array.from(explicit.probabilities)).toEqual(values(only));
    expect(Array.from(auto.probabilities)).toEqual(Array.from(explicit.probabilities));
    const none = await predictWithAdapters(m, registry, x, { selection: 'none' });
    expect(Array.from(none.probabilities)).toEqual(values(tf.softmax(m.logits(x))));
    expect(none.used).toEqual([]);
    x.dispose();
  });

  it('mixes the top-k adapters by softmax of cosine scores over a temperature', () => {
    const keyed = (name: string, key: number[]) => {
      const ad = keep(
        LoraAdapter.create({ name, rank: 1, alpha: 1, modules: { input: { inDim: 2, outDim: 2 } } }),
      );
      ad.key = Float32Array.from(key);
      return ad;
    };
    const adapters = [keyed('x', [1, 0]), keyed('y', [0, 1]), keyed('xy', [1, 1])];
    const { weights } = autoMix(Float32Array.from([2, 0]), 2, adapters, { topK: 2, temperature: 0.5 });
    // Scores: cos = 1, 0, 1/sqrt(2); top-2 = x, xy; weights softmax([1, 0.7071] / 0.5).
    const e = [Math.exp(0), Math.exp((1 / Math.SQRT2 - 1) / 0.5)];
    const sum = (e[0] ?? 0) + (e[1] ?? 0);
    expect(weights[0]).toBeCloseTo((e[0] ?? 0) / sum, 6);
    expect(weights[1]).toBe(0);
    expect(weights[2]).toBeCloseTo((e[1] ?? 0) / sum, 6);
    expect(() => autoMix(Float32Array.from([1, 0]), 2, adapters, { topK: 0 })).toThrow(
      /'topK' must be an integer >= 1/,
    );
  });

  it('the registry addresses name@version, latest by default, and rejects unknown or repeated ones', () => {
    const registry = keep(new AdapterRegistry());
    const make = (version: string) =>
      LoraAdapter.create({
        name: 'n',
        version,
        rank: 1,
        alpha: 1,
        modules: { input: { inDim: 2, outDim: 2 } },
      });
    registry.add(make('1'));
    registry.add(make('2'));
    expect(registry.get('n').id).toBe('n@2');
    expect(registry.get('n', '1').id).toBe('n@1');
    expect(registry.latest().map((a) => a.id)).toEqual(['n@2']);
    expect(() => registry.get('n', '3')).toThrow(PeerError);
    const dup = make('2');
    expect(() => registry.add(dup)).toThrow(/name@version/);
    dup.dispose();
    registry.remove('n', '2');
    expect(registry.get('n').id).toBe('n@1');
  });
});

describe('trainAdapter', () => {
  it('trains only A and B (base bit-identical), lowers the loss and sets the retrieval key', async () => {
    const m = model();
    const [near] = domains();
    const data = filterByLabel(near, () => true);
    const adapter = keep(
      LoraAdapter.create({
        name: 's',
        rank: 2,
        alpha: 4,
        modules: linearShapes(m, ['input', 'heads.0']),
        seed: 1,
      }),
    );
    const base = m.trainableVariables().map((v) => Float32Array.from(v.dataSync()));
    const experts = Float32Array.from(m.peerLayers()[0]?.experts.u.data.subarray(0, 64 * 8) ?? []);
    const history = await trainAdapter(m, adapter, data, {
      steps: 30,
      batchSize: 16,
      trainer: { learningRate: 0.02 },
    });
    for (const [i, v] of m.trainableVariables().entries()) {
      const before = base[i] ?? new Float32Array(0);
      expect(Buffer.from(v.dataSync().buffer).equals(Buffer.from(before.buffer))).toBe(true);
    }
    expect(m.peerLayers()[0]?.experts.u.data.subarray(0, 64 * 8)).toEqual(experts);
    const first = history.losses.slice(0, 5).reduce((a, b) => a + b, 0);
    const last = history.losses.slice(-5).reduce((a, b) => a + b, 0);
    expect(last).toBeLessThan(first);
    expect(adapter.key?.length).toBe(2 * 8); // heads * dKey of the first PEER layer's query
    expect(
      adapter.modules
        .get('input')
        ?.b.dataSync()
        .some((v) => v !== 0),
    ).toBe(true);
  });
});
