import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SIMD_WASM_URL, simdModule } from '../../src/kernels/simd-module.js';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));

describe('peer-simd.wasm', () => {
  it('is up to date: rebuilding assembly/ gives the committed bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'peer-simd-'));
    try {
      const out = join(dir, 'peer-simd.wasm');
      execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--out', out], {
        cwd: packageDir,
        stdio: 'pipe',
      });
      const fresh = readFileSync(out);
      const committed = readFileSync(SIMD_WASM_URL);
      expect(fresh.equals(committed), 'run `node scripts/build-wasm.mjs` in packages/peer-core').toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('imports only a shared memory and exports exactly the kernels', () => {
    const module = simdModule();
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(
      WebAssembly.Module.exports(module)
        .map((e) => e.name)
        .sort(),
    ).toEqual([
      'expertsBackward',
      'expertsForward',
      'firstOutOfRange',
      'productTopk',
      'scatterRank1',
      'topkRows',
      'zeroBytes',
    ]);
  });
});
