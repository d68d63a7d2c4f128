import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@peer/api',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    // Each file owns its store (PGlite instance or a throwaway Postgres database) and tfjs backend.
    pool: 'forks',
  },
});
