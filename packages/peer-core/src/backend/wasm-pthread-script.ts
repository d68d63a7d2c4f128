import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { PeerBackendError } from '../errors/peer-error.js';

const require = createRequire(import.meta.url);

// The free variables of the threaded factory that the bundle defines at module scope; the worker
// evaluates the factory's source on its own, so it has to define them (tslib helpers included, used
// only on the main thread but defined for safety).
const WORKER_PRELUDE = (wasmDir: string): string => `'use strict';
globalThis.require$$0 = require('fs');
globalThis.require$$1 = require('path');
globalThis.require$$3 = require('perf_hooks');
globalThis.require$$4 = require('os');
globalThis.commonjsGlobal = globalThis;
globalThis.__dirname = ${JSON.stringify(wasmDir)};
globalThis.__values = (o) => o[Symbol.iterator]();
globalThis.__read = (o, n) => (n === undefined ? [...o] : [...o].slice(0, n));
globalThis.__spreadArray = (to, from) => to.concat(Array.from(from));
{
  const port = require('worker_threads').parentPort;
  const on = port.on.bind(port);
  port.on = (event, handler) => {
    if (event !== 'message') return on(event, handler);
    let loading = null;
    const queued = [];
    return on('message', (data) => {
      if (loading) return void queued.push(data);
      const blob = data && data.cmd === 'load' ? data.urlOrBlob : undefined;
      if (!blob || typeof blob !== 'object') return handler(data);
      loading = blob.text().then((source) => {
        globalThis.__peerPthreadMain = source;
        handler({ ...data, urlOrBlob: '__peer_pthread_main__' });
        loading = null;
        for (const d of queued.splice(0)) handler(d);
      });
    });
  };
}
`;

const WORKER_POSTLUDE = `
{
  const importScripts = globalThis.importScripts;
  globalThis.importScripts = (file) => {
    if (file !== '__peer_pthread_main__') return importScripts(file);
    const source = globalThis.__peerPthreadMain;
    delete globalThis.__peerPthreadMain;
    (0, eval)(source);
  };
}
`;

/**
 * Writes (once per content, to the OS temp dir) the script emscripten's pthread workers run under
 * Node, and returns its path: the bundle's own worker source (`wasmWorkerContents`), wrapped so the
 * worker awaits the Blob holding the module's main script before handling messages, and evaluates it
 * where the original would `importScripts` a blob: URL (which Node cannot load).
 */
export function writePthreadScript(): string {
  const bundlePath = require.resolve('@tensorflow/tfjs-backend-wasm');
  const match = /var wasmWorkerContents = ("(?:[^"\\]|\\.)*");/.exec(readFileSync(bundlePath, 'utf8'));
  if (!match?.[1]) {
    throw new PeerBackendError(
      `wasm threads: no wasmWorkerContents in ${bundlePath} (tfjs version changed?)`,
    );
  }
  // tfjs escapes newlines the same way before making its Blob: the source has "\n" inside string literals.
  const workerSource = (JSON.parse(match[1]) as string).replace(/\n/g, '\\n');
  const source = WORKER_PRELUDE(path.dirname(bundlePath)) + workerSource + WORKER_POSTLUDE;
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `peer-tfjs-wasm-pthread-${hash}.cjs`);
  if (!existsSync(file)) {
    // Write then rename, so concurrent processes never load a half-written file.
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, source);
    renameSync(partial, file);
  }
  return file;
}
