import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** What a fresh process with this PEER_KERNELS (and kernel threads) chooses. */
function choose(kernels: string | undefined, threads = ''): Record<string, unknown> {
  const script = fileURLToPath(new URL('./kernel-choice.fixture.ts', import.meta.url));
  const env = { ...process.env, PEER_KERNELS: kernels ?? '', PEER_KERNEL_THREADS: threads };
  const out = execFileSync(process.execPath, ['--import', 'tsx', script], {
    encoding: 'utf8',
    env,
    timeout: 30_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
}

describe('PEER_KERNELS', () => {
  it('defaults to the native kernels where the addon is built, with native dense products', () => {
    expect(choose(undefined)).toEqual({ name: 'native', label: 'native AVX2/FMA, 1 thread', dense: true });
    expect(choose('native', '2')).toEqual({
      name: 'native',
      label: 'native AVX2/FMA, 2 threads',
      dense: true,
    });
  });

  it('keeps the WebAssembly or plain-JS kernels when asked, and says why they are not native', () => {
    expect(choose('simd')).toEqual({
      name: 'simd',
      label: 'wasm SIMD, 1 thread; not native: PEER_KERNELS',
      dense: false,
    });
    expect(choose('reference')).toMatchObject({ name: 'reference', dense: false });
  });
});
