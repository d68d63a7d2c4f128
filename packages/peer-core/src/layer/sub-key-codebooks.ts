import * as tf from '@tensorflow/tfjs';
import type { PeerConfig } from '../config/peer-config.js';
import { DerivedTensorCache } from '../util/derived-tensor-cache.js';
import type { Random } from '../util/random.js';

/**
 * The two product-key codebooks. C1 grows by appending row segments (one per growth step), so old rows
 * can be frozen as whole variables and serialized as unchanged blocks; C2 is fixed.
 * Shapes carry a key-head axis: 1 when heads share keys (the paper), `heads` otherwise.
 *   C1 = concat(segments, axis 1): [keyHeads, rows, dKey/2];  C2: [keyHeads, cols, dKey/2].
 */
export class SubKeyCodebooks {
  readonly keyHeads: number;
  readonly half: number;
  readonly segments: tf.Variable<tf.Rank.R3>[] = [];
  readonly columns: tf.Variable<tf.Rank.R3>;
  private readonly transposedRows = new DerivedTensorCache<tf.Tensor[]>();
  private readonly transposedCols = new DerivedTensorCache<tf.Tensor[]>();

  constructor(config: PeerConfig, rng: Random) {
    this.keyHeads = config.sharedKeys ? 1 : config.heads;
    this.half = config.dKey / 2;
    this.segments.push(this.makeSegment(this.randomKeys(config.subKeyRows, rng)));
    this.columns = this.makeSegment(this.randomKeys(config.subKeyCols, rng));
  }

  get rows(): number {
    return this.segments.reduce((sum, s) => sum + (s.shape[1] ?? 0), 0);
  }

  get cols(): number {
    return this.columns.shape[1];
  }

  /** C1 with every segment, [keyHeads, rows, half] (a new tensor unless there is one segment). */
  rowKeys(): tf.Tensor3D {
    const [first] = this.segments;
    if (this.segments.length === 1 && first) return first;
    return tf.concat3d(this.segments, 1);
  }

  /** Appends a segment of rows given as [keyHeads * rows * half] values (keyHead-major). */
  appendRows(values: Float32Array, rows: number): tf.Variable<tf.Rank.R3> {
    const segment = this.makeSegment(values, rows);
    this.segments.push(segment);
    return segment;
  }

  /** Freezes every current segment and the column keys (growth keeps old routing intact). */
  freezeAll(): void {
    for (const s of this.segments) s.trainable = false;
    this.columns.trainable = false;
  }

  trainableVariables(): tf.Variable[] {
    return [...this.segments, this.columns].filter((v) => v.trainable);
  }

  variables(): tf.Variable[] {
    return [...this.segments, this.columns];
  }

  /**
   * Each key head's codebook transposed, [half, n], for scoring with a plain matmul (the transposed-operand
   * path is ~15x slower on wasm). Cached until a key changes, so serving does not re-transpose per request.
   */
  scoringKeys(which: 'rows' | 'cols'): tf.Tensor2D[] {
    const sources = which === 'rows' ? this.segments : [this.columns];
    const cache = which === 'rows' ? this.transposedRows : this.transposedCols;
    return cache.get(sources, () => {
      const all = which === 'rows' ? this.rowKeys() : this.columns; // [KH, n, half]
      const [, n, half] = all.shape;
      return Array.from({ length: this.keyHeads }, (_, kh) =>
        all.slice([kh, 0, 0], [1, n, half]).reshape([n, half]).transpose(),
      );
    }) as tf.Tensor2D[];
  }

  dispose(): void {
    this.transposedRows.dispose();
    this.transposedCols.dispose();
    for (const v of this.variables()) v.dispose();
  }

  /**
   * Sub-keys ~ U(-1/sqrt(half), 1/sqrt(half)) like PKM's init (Lample et al. 2019): scores of a unit-variance
   * query start at unit scale.
   */
  private randomKeys(rows: number, rng: Random): Float32Array {
    const bound = 1 / Math.sqrt(this.half);
    return rng.fillUniform(new Float32Array(this.keyHeads * rows * this.half), -bound, bound);
  }

  private makeSegment(values: Float32Array, rows?: number): tf.Variable<tf.Rank.R3> {
    const n = rows ?? values.length / (this.keyHeads * this.half);
    // Unnamed: tfjs variable names are process-global; block names live in the serializer.
    return tf.tidy(() => tf.variable(tf.tensor3d(values, [this.keyHeads, n, this.half]), true));
  }
}
