import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

/** The environment variables the API reads (and the only place in the package that reads `process.env`). */
const ApiEnvSchema = z.object({
  /** Port of `peer serve`; 8787 is Hono's customary development port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  /** Interface to bind; loopback by default so a first start is not exposed to the network. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Root of everything the embedded default keeps on disk (PGlite lives in `<DATA_DIR>/pg`). */
  DATA_DIR: z.string().min(1).default('./data'),
  /** PostgreSQL URL; when set the store, the job queue and alias notifications use it instead of PGlite. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  /** A bootstrap admin key (e.g. from a secret manager); otherwise one is generated and printed once. */
  PEER_ADMIN_KEY: z
    .string()
    .regex(/^peer_[A-Za-z0-9_-]{20,200}$/, 'must look like peer_<at least 20 url-safe characters>')
    .optional(),
  /** Largest request body in bytes (413 above); 64 MiB holds ~8k MNIST records per request. */
  PEER_MAX_BODY_BYTES: positiveInt.default(64 * 1024 * 1024),
  /** Largest NDJSON line in bytes; one 784-float record is ~4 KiB of text. */
  PEER_MAX_LINE_BYTES: positiveInt.default(1024 * 1024),
  /** Requests per second per API key (token bucket, burst = 2 s worth); 429 with Retry-After above. */
  PEER_RATE_LIMIT_RPS: positiveInt.default(500),
  /** Queued + running training jobs across the deployment before new ones get 429. */
  PEER_MAX_QUEUED_JOBS: positiveInt.default(16),
  /** Inputs per predict request. */
  PEER_MAX_PREDICT_BATCH: positiveInt.default(1024),
  /**
   * Memory budget of loaded models (MiB), least recently used evicted beyond it; 2 GiB holds one N = 1024²
   * pool at d 256 (two 1 GiB expert tables) or hundreds of small models.
   */
  PEER_MODEL_CACHE_MB: positiveInt.default(2048),
  /** Run a training worker inside `peer serve` (0 for API-only replicas that leave training to `peer worker`). */
  PEER_INPROCESS_WORKER: z.enum(['0', '1']).default('1'),
  /** Server the CLI's client commands (`ingest`, `predict`, `versions`, `alias`) talk to. */
  PEER_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8787'),
  /** API key of the CLI's client commands (`--key` overrides it). */
  PEER_API_KEY: z.string().min(1).optional(),
});

/** Validated environment of @peer/api. */
export type ApiEnv = z.infer<typeof ApiEnvSchema>;

/** Reads and validates the environment; throws a readable error naming the bad variable. */
export function readApiEnv(source: NodeJS.ProcessEnv = process.env): ApiEnv {
  const cleaned = Object.fromEntries(
    // Empty strings mean unset: `DATABASE_URL= peer serve` should mean "embedded database".
    Object.keys(ApiEnvSchema.shape).map((k) => [k, source[k] === '' ? undefined : source[k]]),
  );
  const parsed = ApiEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`@peer/api: invalid environment: ${issues}`);
  }
  return parsed.data;
}
