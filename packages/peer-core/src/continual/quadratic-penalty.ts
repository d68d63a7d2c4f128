import * as tf from '@tensorflow/tfjs';
import { PeerConfigError } from '../errors/peer-error.js';
import type { PeerClassifier } from '../models/classifier.js';
import type { TensorBlock } from '../serialization/tensor-block.js';
import {
  blockValues,
  classifierExpertTables,
  classifierVariables,
  type NamedExpertTable,
} from './model-parameters.js';

/** One anchored quadratic: parameters pulled towards `anchors`, per element weighted by `weights` (or 1). */
export interface QuadraticTerm {
  readonly anchors: readonly TensorBlock[];
  /** Per-element weights (a Fisher diagonal) with the anchors' names and shapes; null weighs every element 1. */
  readonly weights: readonly TensorBlock[] | null;
}

interface VariableTerm {
  readonly variable: tf.Variable;
  readonly anchor: tf.Tensor;
  readonly weight: tf.Tensor | null;
}

interface ExpertTerm {
  readonly table: NamedExpertTable;
  readonly anchor: Float32Array;
  readonly weight: Float32Array | null;
  readonly rows: number;
}

/**
 * (strength / 2) * sum_terms sum_i w_i (theta_i - anchor_i)^2 over the model's parameters that have an anchor of
 * the same name and shape: EWC's penalty (Kirkpatrick et al. 2017, eq. 3) with w = Fisher, L2-SP's (Li et al.
 * 2018) with w = 1. Parameters added since the anchor (new sub-key rows, new experts) have none and are free.
 *
 * Expert tables are not tfjs variables: their part is computed on plain arrays and its gradient
 * strength * w * (theta - anchor) is pushed into each PEER layer's gradient sink as rank-1 factors (one
 * "token" per expert row), so `SparseExpertAdam` applies it in the same step. Frozen experts are skipped.
 */
export class QuadraticPenalty {
  private readonly variableTerms: VariableTerm[] = [];
  private readonly expertTerms: ExpertTerm[] = [];

  constructor(
    model: PeerClassifier,
    terms: readonly QuadraticTerm[],
    readonly strength: number,
  ) {
    if (!(strength >= 0)) throw new PeerConfigError('strength', '>= 0', strength);
    const variables = new Map(classifierVariables(model).map((v) => [v.name, v.variable]));
    const tables = new Map(classifierExpertTables(model).map((t) => [t.name, t]));
    for (const term of terms) {
      const weights = new Map((term.weights ?? []).map((b) => [b.name, b]));
      for (const anchor of term.anchors) {
        const weight = term.weights ? weights.get(anchor.name) : undefined;
        if (term.weights && !weight) continue; // no Fisher for it: nothing to protect
        const variable = variables.get(anchor.name);
        if (variable && variable.shape.join() === anchor.shape.join()) {
          this.variableTerms.push({
            variable,
            anchor: tf.tensor(blockValues(anchor), variable.shape),
            weight: weight ? tf.tensor(blockValues(weight), variable.shape) : null,
          });
          continue;
        }
        const table = tables.get(anchor.name);
        if (table && anchor.shape[1] === table.layer.experts.d) {
          this.expertTerms.push({
            table,
            anchor: blockValues(anchor),
            weight: weight ? blockValues(weight) : null,
            rows: anchor.shape[0] ?? 0,
          });
        }
      }
    }
  }

  /** Anchored parameters (variables and expert tables) the penalty covers. */
  get size(): number {
    return this.variableTerms.length + this.expertTerms.length;
  }

  /**
   * The penalty as a scalar, differentiable in the trainable variables. With `pushExpertGradients` (inside a
   * training step) the expert-table gradient goes to the layers' sinks; its value enters as a constant.
   */
  value(options: { pushExpertGradients?: boolean } = {}): tf.Scalar {
    const half = this.strength / 2;
    let expertValue = 0;
    for (const term of this.expertTerms)
      expertValue += this.expertTerm(term, options.pushExpertGradients ?? false);
    return tf.tidy(() => {
      let total: tf.Scalar = tf.scalar(half * expertValue);
      for (const { variable, anchor, weight } of this.variableTerms) {
        if (!variable.trainable) continue; // frozen: constant, no gradient
        const sq = variable.sub(anchor).square();
        total = total.add((weight ? sq.mul(weight) : sq).sum().mul(half));
      }
      return total;
    });
  }

  /** sum w (theta - anchor)^2 over the unfrozen anchored rows of one table; optionally pushes its gradient. */
  private expertTerm(term: ExpertTerm, push: boolean): number {
    const { layer, table } = term.table;
    const d = layer.experts.d;
    const from = layer.frozenExperts;
    const to = Math.min(term.rows, layer.numExperts);
    if (to <= from) return 0;
    const theta = layer.experts.rowRange(table, 0, layer.experts.rows);
    const ids: number[] = [];
    const grads: number[] = [];
    let sum = 0;
    for (let id = from; id < to; id++) {
      let rowSum = 0;
      const row = new Float32Array(d);
      for (let c = 0; c < d; c++) {
        const i = id * d + c;
        const w = term.weight ? (term.weight[i] ?? 0) : 1;
        const diff = (theta[i] ?? 0) - (term.anchor[i] ?? 0);
        rowSum += w * diff * diff;
        row[c] = this.strength * w * diff;
      }
      if (rowSum === 0) continue; // at its anchor or unweighted: no gradient either
      sum += rowSum;
      ids.push(id);
      for (const g of row) grads.push(g);
    }
    if (push && ids.length > 0) {
      const n = ids.length;
      const grad = Float32Array.from(grads);
      const zeros = new Float32Array(n * d);
      const ones = new Float32Array(n).fill(1);
      layer.gradients.push({
        tokens: n,
        slots: 1,
        d,
        ids: Int32Array.from(ids),
        coefU: table === 'u' ? ones : new Float32Array(n),
        coefV: table === 'v' ? ones : new Float32Array(n),
        x: table === 'u' ? grad : zeros,
        dy: table === 'v' ? grad : zeros,
      });
    }
    return sum;
  }

  dispose(): void {
    for (const t of this.variableTerms) tf.dispose([t.anchor, ...(t.weight ? [t.weight] : [])]);
    this.variableTerms.length = 0;
    this.expertTerms.length = 0;
  }
}
