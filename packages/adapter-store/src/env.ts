import { z } from 'zod';

/** The environment variables this package reads (and the only place that reads `process.env`). */
const EnvSchema = z.object({
  /** postgres.js connection string; when set, `openStore()` uses PostgreSQL instead of PGlite. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  /** PGlite data directory used when neither a URL nor an explicit `dataDir` is given. */
  PEER_STORE_DATA_DIR: z.string().min(1).default('./data/pg'),
});

/** Validated environment of @peer/adapter-store. */
export type StoreEnv = z.infer<typeof EnvSchema>;

let cached: StoreEnv | undefined;

/** Reads and validates the environment once; throws a readable error naming the bad variable. */
export function readEnv(): StoreEnv {
  if (cached) return cached;
  const parsed = EnvSchema.safeParse({
    // Empty strings are treated as unset: `DATABASE_URL= npm test` should mean "no database".
    DATABASE_URL: process.env.DATABASE_URL || undefined,
    PEER_STORE_DATA_DIR: process.env.PEER_STORE_DATA_DIR || undefined,
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`@peer/adapter-store: invalid environment: ${issues}`);
  }
  cached = parsed.data;
  return cached;
}
