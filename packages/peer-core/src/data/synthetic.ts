import { z } from 'zod';
import { parseConfig } from '../models/parse-config.js';
import { createRandom, type Random } from '../util/random.js';
import type { LabeledData } from './labeled-data.js';

const positiveInt = z.number().int().positive();

/** Configuration of {@link gaussianClusters}. */
export const gaussianClustersSchema = z
  .object({
    /** Classes. */
    classes: positiveInt.default(10),
    /** Input width. */
    dim: positiveInt.default(16),
    /**
     * Gaussian clusters per class: several modes per class make the classes not linearly separable, so a
     * linear model fails and experts have regions to specialise on.
     */
    clustersPerClass: positiveInt.default(4),
    /** Training examples per class. */
    trainPerClass: positiveInt.default(500),
    /** Test examples per class (drawn from the same clusters, independently). */
    testPerClass: positiveInt.default(100),
    /** Std of each coordinate of a cluster centre. */
    centerStd: z.number().positive().default(1),
    /**
     * Std of each coordinate of the noise around a centre. 0.3: at dim 16 with 40 clusters, nearest centres are
     * ~3.6 apart (2.6 at the closest), over 8 noise stds, so nearest-centre accuracy is ~100%: an easy set for
     * tests. The demo raises it to make the problem hard.
     */
    noiseStd: z.number().nonnegative().default(0.3),
    /** Seed of centres and samples. */
    seed: z.number().int().default(0),
  })
  .strict();

export type GaussianClustersInput = z.input<typeof gaussianClustersSchema>;
export type GaussianClustersConfig = z.output<typeof gaussianClustersSchema>;

/** A synthetic classification problem: train and test sets and the cluster centres they came from. */
export interface GaussianClusters {
  readonly config: GaussianClustersConfig;
  readonly train: LabeledData;
  readonly test: LabeledData;
  /** Row-major [classes * clustersPerClass, dim]; cluster `c * clustersPerClass + j` belongs to class c. */
  readonly centers: Float32Array;
}

/**
 * A seeded synthetic classification set: each class is a mixture of `clustersPerClass` isotropic
 * Gaussians with random centres. Same config, same data; train and test share the centres.
 *
 * @example const { train, test } = gaussianClusters({ classes: 4, dim: 8, seed: 1 });
 */
export function gaussianClusters(input: GaussianClustersInput = {}): GaussianClusters {
  const config = parseConfig(gaussianClustersSchema, input);
  const { classes, dim, clustersPerClass } = config;
  const rng = createRandom(config.seed);
  const centers = rng.fillNormal(new Float32Array(classes * clustersPerClass * dim), config.centerStd);
  const train = sample(config, centers, config.trainPerClass, rng);
  const test = sample(config, centers, config.testPerClass, rng);
  return { config, train, test, centers };
}

/** `perClass` examples of every class, classes interleaved (example i has class i mod classes). */
function sample(config: GaussianClustersConfig, centers: Float32Array, perClass: number, rng: Random): LabeledData {
  const { classes, dim, clustersPerClass, noiseStd } = config;
  const size = classes * perClass;
  const x = new Float32Array(size * dim);
  const y = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const label = i % classes;
    const cluster = label * clustersPerClass + rng.int(clustersPerClass);
    y[i] = label;
    for (let j = 0; j < dim; j++) x[i * dim + j] = (centers[cluster * dim + j] ?? 0) + rng.normal() * noiseStd;
  }
  return { x, y, size, dim, classes };
}
