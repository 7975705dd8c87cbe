package io.github.diffusion4j.backend.nd4j;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Row-major single-precision BLAS on ND4J's buffers, called straight into the OpenBLAS library that ND4J
 * itself links. ND4J's own {@code Nd4j.gemm} reaches the same {@code cblas_sgemm} but spends 20-100 µs
 * per call in shape checks and op bookkeeping, more than the product itself at the sizes this backend
 * runs; the direct call costs about a microsecond.
 */
final class Blas {
  private Blas() {}

  /**
   * {@code C = alpha * op(A) op(B) + beta * C}, all row-major; {@code op(X)} is {@code X} or its
   * transpose.
   *
   * @param transA whether to transpose A
   * @param transB whether to transpose B
   * @param m rows of op(A) and C
   * @param n columns of op(B) and C
   * @param k columns of op(A), rows of op(B)
   * @param a A
   * @param lda the row stride of A
   * @param b B
   * @param ldb the row stride of B
   * @param beta the factor of the old C (0: C is overwritten)
   * @param c C
   * @param ldc the row stride of C
   */
  static void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      FloatPointer a,
      int lda,
      FloatPointer b,
      int ldb,
      float beta,
      FloatPointer c,
      int ldc) {
    openblas_nolapack.cblas_sgemm(
        CblasRowMajor,
        transA ? CblasTrans : CblasNoTrans,
        transB ? CblasTrans : CblasNoTrans,
        m,
        n,
        k,
        1f,
        a,
        lda,
        b,
        ldb,
        beta,
        c,
        ldc);
  }

  /**
   * {@code y = op(A) x + beta * y} for a row-major {@code m x n} matrix A, unit strides; {@code op(A)} is A
   * or its transpose (with x all ones: A's row or column sums).
   *
   * @param trans whether to transpose A
   * @param m rows of A
   * @param n columns of A
   * @param a A
   * @param lda the row stride of A
   * @param x the vector (length n, or m when transposed)
   * @param beta the factor of the old y (1: y accumulates)
   * @param y the result (length m, or n when transposed)
   */
  static void gemv(boolean trans, int m, int n, FloatPointer a, int lda, FloatPointer x, float beta, FloatPointer y) {
    openblas_nolapack.cblas_sgemv(
        CblasRowMajor, trans ? CblasTrans : CblasNoTrans, m, n, 1f, a, lda, x, 1, beta, y, 1);
  }

  /**
   * A pointer {@code offset} floats past {@code base}; shares its memory and owns nothing.
   *
   * @param base the base pointer
   * @param offset the offset in floats
   * @return the new pointer
   */
  static FloatPointer at(FloatPointer base, long offset) {
    return new FloatPointer(base).position(base.position() + offset);
  }
}
