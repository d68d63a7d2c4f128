/**
 * The newcomer's first start (`npm start` = `peer serve` on a fresh DATA_DIR, no PEER_ADMIN_KEY): it prints the
 * URL, the docs URL and a generated admin key, saves the key to `<DATA_DIR>/admin-key` with mode 0600 for the
 * demo and the CLI, and on a restart neither prints nor rewrites it. The CLI then works with no `--key`.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import { LONG_TEST_MS, SETUP_TIMEOUT_MS } from '../support/deployment.js';
import { runCli } from '../support/run-cli.js';

describe('first start on the embedded defaults', () => {
  let dataDir: string;
  let server: ChildServer | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'peer-first-'));
  });

  afterAll(async () => {
    await server?.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, SETUP_TIMEOUT_MS);

  it(
    'prints and saves a generated admin key once; the CLI uses the saved key',
    async () => {
      const env = { DATA_DIR: dataDir, DATABASE_URL: '', PEER_ADMIN_KEY: '' };
      server = await startChildServer(env);
      const printed = server.output();
      expect(printed).toContain(`API reference: ${server.url}/docs`);
      const key = /admin API key \(shown once[^)]*\): (peer_\S+)/.exec(printed)?.[1];
      expect(key).toBeDefined();
      const file = join(dataDir, 'admin-key');
      expect((await readFile(file, 'utf8')).trim()).toBe(key);
      expect((await stat(file)).mode & 0o777).toBe(0o600);

      const models = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      expect(models.status).toBe(200);
      // No --key and no PEER_API_KEY: the CLI reads <DATA_DIR>/admin-key (so the answer is 404, not 401).
      const run = await runCli(['versions', '--model', 'missing'], {
        PEER_URL: server.url,
        DATA_DIR: dataDir,
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/404 not_found: model "missing" does not exist/);

      expect((await server.kill('SIGTERM')).code).toBe(0);
      server = await startChildServer(env);
      expect(server.output()).not.toMatch(/peer_[A-Za-z0-9_-]{20,}/);
      expect(server.output()).toContain(`saved to ${file}`);
      expect((await readFile(file, 'utf8')).trim()).toBe(key);
    },
    LONG_TEST_MS,
  );
});
