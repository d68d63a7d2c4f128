import { PeerApiError, PeerConnectionError } from '../client/client-error.js';
import { CliError } from './cli-error.js';
import { ALIAS_USAGE, aliasCommand } from './commands/alias.js';
import { INGEST_USAGE, ingestCommand } from './commands/ingest.js';
import { keysCommand } from './commands/keys.js';
import { migrateCommand } from './commands/migrate.js';
import { PREDICT_USAGE, predictCommand } from './commands/predict.js';
import { serveCommand } from './commands/serve.js';
import { VERSIONS_USAGE, versionsCommand } from './commands/versions.js';
import { WORKER_USAGE, workerCommand } from './commands/worker.js';

const USAGE = `usage: peer <command> [options]

  serve                         serve the API (PORT, DATA_DIR, DATABASE_URL, PEER_ADMIN_KEY)
  migrate                       apply database migrations and exit
  keys create --tenant T --scope read|write|admin [--name N]
                                print a new API key (once)
  ${WORKER_USAGE}

client commands talk to a running server: --url URL (or PEER_URL, default http://127.0.0.1:8787),
--key KEY (or PEER_API_KEY, else the admin key \`serve\` saved in <DATA_DIR>/admin-key); a model is named
by id or by name:
  ${INGEST_USAGE}
  ${PREDICT_USAGE}
  ${VERSIONS_USAGE}
  ${ALIAS_USAGE}
`;

/** Commands by name; each parses its own arguments. */
const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  serve: () => serveCommand(),
  migrate: () => migrateCommand(),
  keys: keysCommand,
  ingest: ingestCommand,
  predict: predictCommand,
  versions: versionsCommand,
  alias: aliasCommand,
  worker: workerCommand,
};

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(USAGE);
    process.exitCode = name && name !== 'help' && name !== '--help' ? 2 : 0;
    return;
  }
  await command(args);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CliError) {
    process.stderr.write(`peer: ${error.message}\n`);
    process.exit(2);
  }
  if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`peer: ${(error as Error).message}\n`);
    process.exit(2);
  }
  // The server's answer or an unreachable server: the message says it all, a stack would only hide it.
  if (error instanceof PeerApiError || error instanceof PeerConnectionError) {
    process.stderr.write(`peer: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`peer: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
