// Single-precision matrix product for the hot dense parts of PEER (query projection, sub-key scoring).
#pragma once

namespace peer {

/** A row-major matrix operand, read as itself or transposed. */
struct MatrixView {
  const float* data;
  int rows;       // rows of the stored array
  int cols;       // columns of the stored array (its leading dimension)
  bool transpose; // read element (i, j) as data[j * cols + i]
};

/**
 * C[m, n] = op(A)[m, k] * op(B)[k, n] (+ C when accumulate), C row-major and dense.
 * Requires AVX2 + FMA (callers check peer::hasAvx2Fma()). threads: 1 or 2 (rows of C split in halves).
 */
void gemm(int m, int n, int k, const MatrixView& a, const MatrixView& b, float* c, bool accumulate, int threads);

bool hasAvx2Fma();

} // namespace peer
