import type * as tf from '@tensorflow/tfjs';

/** A product op(x) op(y) with the given transposes. */
export type TransposedProduct = (x: tf.Tensor2D, y: tf.Tensor2D, tx: boolean, ty: boolean) => tf.Tensor2D;

/**
 * The textbook gradients of C = op(A) op(B) for upstream dC, as two thunks (computed only if called), each
 * one product `mm` with transposes instead of explicit transposes:
 * - C = A B:    dA = dC Bᵀ,    dB = Aᵀ dC
 * - C = Aᵀ B:   dA = B dCᵀ,    dB = A dC
 * - C = A Bᵀ:   dA = dC B,     dB = dCᵀ A
 * - C = Aᵀ Bᵀ:  dA = Bᵀ dCᵀ,   dB = dCᵀ Aᵀ
 */
export function matMulGradients(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  dc: tf.Tensor2D,
  transposeA: boolean,
  transposeB: boolean,
  mm: TransposedProduct,
): { a: () => tf.Tensor2D; b: () => tf.Tensor2D } {
  if (!transposeA && !transposeB) return { a: () => mm(dc, b, false, true), b: () => mm(a, dc, true, false) };
  if (transposeA && !transposeB) return { a: () => mm(b, dc, false, true), b: () => mm(a, dc, false, false) };
  if (!transposeA && transposeB) return { a: () => mm(dc, b, false, false), b: () => mm(dc, a, true, false) };
  return { a: () => mm(b, dc, true, true), b: () => mm(dc, a, true, true) };
}
