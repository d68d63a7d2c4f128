import { z } from 'zod';
import { parseConfig } from '../models/parse-config.js';

/** Configuration of {@link Trainer}. */
export const trainerConfigSchema = z
  .object({
    /** Adam step size for variables and experts alike: 1e-3 is Kingma & Ba's default and the Split MNIST protocol's (DESIGN §7). */
    learningRate: z.number().positive().default(1e-3),
    /** Adam beta1 (Kingma & Ba 2015). */
    beta1: z.number().gte(0).lt(1).default(0.9),
    /** Adam beta2 (Kingma & Ba 2015). */
    beta2: z.number().gte(0).lt(1).default(0.999),
    /** Adam epsilon: 1e-7 is the tfjs/Keras default, and what `SparseExpertAdam` uses. */
    epsilon: z.number().positive().default(1e-7),
    /** Steps between `onProgress` calls: 50 gives a line every few seconds at test scale. */
    progressEvery: z.number().int().positive().default(50),
    /**
     * Throw when a step leaves tensors behind (tfjs issues #8326, #1167: leaks grow until the process dies).
     * Costs one `tf.memory()` call per step.
     */
    checkLeaks: z.boolean().default(true),
  })
  .strict();

export type TrainerConfigInput = z.input<typeof trainerConfigSchema>;
export type TrainerConfig = z.output<typeof trainerConfigSchema>;

/** Validates a trainer config; throws `PeerConfigError` naming field, bound and value. */
export function parseTrainerConfig(input: unknown): TrainerConfig {
  return parseConfig(trainerConfigSchema, input);
}
