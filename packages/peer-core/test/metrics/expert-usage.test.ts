import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import { PeerLayer } from '../../src/layer/peer-layer.js';
import { ExpertUsage, expertUsageStats } from '../../src/metrics/expert-usage.js';
import { createRandom } from '../../src/util/random.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe('expert usage (Lample et al. 2019; PEER Table 2)', () => {
  it('matches hand-computed usage and unevenness', () => {
    // Two of four experts share the mass equally: usage 1/2, KL = 2 * 1/2 * ln(4 * 1/2) = ln 2.
    const half = new ExpertUsage(4);
    half.add({ ids: Int32Array.of(0, 1, 0, 1), gates: Float32Array.of(0.5, 0.5, 0.5, 0.5) });
    expect(half.stats()).toEqual({
      numExperts: 4,
      usedExperts: 2,
      usage: 0.5,
      unevenness: Math.LN2,
      totalMass: 2,
    });
    // Mass 3 : 1 : 0 : 0 -> z = (3/4, 1/4): KL = 3/4 ln 3 + 1/4 ln 1 = 0.8239592165010822.
    const skewed = expertUsageStats([3, 1, 0, 0]);
    expect(skewed.usage).toBe(0.5);
    expect(skewed.unevenness).toBeCloseTo(0.8239592165010822, 14);
    // Uniform: KL 0; all mass on one of 8: KL = ln 8.
    expect(expertUsageStats([2, 2, 2, 2]).unevenness).toBeCloseTo(0, 14);
    expect(expertUsageStats([0, 0, 5, 0, 0, 0, 0, 0]).unevenness).toBeCloseTo(Math.log(8), 14);
    expect(expertUsageStats([0, 0, 5, 0, 0, 0, 0, 0]).usage).toBe(1 / 8);
    // No mass at all: nothing was measured.
    expect(expertUsageStats([0, 0]).unevenness).toBeNaN();
  });

  it('accumulates over several retrievals and resets', () => {
    const usage = new ExpertUsage(3);
    usage.add({ ids: Int32Array.of(2, 0), gates: Float32Array.of(0.75, 0.25) });
    usage.add({ ids: Int32Array.of(2, 1), gates: Float32Array.of(0.5, 0.5) });
    expect(Array.from(usage.mass)).toEqual([0.25, 0.5, 1.25]);
    // z = (1/8, 1/4, 5/8): KL = sum z ln(3 z).
    const kl = (1 / 8) * Math.log(3 / 8) + (1 / 4) * Math.log(3 / 4) + (5 / 8) * Math.log(15 / 8);
    expect(usage.stats().unevenness).toBeCloseTo(kl, 14);
    expect(usage.stats().usage).toBe(1);
    usage.reset();
    expect(usage.stats().totalMass).toBe(0);
  });

  it('rejects ids outside the pool and mismatched arrays', () => {
    const usage = new ExpertUsage(3);
    expect(() => usage.add({ ids: Int32Array.of(3), gates: Float32Array.of(1) })).toThrow(PeerConfigError);
    expect(() => usage.add({ ids: Int32Array.of(0, 1), gates: Float32Array.of(1) })).toThrow(
      /2 ids but 1 gates/,
    );
    expect(() => new ExpertUsage(0)).toThrow(PeerConfigError);
  });

  it("counts a PEER layer's retrievals: mass tokens x heads over exactly the retrieved ids", async () => {
    const layer = new PeerLayer(
      { dModel: 8, heads: 2, topK: 3, dKey: 8, subKeyRows: 6, subKeyCols: 6 },
      { seed: 1 },
    );
    const x = tf.tensor2d(createRandom(2).fillNormal(new Float32Array(20 * 8), 1), [20, 8]);
    const retrieval = await layer.retrieveAsync(x);
    const usage = new ExpertUsage(layer.numExperts);
    usage.add(retrieval);
    const stats = usage.stats();
    expect(stats.totalMass).toBeCloseTo(20 * 2, 4);
    expect(stats.usedExperts).toBe(new Set(retrieval.ids).size);
    expect(stats.unevenness).toBeGreaterThan(0);
    expect(stats.unevenness).toBeLessThan(Math.log(36));
    x.dispose();
    layer.dispose();
  });
});
