import { readFileSync } from 'node:fs';
import { PeerBackendError } from '../errors/peer-error.js';

/**
 * The exports of peer-simd.wasm (built from assembly/ by scripts/build-wasm.mjs). Every pointer is a byte
 * address in the imported memory; JS numbers >= 2^31 wrap to negative i32 on the way in, which the module
 * reads back as unsigned (usize), so tables above 2 GiB work.
 */
export interface PeerSimdExports {
  /** `scratch`: 8 * roundUp(k, 4) bytes for the per-row working list. */
  topkRows(
    scores: number,
    rows: number,
    cols: number,
    k: number,
    outIndex: number,
    outScore: number,
    scratch: number,
  ): void;
  productTopk(
    score1: number,
    index1: number,
    score2: number,
    index2: number,
    rows: number,
    k: number,
    cols2: number,
    outId: number,
    outScore: number,
    outA: number,
    outB: number,
  ): void;
  expertsForward(
    x: number,
    tokens: number,
    d: number,
    ids: number,
    gates: number,
    slots: number,
    u: number,
    v: number,
    activation: number,
    out: number,
    preact: number,
  ): void;
  expertsBackward(
    dy: number,
    tokens: number,
    d: number,
    ids: number,
    gates: number,
    slots: number,
    u: number,
    v: number,
    preact: number,
    activation: number,
    dx: number,
    dgates: number,
    coefU: number,
    coefV: number,
  ): void;
  scatterRank1(
    out: number,
    d: number,
    rowOf: number,
    coef: number,
    vecs: number,
    vecOf: number,
    count: number,
  ): void;
  /** Index of the first of `count` i32 values outside [0, limit), or -1. */
  firstOutOfRange(values: number, count: number, limit: number): number;
  /** Zeroes `bytes` bytes at `ptr` with one bulk-memory instruction. */
  zeroBytes(ptr: number, bytes: number): void;
}

/** URL of the committed binary, beside this file. */
export const SIMD_WASM_URL = new URL('./peer-simd.wasm', import.meta.url);

let compiled: WebAssembly.Module | undefined;

/** The compiled module, read and compiled synchronously once per process (5 KB: well under a millisecond). */
export function simdModule(): WebAssembly.Module {
  if (!compiled) {
    try {
      compiled = new WebAssembly.Module(readFileSync(SIMD_WASM_URL));
    } catch (cause) {
      throw new PeerBackendError(
        `cannot load ${SIMD_WASM_URL.pathname} (WebAssembly SIMD needs Node >= 16)`,
        {
          cause,
        },
      );
    }
  }
  return compiled;
}

/** Instantiates the kernels over `memory` (a shared WebAssembly.Memory, as KernelHeap creates). */
export function instantiateSimd(memory: WebAssembly.Memory): PeerSimdExports {
  const instance = new WebAssembly.Instance(simdModule(), { env: { memory } });
  return instance.exports as unknown as PeerSimdExports;
}
