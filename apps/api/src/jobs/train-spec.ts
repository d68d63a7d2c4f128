import { z } from '@hono/zod-openapi';
import type { JsonObject } from '@peer/adapter-store';
import { NameSchema } from '../http/schemas.js';
import { type Strategy, StrategySchema } from '../models/strategy.js';

/** Sub-key rows a job adds per PEER layer when neither the request nor the strategy says (the core's default). */
export const DEFAULT_GROW_ROWS = 4;

/** `adapter` of a job request: train a LoRA adapter of the model on the stream instead of growing the pool. */
export const AdapterTrainSchema = z
  .object({
    /** The adapter line (created on first use, a new version on later jobs). */
    name: NameSchema,
    /** LoRA rank r; Hu et al. (2021) find r 1-8 enough for most corrections. */
    rank: z.number().int().min(1).max(64).default(4),
    /** LoRA alpha (scale alpha / r); default 2r, PEFT examples' usual ratio. */
    alpha: z.number().positive().max(10_000).optional(),
  })
  .strict()
  .openapi('AdapterTraining');

/** Body of `POST /v1/models/{id}/jobs`. */
export const TrainJobRequestSchema = z
  .object({
    /** The ingested stream to learn (acknowledged records only; about one record in ten, chosen by a hash of its offset, is held out). */
    stream: NameSchema,
    /** Forgetting controls; the model's `defaultStrategy` when absent. */
    strategy: StrategySchema.optional(),
    /** Sub-key rows to add per PEER layer (freeze-and-grow); default from the strategy or 4. */
    rows: z.number().int().min(1).max(4096).optional(),
    /** Optimisation steps; 500 trains a small model on a few thousand records in well under a minute. */
    iterations: z.number().int().min(1).max(100_000).default(500),
    /** Stream examples per step (replay adds its own); 128 is the Split MNIST protocol's. */
    batchSize: z.number().int().min(1).max(4096).default(128),
    /** Adam step size; 1e-3 is Kingma & Ba's default and the protocol's. */
    learningRate: z.number().positive().max(1).default(1e-3),
    /** Seed of batch order and growth; jobs are deterministic for a given seed and data. */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
    /** An alias moved to the new version when the job succeeds (created if missing). */
    promote: NameSchema.optional(),
    adapter: AdapterTrainSchema.optional(),
  })
  .strict()
  .openapi('TrainJobRequest');

export type TrainJobRequest = z.output<typeof TrainJobRequestSchema>;

/** What a job row's `spec` holds: the request with every default resolved, so retries train identically. */
export interface TrainSpec {
  readonly stream: string;
  readonly streamId: string;
  readonly strategy: Strategy;
  readonly rows: number;
  readonly iterations: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number;
  readonly promote?: string;
  readonly adapter?: { readonly name: string; readonly rank: number; readonly alpha: number };
}

/** Sub-key rows a strategy's freeze-and-grow adds per job: its `rows` setting, else the default. */
export function growRowsOf(strategy: Strategy): number {
  const rows = strategy.settings['freeze-and-grow']?.rows;
  return typeof rows === 'number' ? rows : DEFAULT_GROW_ROWS;
}

/** Resolves a request's defaults against the model's default strategy. */
export function resolveTrainSpec(
  request: TrainJobRequest,
  streamId: string,
  defaultStrategy: Strategy,
): TrainSpec {
  const strategy = request.strategy ?? defaultStrategy;
  const rows = request.rows ?? growRowsOf(strategy);
  return {
    stream: request.stream,
    streamId,
    strategy,
    rows,
    iterations: request.iterations,
    batchSize: request.batchSize,
    learningRate: request.learningRate,
    seed: request.seed,
    ...(request.promote === undefined ? {} : { promote: request.promote }),
    ...(request.adapter === undefined
      ? {}
      : {
          adapter: {
            name: request.adapter.name,
            rank: request.adapter.rank,
            alpha: request.adapter.alpha ?? 2 * request.adapter.rank,
          },
        }),
  };
}

/** The spec as stored JSON. */
export function trainSpecJson(spec: TrainSpec): JsonObject {
  return JSON.parse(JSON.stringify(spec)) as JsonObject;
}

/** A stored spec (written by `trainSpecJson` from a validated request, so trusted). */
export function trainSpecOf(json: unknown): TrainSpec {
  return json as TrainSpec;
}
