import { readApiEnv } from '../../env.js';
import { openApiStore } from '../../open-api-store.js';

/** `peer migrate`: applies pending migrations (opening the store does) and exits. */
export async function migrateCommand(): Promise<void> {
  const store = await openApiStore(readApiEnv());
  process.stdout.write(`migrations applied (${store.driver})\n`);
  await store.close();
}
