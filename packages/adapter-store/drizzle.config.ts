import { defineConfig } from 'drizzle-kit';

// Migrations are generated (never pushed) into the repository root so that every driver and every
// package applies the same folder with drizzle's migrate().
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema/index.ts',
  out: '../../migrations',
});
