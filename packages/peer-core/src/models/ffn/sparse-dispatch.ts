import * as tf from '@tensorflow/tfjs';

/**
 * Token lists per expert: `tokens[e]` are the rows routed to expert e, `slots[e]` the matching flat indices
 * into a [tokens, experts] gate matrix (token * experts + e).
 */
export interface Dispatch {
  readonly tokens: Int32Array[];
  readonly slots: Int32Array[];
}

/** Groups a [tokens, k] assignment of expert ids by expert (conditional execution: each expert sees only its rows). */
export function groupByExpert(assignment: Int32Array, tokens: number, k: number, experts: number): Dispatch {
  const counts = new Int32Array(experts);
  for (let i = 0; i < tokens * k; i++) counts[assignment[i] ?? 0] = (counts[assignment[i] ?? 0] ?? 0) + 1;
  const out: Dispatch = {
    tokens: Array.from(counts, (c) => new Int32Array(c)),
    slots: Array.from(counts, (c) => new Int32Array(c)),
  };
  const fill = new Int32Array(experts);
  for (let t = 0; t < tokens; t++)
    for (let j = 0; j < k; j++) {
      const e = assignment[t * k + j] ?? 0;
      const at = fill[e] ?? 0;
      const rows = out.tokens[e];
      const slots = out.slots[e];
      if (rows) rows[at] = t;
      if (slots) slots[at] = t * experts + e;
      fill[e] = at + 1;
    }
  return out;
}

/**
 * y[t] = Σ_{e routed from t} weight(t, e) · expert_e(x[t]), running each expert only on its own rows
 * (gather -> expert -> scale -> segment-sum back). Differentiable in `x`, the experts' variables and
 * `weights`; the gather's gradient is a segment sum and vice versa, so the backward is sparse too.
 *
 * @param weights [tokens * experts] flat gate values, or undefined for weight 1 (hard routing)
 */
export function runDispatched(
  x: tf.Tensor2D,
  dispatch: Dispatch,
  expert: (e: number, rows: tf.Tensor2D) => tf.Tensor2D,
  weights?: tf.Tensor1D,
): tf.Tensor2D {
  const [tokens, d] = x.shape;
  return tf.tidy(() => {
    const outputs: tf.Tensor2D[] = [];
    const targets: Int32Array[] = [];
    dispatch.tokens.forEach((rows, e) => {
      if (rows.length === 0) return;
      const xe = tf.gather(x, tf.tensor1d(rows, 'int32')) as tf.Tensor2D; // [n_e, d]
      let ye = expert(e, xe); // [n_e, d]
      const slots = dispatch.slots[e];
      if (weights && slots) ye = ye.mul(tf.gather(weights, tf.tensor1d(slots, 'int32')).reshape([-1, 1])); // [n_e] -> [n_e, 1]
      outputs.push(ye);
      targets.push(rows);
    });
    if (outputs.length === 0) return tf.zeros([tokens, d]) as tf.Tensor2D;
    const ids = new Int32Array(targets.reduce((s, r) => s + r.length, 0));
    let at = 0;
    for (const r of targets) {
      ids.set(r, at);
      at += r.length;
    }
    const stacked = outputs.length === 1 ? (outputs[0] as tf.Tensor2D) : tf.concat2d(outputs, 0);
    return tf.unsortedSegmentSum(stacked, tf.tensor1d(ids, 'int32'), tokens) as tf.Tensor2D;
  });
}
