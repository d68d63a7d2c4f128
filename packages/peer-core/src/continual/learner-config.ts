import { z } from 'zod';
import { parseConfig } from '../models/parse-config.js';
import { trainerConfigSchema } from '../train/trainer-config.js';

const positiveInt = z.number().int().positive();

/** Configuration of {@link ContinualLearner}. */
export const continualConfigSchema = z
  .object({
    /** Task-, domain- or class-incremental (van de Ven & Tolias 2019); decides which head scores a task. */
    scenario: z.enum(['task', 'domain', 'class']),
    /** Optimisation steps per stream; the Split MNIST protocol runs 2000 (DESIGN §7). */
    steps: positiveInt.default(2000),
    /** Stream examples per step (replay adds its own); 128 is the protocol's. */
    batchSize: positiveInt.default(128),
    /** Trainer settings (Adam lr 1e-3 is the protocol's); a fresh optimizer is made per stream. */
    trainer: trainerConfigSchema.prefault({}),
    /**
     * Class-IL output handling: `'seen'` restricts the shared head to the classes of the streams seen so far
     * (training, Fisher, distillation and evaluation alike), van de Ven & Tolias' (2019) "active classes";
     * `'current'` trains on the current stream's classes only and scores over all seen ones, the "labels
     * trick" of Zeno et al. (2018), which stops new classes from pushing old outputs down (not for replay or
     * LwF: their old-class targets would be masked); `'all'` keeps every output in the softmax from the start.
     * No effect in task- and domain-IL.
     */
    activeClasses: z.enum(['all', 'seen', 'current']).default('all'),
    /** Rows per evaluation forward pass. */
    evalBatchSize: positiveInt.default(512),
    /** Test inputs per past stream whose top-k expert ids are compared across each stream (routing stability). */
    probeSize: z.number().int().nonnegative().default(256),
    /** Prefix of the version keys the learner hands to the store (`<runId>/after-<stream id>`). */
    runId: z.string().min(1).default('run'),
    /** Seed of batch order. */
    seed: z.number().int().default(0),
  })
  .strict();

export type ContinualConfigInput = z.input<typeof continualConfigSchema>;
export type ContinualConfig = z.output<typeof continualConfigSchema>;

/** Validates a learner config; throws `PeerConfigError` naming field, bound and value. */
export function parseContinualConfig(input: unknown): ContinualConfig {
  return parseConfig(continualConfigSchema, input);
}
