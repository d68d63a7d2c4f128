type Listener = (...args: unknown[]) => void;

// Node's typings give these two events different listener types; we only move listeners around.
const EVENTS = ['uncaughtException', 'unhandledRejection'] as const;
const listenersOf = (event: (typeof EVENTS)[number]): Listener[] =>
  process.listeners(event as 'exit') as Listener[];

/**
 * Runs `fn` and then puts the process's `uncaughtException` / `unhandledRejection` listeners back as
 * they were. Emscripten's Node glue (both wasm builds) adds listeners that rethrow every error, which
 * defeats an application's (or vitest's) own handlers, and its dispose removes *all* listeners present
 * at start-up, other people's included (a `!a.indexOf(l) > -1` bug in tfjs-backend-wasm 4.22).
 */
export async function keepProcessListeners<T>(fn: () => Promise<T>): Promise<T> {
  const before = new Map(EVENTS.map((event) => [event, listenersOf(event)]));
  try {
    return await fn();
  } finally {
    for (const event of EVENTS) {
      const was = before.get(event) ?? [];
      const now = listenersOf(event);
      for (const listener of now) if (!was.includes(listener)) process.removeListener(event, listener);
      for (const listener of was) if (!now.includes(listener)) process.on(event as 'exit', listener);
    }
  }
}
