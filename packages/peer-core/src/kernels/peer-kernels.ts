/**
 * The compute kernels behind PEER retrieval and expert evaluation, over flat typed arrays.
 * Two implementations: a plain-JS reference (`createReferenceKernels`) and a WebAssembly SIMD one
 * (`createSimdKernels`); tests hold them equal. All matrices are row-major float32 unless noted.
 *
 * Tie-breaks (chosen so product-key top-k equals brute-force top-k exactly, even under float32 rounding):
 * row top-k orders by score descending, then index ascending; product top-k orders by score descending, then
 * by the row's rank among the top-k rows, then by the column's rank. Ranking by expert id instead would not be
 * exact: rounding can make fround(s1[i'] + s2[j]) equal fround(s1[i] + s2[j]) with s1[i'] > s1[i] and i' > i,
 * so k better-ranked rows could all lose their ties to (i, j) and a row outside the top-k rows would belong
 * to the true top-k.
 */
export interface PeerKernels {
  readonly name: 'reference' | 'simd' | 'native';

  /**
   * Row-wise top-k. `scores`: [rows, cols]. Writes `outIndex`/`outScore`: [rows, k], each row sorted by the
   * tie-break rule. Requires 1 <= k <= cols. NaN scores are treated as -Infinity.
   */
  topkRows(
    scores: Float32Array,
    rows: number,
    cols: number,
    k: number,
    outIndex: Int32Array,
    outScore: Float32Array,
  ): void;

  /**
   * Product-key combination. For each row r, candidates (a, b) in [0,k)x[0,k) have score
   * `fround(score1[r,a] + score2[r,b])` and expert id `index1[r,a] * cols2 + index2[r,b]`; keeps the top-k of the
   * k*k candidates by score desc, then a asc, then b asc (row rank, column rank). Inputs are [rows, k] as from
   * `topkRows`. Writes [rows, k]: `outId`, `outScore`, and the candidate positions `outA`, `outB`.
   */
  productTopk(
    score1: Float32Array,
    index1: Int32Array,
    score2: Float32Array,
    index2: Int32Array,
    rows: number,
    k: number,
    cols2: number,
    outId: Int32Array,
    outScore: Float32Array,
    outA: Int32Array,
    outB: Int32Array,
  ): void;

  /**
   * Expert forward: `x` [tokens, d]; per token `slots` experts `ids` [tokens, slots] with `gates` [tokens, slots].
   * preact[t,s] = U[ids[t,s]] . x[t];  out[t] = sum_s gates[t,s] * act(preact[t,s]) * V[ids[t,s]].
   * `U`, `V` are the expert tables [numExperts, d] given as (array, offset-in-elements of row 0).
   * Writes `out` [tokens, d] (overwritten) and `preact` [tokens, slots] (kept for the backward).
   */
  expertsForward(args: ExpertsForwardArgs): void;

  /**
   * Expert backward for upstream `dy` [tokens, d]. With a = preact, h = act(a), w = V[id] . dy[t]:
   *   dgates[t,s] = h * w
   *   coefV[t,s]  = gates[t,s] * h               (dV[id] += coefV * dy[t])
   *   coefU[t,s]  = gates[t,s] * act'(a) * w     (dU[id] += coefU * x[t])
   *   dx[t]       = sum_s coefU[t,s] * U[id]
   * Writes dx [tokens, d] (overwritten), dgates, coefU, coefV [tokens, slots].
   */
  expertsBackward(args: ExpertsBackwardArgs): void;

  /**
   * Sparse row-gradient accumulation: out[rowOf[i]] += coef[i] * vecs[vecOf[i]] for i in [0, count).
   * `out` is [numRows, d] (NOT cleared: caller zeroes it). Used to turn the rank-1 factors above into
   * per-unique-expert gradient rows.
   */
  scatterRank1(
    out: Float32Array,
    d: number,
    rowOf: Int32Array,
    coef: Float32Array,
    vecs: Float32Array,
    vecOf: Int32Array,
    count: number,
  ): void;
}

/** 0 = ReLU, 1 = GELU (tanh approximation: 0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3)))). */
export type ActivationCode = 0 | 1;

export interface ExpertTableView {
  readonly data: Float32Array;
  /** Element offset of row 0 inside `data`. */
  readonly offset: number;
}

export interface ExpertsForwardArgs {
  readonly x: Float32Array;
  readonly tokens: number;
  readonly d: number;
  readonly ids: Int32Array;
  readonly gates: Float32Array;
  readonly slots: number;
  readonly u: ExpertTableView;
  readonly v: ExpertTableView;
  readonly activation: ActivationCode;
  readonly out: Float32Array;
  readonly preact: Float32Array;
}

export interface ExpertsBackwardArgs {
  readonly x: Float32Array;
  readonly dy: Float32Array;
  readonly tokens: number;
  readonly d: number;
  readonly ids: Int32Array;
  readonly gates: Float32Array;
  readonly slots: number;
  readonly u: ExpertTableView;
  readonly v: ExpertTableView;
  readonly preact: Float32Array;
  readonly activation: ActivationCode;
  readonly dx: Float32Array;
  readonly dgates: Float32Array;
  readonly coefU: Float32Array;
  readonly coefV: Float32Array;
}
