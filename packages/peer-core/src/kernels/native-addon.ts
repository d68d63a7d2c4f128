import { createRequire } from 'node:module';

/**
 * The compiled kernels of `native/` (built by `scripts/build-native.mjs` at install; optional). Arguments are
 * positional as in `native/addon.cc`; every array is checked there for its type and length, ids are range
 * checked and the first bad one returned instead of read.
 */
export interface NativeAddon {
  /** False on CPUs without AVX2 + FMA: the addon loads but must not be called. */
  readonly supported: boolean;
  gemm(
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    transA: boolean,
    b: Float32Array,
    transB: boolean,
    c: Float32Array,
    accumulate: boolean,
    threads: number,
  ): void;
  expertsForward(
    x: Float32Array,
    ids: Int32Array,
    gates: Float32Array,
    u: Float32Array,
    uOffset: number,
    v: Float32Array,
    vOffset: number,
    out: Float32Array,
    preact: Float32Array,
    tokens: number,
    d: number,
    slots: number,
    activation: number,
    numExperts: number,
    threads: number,
  ): number;
  expertsBackward(
    dy: Float32Array,
    ids: Int32Array,
    gates: Float32Array,
    u: Float32Array,
    uOffset: number,
    v: Float32Array,
    vOffset: number,
    preact: Float32Array,
    dx: Float32Array,
    dgates: Float32Array,
    coefU: Float32Array,
    coefV: Float32Array,
    tokens: number,
    d: number,
    slots: number,
    activation: number,
    numExperts: number,
    threads: number,
  ): number;
  scatterRank1(
    out: Float32Array,
    d: number,
    rowOf: Int32Array,
    coef: Float32Array,
    vecs: Float32Array,
    vecOf: Int32Array,
    count: number,
    numRows: number,
    numVecs: number,
  ): number;
  /** hyper = [lr, beta1, beta2, epsilon, 1 / (1 - beta1^t), 1 / (1 - beta2^t)]; `out` may be `params`. */
  adamUpdate(
    params: Float32Array,
    grads: Float32Array,
    m: Float32Array,
    v: Float32Array,
    out: Float32Array,
    n: number,
    hyper: Float32Array,
  ): void;
  /** out = GELU(x) (tanh approximation); t = the tanh, kept for the backward. */
  geluForward(x: Float32Array, out: Float32Array, t: Float32Array, n: number): void;
  /** dx = dy GELU'(x) from x and the forward's t. */
  geluBackward(x: Float32Array, t: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void;
  /** Rows of x [rows, cols]: xhat = (x - mean) rstd, out = xhat gamma + beta; xhat and rstd [rows] kept. */
  layerNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    out: Float32Array,
    xhat: Float32Array,
    rstd: Float32Array,
    rows: number,
    cols: number,
    epsilon: number,
  ): void;
  /** dx, dgamma, dbeta (overwritten) of the forward above, from its xhat and rstd. */
  layerNormBackward(
    dy: Float32Array,
    xhat: Float32Array,
    rstd: Float32Array,
    gamma: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    rows: number,
    cols: number,
  ): void;
}

/** Where the build script writes the addon, relative to this file (src/kernels/). */
const ADDON_PATH = '../../native/build/peer-native.node';

let loaded: { addon?: NativeAddon; reason?: string } | undefined;

/**
 * The native addon if it was built and this CPU can run it, else undefined with the reason in
 * {@link nativeUnavailableReason}. Loaded once per thread (Node-API addons load in worker threads too).
 */
export function loadNativeAddon(): NativeAddon | undefined {
  if (!loaded) loaded = tryLoad();
  return loaded.addon;
}

/** Why {@link loadNativeAddon} returned undefined (not built, unsupported CPU), for the backend banner. */
export function nativeUnavailableReason(): string | undefined {
  loadNativeAddon();
  return loaded?.reason;
}

function tryLoad(): { addon?: NativeAddon; reason?: string } {
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { reason: `not built (npm run build:native -w @peer/core): ${message}` };
  }
  if (!addon.supported) return { reason: 'this CPU lacks AVX2/FMA' };
  return { addon };
}
