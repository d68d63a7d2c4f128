import { describe, expect, it } from 'vitest';
import { readCoreEnv } from '../../src/env.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';

describe('readCoreEnv', () => {
  it('parses the variables, treating empty ones as unset', () => {
    expect(
      readCoreEnv({
        PEER_BACKEND: 'cpu',
        PEER_WASM_THREADS: '2',
        PEER_LOG: 'silent',
        PEER_KERNELS: 'simd',
        OTHER: 'x',
      }),
    ).toEqual({
      PEER_BACKEND: 'cpu',
      PEER_WASM_THREADS: 2,
      PEER_LOG: 'silent',
      PEER_KERNELS: 'simd',
    });
    expect(readCoreEnv({ PEER_BACKEND: '', PEER_WASM_THREADS: '' })).toEqual({});
  });

  it('names the variable, its bound and the value when one is invalid', () => {
    expect(() => readCoreEnv({ PEER_WASM_THREADS: '-1' })).toThrow(PeerConfigError);
    expect(() => readCoreEnv({ PEER_WASM_THREADS: '-1' })).toThrow(
      /'PEER_WASM_THREADS' must be an integer >= 1, but got "-1"/,
    );
    expect(() => readCoreEnv({ PEER_LOG: 'loud' })).toThrow(/'PEER_LOG' must be one of/);
    expect(() => readCoreEnv({ PEER_KERNELS: 'gpu' })).toThrow(
      /'PEER_KERNELS' must be one of 'native', 'simd', 'reference', but got "gpu"/,
    );
  });

  it('reads process.env by default', () => {
    expect(() => readCoreEnv()).not.toThrow();
  });
});
