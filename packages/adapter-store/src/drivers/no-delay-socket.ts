import { once } from 'node:events';
import net from 'node:net';

/** The part of postgres.js's resolved options a socket factory receives. */
interface SocketTarget {
  readonly host: readonly string[];
  readonly port: readonly number[];
  readonly path?: string | false;
}

/**
 * Socket factory for postgres.js that disables Nagle's algorithm. postgres.js leaves it on, and a
 * COPY ends with a 5-byte CopyDone written right after megabytes of data: it then waits for the
 * server's delayed ACK, stalling every COPY round by up to ~40 ms (measured: 256 KiB rounds took
 * 10–49 ms, 3–9 ms with TCP_NODELAY). Hosts are tried in order, like postgres.js does itself.
 */
export async function connectNoDelay(target: SocketTarget, timeoutMs = 10_000): Promise<net.Socket> {
  if (target.path) return connect(net.connect(target.path), timeoutMs);
  let lastError: unknown;
  for (let i = 0; i < target.host.length; i++) {
    const host = target.host[i] as string;
    const port = target.port[i] ?? target.port[0] ?? 5432;
    try {
      return await connect(net.connect({ host, port, noDelay: true }), timeoutMs);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError ?? new Error('no PostgreSQL host to connect to');
}

async function connect(socket: net.Socket, timeoutMs: number): Promise<net.Socket> {
  const timer = setTimeout(
    () => socket.destroy(new Error(`connect timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await once(socket, 'connect');
    return socket;
  } catch (error) {
    socket.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
