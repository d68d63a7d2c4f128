import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@peer/adapter-store',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    // Each file owns one PGlite instance (~4 s to start) or one Postgres database: keep files isolated.
    pool: 'forks',
  },
});
