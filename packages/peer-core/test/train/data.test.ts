import { describe, expect, it } from 'vitest';
import { CharVocab } from '../../src/data/char-corpus.js';
import { checkLabeledData, filterByLabel } from '../../src/data/labeled-data.js';
import { gaussianClusters } from '../../src/data/synthetic.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';

describe('gaussianClusters', () => {
  it('is seeded, balanced and shaped as declared', () => {
    const a = gaussianClusters({
      classes: 3,
      dim: 4,
      clustersPerClass: 2,
      trainPerClass: 10,
      testPerClass: 5,
      seed: 1,
    });
    const b = gaussianClusters({
      classes: 3,
      dim: 4,
      clustersPerClass: 2,
      trainPerClass: 10,
      testPerClass: 5,
      seed: 1,
    });
    expect(a.train.x).toEqual(b.train.x);
    expect(a.test.y).toEqual(b.test.y);
    expect(gaussianClusters({ classes: 3, dim: 4, seed: 2 }).centers).not.toEqual(a.centers);
    checkLabeledData(a.train);
    expect([a.train.size, a.test.size, a.centers.length]).toEqual([30, 15, 3 * 2 * 4]);
    for (let c = 0; c < 3; c++) expect(a.train.y.filter((l) => l === c)).toHaveLength(10);
  });

  it('draws every example near a centre of its own class', () => {
    const { train, centers, config } = gaussianClusters({ classes: 4, dim: 16, noiseStd: 0.1, seed: 3 });
    const { dim, clustersPerClass } = config;
    for (let i = 0; i < 50; i++) {
      let best = -1;
      let bestDist = Number.POSITIVE_INFINITY;
      for (let c = 0; c < centers.length / dim; c++) {
        let dist = 0;
        for (let j = 0; j < dim; j++)
          dist += ((train.x[i * dim + j] ?? 0) - (centers[c * dim + j] ?? 0)) ** 2;
        if (dist < bestDist) [best, bestDist] = [c, dist];
      }
      expect(Math.floor(best / clustersPerClass)).toBe(train.y[i]);
    }
  });

  it('names the field of a bad config', () => {
    expect(() => gaussianClusters({ classes: 0 })).toThrow(PeerConfigError);
    expect(() => gaussianClusters({ noiseStd: -1 })).toThrow(/'noiseStd'/);
  });

  it('filters and relabels', () => {
    const { train } = gaussianClusters({ classes: 4, dim: 2, trainPerClass: 5, seed: 1 });
    const split = filterByLabel(
      train,
      (l) => l >= 2,
      (l) => l - 2,
      2,
    );
    expect(split.size).toBe(10);
    expect(new Set(split.y)).toEqual(new Set([0, 1]));
    expect(split.classes).toBe(2);
  });
});

describe('CharVocab', () => {
  it('maps sorted distinct characters to ids and back', () => {
    const vocab = CharVocab.fromText('hello');
    expect(vocab.chars).toEqual(['e', 'h', 'l', 'o']);
    expect(Array.from(vocab.encode('hole'))).toEqual([1, 3, 2, 0]);
    expect(vocab.decode(vocab.encode('hello'))).toBe('hello');
    expect(() => vocab.encode('help')).toThrow(
      /'text\[3\]' must be a character of the vocabulary, but got "p"/,
    );
  });
});
