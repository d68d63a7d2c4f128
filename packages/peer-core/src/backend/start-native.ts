import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, ModuleImporter } from './backend-info.js';

/** The optional native packages, best first. Both register the 'tensorflow' backend on import. */
export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** Result of trying the native packages: the backend if one started, and why the others did not. */
export interface NativeAttempt {
  info?: BackendInfo;
  /** One entry per package that is installed but failed (a missing package is not a failure). */
  failures: string[];
}

/**
 * Imports tfjs-node-gpu, then tfjs-node, and switches to the 'tensorflow' backend they register.
 * Every error is caught, not only "module not found": `npm ci --ignore-scripts` leaves a copy without
 * its native addon, which throws something else (DESIGN §8). tfjs-node imports `@tensorflow/tfjs` and
 * registers into tfjs-core's engine, which lives on the global object, so the project's own
 * `import * as tf from '@tensorflow/tfjs'` computes on it too.
 */
export async function startNative(importModule: ModuleImporter): Promise<NativeAttempt> {
  const failures: string[] = [];
  for (const specifier of NATIVE_PACKAGES) {
    try {
      await importModule(specifier);
    } catch (error) {
      if (!isNotInstalled(error, specifier)) failures.push(`${specifier}: ${describe(error)}`);
      continue;
    }
    try {
      if (!(await tf.setBackend('tensorflow'))) throw new Error("tf.setBackend('tensorflow') returned false");
      return { info: { name: 'tensorflow', simd: true, threads: os.availableParallelism() }, failures };
    } catch (error) {
      failures.push(`${specifier}: ${describe(error)}`);
    }
  }
  return { failures };
}

/** True when `error` says the package itself is absent (not one of its dependencies or its addon). */
function isNotInstalled(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  return missing && describe(error).includes(`'${specifier}'`);
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
