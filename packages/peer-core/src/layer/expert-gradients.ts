/**
 * The gradient of the expert tables in factored form, as the expert backward produces it:
 *   dU[ids[s]] += coefU[s] * x[token(s)],   dV[ids[s]] += coefV[s] * dy[token(s)],   token(s) = floor(s / slots).
 * Keeping the rank-1 factors instead of dense [N, d] tables is what makes a step cost O(tokens * h * k * d)
 * instead of O(N * d) (the PyTorch reference spends most of its backward zero-filling dense tables).
 */
export interface ExpertGradientFactors {
  readonly tokens: number;
  readonly slots: number;
  readonly d: number;
  readonly ids: Int32Array;
  readonly coefU: Float32Array;
  readonly coefV: Float32Array;
  readonly x: Float32Array;
  readonly dy: Float32Array;
}

/** Collects the factored expert gradients of the backward passes of one optimizer step. */
export class ExpertGradientSink {
  private parts: ExpertGradientFactors[] = [];

  push(part: ExpertGradientFactors): void {
    this.parts.push(part);
  }

  get size(): number {
    return this.parts.length;
  }

  /** Returns everything collected since the last drain and empties the sink. */
  drain(): ExpertGradientFactors[] {
    const out = this.parts;
    this.parts = [];
    return out;
  }
}
