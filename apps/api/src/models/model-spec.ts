import { z } from '@hono/zod-openapi';
import type { JsonObject, Model } from '@peer/adapter-store';
import { type ClassifierConfig, PeerConfigError, parseClassifierConfig } from '@peer/core';
import { ApiError } from '../http/api-error.js';
import { NameSchema } from '../http/schemas.js';
import { checkStrategy } from '../jobs/strategy-plugins.js';
import { growRowsOf } from '../jobs/train-spec.js';
import { type Strategy, StrategySchema } from './strategy.js';

/** Body of `POST /v1/models`. */
export const CreateModelSchema = z
  .object({
    name: NameSchema,
    /** `classifier`: vectors in, a class out (one head per task with `taskHeads`). */
    kind: z.enum(['classifier']),
    /** The model config of `@peer/core` (`PeerClassifier`): `inDim`, `classes`, `dModel`, `peer`, ... */
    config: z.record(z.string(), z.unknown()).openapi({
      example: { inDim: 784, classes: 10, peer: { subKeyRows: 64, subKeyCols: 64, capacityRows: 256 } },
    }),
    /** Seed of the initial weights. */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
    /** What training jobs use unless they say otherwise. */
    defaultStrategy: StrategySchema.prefault({}),
  })
  .strict()
  .openapi('CreateModel');

/** What a model row's `config` holds: everything needed to rebuild, train and validate records for it. */
export interface ModelSpec {
  readonly kind: 'classifier';
  readonly classifier: ClassifierConfig;
  readonly seed: number;
  readonly defaultStrategy: Strategy;
}

/** Validates the core config of a create request; core errors become 422s naming `config.<field>`. */
export function specFromRequest(body: z.output<typeof CreateModelSchema>): ModelSpec {
  try {
    const classifier = parseClassifierConfig(body.config);
    const spec: ModelSpec = {
      kind: body.kind,
      classifier,
      seed: body.seed,
      defaultStrategy: body.defaultStrategy,
    };
    // Checked now, not at the first job: a default every job would be refused with is a bad model request.
    checkStrategy(
      spec.defaultStrategy,
      { rows: growRowsOf(spec.defaultStrategy), seed: spec.seed },
      { scenario: scenarioOf(spec), inDim: classifier.inDim },
      'defaultStrategy',
    );
    return spec;
  } catch (error) {
    if (error instanceof PeerConfigError)
      throw ApiError.invalidField(`config.${error.field}`, error.bound, error.value);
    throw error;
  }
}

/** The spec stored with a model (written by `specFromRequest`, so trusted). */
export function specOf(model: Model): ModelSpec {
  return model.config as unknown as ModelSpec;
}

/**
 * The continual-learning scenario a model's jobs run in: task-IL with one head per task, class-IL (every
 * stream's labels share one head) otherwise.
 */
export function scenarioOf(spec: ModelSpec): 'task' | 'class' {
  return spec.classifier.taskHeads > 1 ? 'task' : 'class';
}

/** The spec as a JSON object for the store. */
export function specJson(spec: ModelSpec): JsonObject {
  return JSON.parse(JSON.stringify(spec)) as JsonObject;
}

/** The public view of a model. */
export function modelView(model: Model) {
  const spec = specOf(model);
  return {
    id: model.id,
    name: model.name,
    kind: spec.kind,
    config: spec.classifier,
    seed: spec.seed,
    defaultStrategy: spec.defaultStrategy,
    headVersionId: model.headVersionId,
    versionCount: model.versionCount,
    createdAt: model.createdAt.toISOString(),
  };
}

export const ModelViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.string(),
    config: z.record(z.string(), z.unknown()),
    seed: z.number(),
    defaultStrategy: StrategySchema,
    headVersionId: z.string().nullable(),
    versionCount: z.number(),
    createdAt: z.string(),
  })
  .openapi('Model');
