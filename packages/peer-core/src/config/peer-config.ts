import { z } from 'zod';
import { PeerConfigError } from '../errors/peer-error.js';

const positiveInt = z.number().int().positive();

/**
 * Configuration of one PEER layer (He 2024, arXiv 2407.04153 §2).
 * Experts form a grid `subKeyRows × subKeyCols`; expert `(i, j)` has id `i * subKeyCols + j`.
 * The grid grows by rows (DESIGN §2), so `subKeyRows` is the active row count and `capacityRows` its limit.
 */
export const peerConfigSchema = z
  .object({
    /** Width of the layer's input and output. */
    dModel: positiveInt,
    /** Retrieval heads; each retrieves its own top-k and head outputs are summed (paper default 8). */
    heads: positiveInt.default(8),
    /** Experts retrieved per head (paper default 16). */
    topK: positiveInt.default(16),
    /** Query/key width; split into two halves, one per sub-key codebook, so it must be even. */
    dKey: positiveInt.default(128),
    /** Active rows of the first sub-key codebook C1. */
    subKeyRows: positiveInt,
    /** Rows of the second sub-key codebook C2 (fixed: growth appends C1 rows only). */
    subKeyCols: positiveInt,
    /** Most C1 rows the layer may grow to; defaults to the initial rows (no growth). */
    capacityRows: positiveInt.optional(),
    /** Heads share one set of product keys (the paper); `false` gives every head its own codebooks. */
    sharedKeys: z.boolean().default(true),
    /** Batch-norm the queries: the paper's ablation shows it raises usage and evens it out (Table 2). */
    queryBatchNorm: z.boolean().default(true),
    /** Expert non-linearity sigma in e_i(x) = sigma(u_i . x) v_i. */
    activation: z.enum(['gelu', 'relu']).default('gelu'),
    /** Running-statistics momentum of the query batch-norm (Keras convention: new = m*old + (1-m)*batch). */
    batchNormMomentum: z.number().gt(0).lt(1).default(0.99),
    /** Added to the variance before the square root in the batch-norm. */
    batchNormEpsilon: z.number().positive().default(1e-3),
  })
  .strict();

export type PeerConfigInput = z.input<typeof peerConfigSchema>;
export type PeerConfig = Required<z.output<typeof peerConfigSchema>>;

/**
 * Validates a PEER config and fills defaults; throws {@link PeerConfigError} naming field, bound and value.
 *
 * @example parsePeerConfig({ dModel: 256, subKeyRows: 128, subKeyCols: 128 })
 */
export function parsePeerConfig(input: unknown): PeerConfig {
  const parsed = peerConfigSchema.safeParse(input);
  if (!parsed.success) throw zodIssueToConfigError(parsed.error, input);
  const c = parsed.data;
  const config: PeerConfig = { ...c, capacityRows: c.capacityRows ?? c.subKeyRows };
  if (config.dKey % 2 !== 0) throw new PeerConfigError('dKey', 'an even integer', config.dKey);
  if (config.topK > config.subKeyRows) {
    throw new PeerConfigError('topK', `<= subKeyRows (${config.subKeyRows})`, config.topK);
  }
  if (config.topK > config.subKeyCols) {
    throw new PeerConfigError('topK', `<= subKeyCols (${config.subKeyCols})`, config.topK);
  }
  if (config.capacityRows < config.subKeyRows) {
    throw new PeerConfigError('capacityRows', `>= subKeyRows (${config.subKeyRows})`, config.capacityRows);
  }
  // Expert ids are int32 and tables are addressed in float32 elements.
  const maxExperts = config.capacityRows * config.subKeyCols;
  if (maxExperts > 2 ** 31 - 1) {
    throw new PeerConfigError('capacityRows', `such that capacityRows * subKeyCols <= 2^31 - 1`, maxExperts);
  }
  return config;
}

/** Number of experts currently active in a layer with this config. */
export function activeExperts(config: Pick<PeerConfig, 'subKeyRows' | 'subKeyCols'>): number {
  return config.subKeyRows * config.subKeyCols;
}

/** Turns the first zod issue into a typed config error with field, bound and value. */
export function zodIssueToConfigError(error: z.ZodError, input: unknown): PeerConfigError {
  const issue = error.issues[0];
  if (!issue) return new PeerConfigError('(config)', 'a valid config', input);
  const field = issue.path.length > 0 ? issue.path.join('.') : '(config)';
  const value = valueAt(input, issue.path);
  return new PeerConfigError(field, describeBound(issue), value, { cause: error });
}

function describeBound(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return `${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}`;
    case 'too_big':
      return `${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}`;
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : `of type ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `a known field (unknown: ${issue.keys.join(', ')})`;
    default:
      return issue.message;
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
