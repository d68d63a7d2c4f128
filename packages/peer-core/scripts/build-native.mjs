#!/usr/bin/env node
// Compiles native/*.cc into native/build/peer-native.node, the optional AVX2/FMA kernels (dense matmul, expert
// gather) that replace the WebAssembly ones where they load. It needs only a C++17 compiler and Node's own
// headers (<node prefix>/include/node; nothing is downloaded). Without a compiler it warns and leaves the
// package on its WebAssembly kernels, unless --require is given (CI), which makes a failed build an error.
// Rebuilds only when a source is newer than the addon.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(packageDir, 'native');
const output = join(sourceDir, 'build', 'peer-native.node');
const required = process.argv.includes('--require');

const sources = readdirSync(sourceDir)
  .filter((name) => name.endsWith('.cc') || name.endsWith('.h'))
  .map((name) => join(sourceDir, name));
const newestSource = Math.max(...sources.map((file) => statSync(file).mtimeMs));
if (existsSync(output) && statSync(output).mtimeMs >= newestSource && !process.argv.includes('--force')) {
  console.log(`[peer] native kernels up to date: ${output}`);
  process.exit(0);
}

const nodeHeaders = [join(dirname(process.execPath), '..', 'include', 'node'), process.env.npm_config_nodedir]
  .filter(Boolean)
  .map((dir) => (dir.endsWith(join('include', 'node')) ? dir : join(dir, 'include', 'node')))
  .find((dir) => existsSync(join(dir, 'node_api.h')));
const compiler = process.env.CXX || 'c++';

function give(reason) {
  const message = `[peer] native kernels not built (${reason}); the WebAssembly kernels are used instead`;
  if (required) {
    console.error(message);
    process.exit(1);
  }
  console.warn(message);
  process.exit(0);
}

if (!nodeHeaders) give(`node_api.h not found next to ${process.execPath}`);
mkdirSync(dirname(output), { recursive: true });
// No -march: the binary must load on any x86-64; the hot functions carry target("avx2,fma") and the addon
// reports `supported: false` on CPUs without them.
const temporary = `${output}.${process.pid}.tmp`;
const flags = [
  '-O3',
  '-std=c++17',
  '-shared',
  '-fPIC',
  '-pthread',
  '-fvisibility=hidden',
  '-Wall',
  '-Wextra',
];
const cc = sources.filter((file) => file.endsWith('.cc'));
const result = spawnSync(compiler, [...flags, `-I${nodeHeaders}`, ...cc, '-o', temporary], {
  stdio: 'inherit',
});
if (result.error) give(`${compiler}: ${result.error.message}`);
if (result.status !== 0) give(`${compiler} exited with ${result.status}`);
// Rename into place so a concurrent loader never sees a half-written file.
renameSync(temporary, output);
console.log(`[peer] native kernels built: ${output}`);
