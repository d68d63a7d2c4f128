import { CliError } from './cli-error.js';
import { keysCommand } from './commands/keys.js';
import { migrateCommand } from './commands/migrate.js';
import { serveCommand } from './commands/serve.js';

const USAGE = `usage: peer <command> [options]

  serve                         serve the API (PORT, DATA_DIR, DATABASE_URL, PEER_ADMIN_KEY)
  migrate                       apply database migrations and exit
  keys create --tenant T --scope read|write|admin [--name N]
                                print a new API key (once)
`;

/** Commands by name; each parses its own arguments. */
const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  serve: () => serveCommand(),
  migrate: () => migrateCommand(),
  keys: keysCommand,
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
  process.stderr.write(`peer: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
