/** Severity of a log line. */
type Level = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: Level = 'info';

/** Sets the lowest level written (tests raise it to keep output quiet). */
export function setLogLevel(level: Level): void {
  threshold = level;
}

function write(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < ORDER[threshold]) return;
  const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg: message };
  for (const [k, v] of Object.entries(fields)) {
    line[k] = v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v;
  }
  // Structured logs: one JSON object per line on stderr (stdout is for what a CLI command prints).
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

/** Structured JSON-lines logger. */
export const logger = {
  debug: (message: string, fields?: Record<string, unknown>) => write('debug', message, fields),
  info: (message: string, fields?: Record<string, unknown>) => write('info', message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => write('warn', message, fields),
  error: (message: string, fields?: Record<string, unknown>) => write('error', message, fields),
};
