#!/usr/bin/env node
// Builds assembly/index.ts into src/kernels/peer-simd.wasm (or the path after --out).
// The flags are the whole build: the output depends only on the sources and the pinned assemblyscript,
// so a test rebuilds into a temp file and compares bytes with the committed binary.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** asc flags: SIMD, speed-optimized, no runtime allocations, a shared imported 4 GiB-capable memory. */
export const ASC_FLAGS = [
  '--optimizeLevel=3',
  '--shrinkLevel=0',
  '--converge',
  '--noAssert',
  '--runtime=stub',
  '--enable=simd',
  // Shared memory (needs the threads feature), so that a worker thread could run the same kernels on the
  // same heap, and so that growing the memory never detaches views.
  '--enable=threads',
  '--importMemory',
  '--noExportMemory',
  '--sharedMemory',
  '--maximumMemory=65536',
  // No abort import and no message strings: the module has no data segments, so instantiating it never
  // writes into a memory that already holds data.
  '--use=abort=',
];

/** Compiles to `outFile` (absolute or relative to the package). Throws on any compiler error. */
export async function buildWasm(outFile = 'src/kernels/peer-simd.wasm') {
  const out = resolve(packageDir, outFile);
  mkdirSync(dirname(out), { recursive: true });
  const { error, stderr } = await asc.main([
    resolve(packageDir, 'assembly/index.ts'),
    '--outFile',
    out,
    ...ASC_FLAGS,
  ]);
  if (error) throw new Error(`asc failed: ${error.message}\n${stderr.toString()}`);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const written = await buildWasm(at > 0 ? process.argv[at + 1] : undefined);
  console.log(`wrote ${written}`);
}
