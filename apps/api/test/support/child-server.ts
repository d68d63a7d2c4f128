import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `peer` bin of this package. */
export const PEER_BIN = fileURLToPath(new URL('../../bin/peer.mjs', import.meta.url));

/** How a child `peer serve` ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A `peer serve` running as a child process (a real server: real sockets, real signals, real crashes). */
export interface ChildServer {
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ChildExit>;
  /** Everything the process printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Sends a signal and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<ChildExit>;
}

/** A fixed admin key for child servers, so tests know it without parsing output. */
export const TEST_ADMIN_KEY = 'peer_e2e-admin-key-000000000000000000000';

/**
 * Starts `node bin/peer.mjs serve` on an ephemeral port with `env` on top of a clean environment (only
 * PATH/HOME are inherited: a `DATABASE_URL` of the test runner must not leak into a PGlite server) and
 * resolves once it prints its URL. Rejects with the output if it exits or takes longer than `timeoutMs`.
 */
export async function startChildServer(
  env: Record<string, string>,
  options: { timeoutMs?: number } = {},
): Promise<ChildServer> {
  const child = spawn(process.execPath, [PEER_BIN, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      PEER_ADMIN_KEY: TEST_ADMIN_KEY,
      PEER_BACKEND: 'wasm',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never leave a server behind if the test process ends first.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  let output = '';
  child.stdout?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  let running = true;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      process.off('exit', reap);
      resolve({ code, signal });
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`peer serve did not start in ${options.timeoutMs ?? 120_000} ms:\n${output}`));
    }, options.timeoutMs ?? 120_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`peer serve exited (${e.code ?? e.signal}) before listening:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid ?? -1,
    child,
    exited,
    output: () => output,
    alive: () => running,
    async kill(signal) {
      if (running) child.kill(signal);
      return exited;
    },
  };
}
