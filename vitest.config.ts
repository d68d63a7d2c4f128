import { defineConfig } from 'vitest/config';

// One root config; each workspace package (and tests/) is a vitest project.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tests'],
  },
});
