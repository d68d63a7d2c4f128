import * as tf from '@tensorflow/tfjs';

/**
 * Caches tensors derived from variables (a transposed key table, BN folded into a weight) until one of the
 * sources changes. tfjs gives a variable a new `dataId` on every `assign` (optimizer steps, restores), so
 * comparing dataIds detects every change without hooks. Cached tensors are kept out of tidy scopes and
 * disposed when replaced or on `dispose()`.
 */
export class DerivedTensorCache<T extends tf.Tensor | tf.Tensor[]> {
  private sourceIds: readonly object[] = [];
  private value: T | undefined;

  get(sources: readonly tf.Tensor[], compute: () => T): T {
    const ids = sources.map((s) => s.dataId);
    if (
      this.value &&
      ids.length === this.sourceIds.length &&
      ids.every((id, i) => id === this.sourceIds[i])
    ) {
      return this.value;
    }
    this.dispose();
    const value = tf.tidy(compute);
    for (const t of Array.isArray(value) ? value : [value]) tf.keep(t);
    this.value = value;
    this.sourceIds = ids;
    return value;
  }

  dispose(): void {
    if (this.value) tf.dispose(this.value);
    this.value = undefined;
    this.sourceIds = [];
  }
}
