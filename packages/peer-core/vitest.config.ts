import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@peer/core',
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    // tfjs engine state (backend, registered kernels) is process-global: keep files isolated.
    pool: 'forks',
  },
});
