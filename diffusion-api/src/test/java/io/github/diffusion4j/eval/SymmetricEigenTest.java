package io.github.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SymmetricEigenTest {

  static double[][] randomSymmetric(int n, long seed) {
    Random r = new Random(seed);
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        a[i][j] = a[j][i] = r.nextGaussian();
      }
    }
    return a;
  }

  static double maxAbs(double[][] a) {
    double m = 0;
    for (double[] row : a) {
      for (double v : row) {
        m = Math.max(m, Math.abs(v));
      }
    }
    return m;
  }

  /** Checks A = V L V^T, V V^T = I and ascending order. */
  static void assertDecomposes(double[][] a) {
    int n = a.length;
    SymmetricEigen e = SymmetricEigen.of(a);
    // backward-stable: errors of order n * eps * |A|; 1e-12 * n * max(|A|, 1) leaves a wide margin
    double tol = 1e-12 * n * Math.max(maxAbs(a), 1);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        double dot = 0;
        for (int k = 0; k < n; k++) {
          s += e.values[k] * e.vectors[k][i] * e.vectors[k][j];
          dot += e.vectors[i][k] * e.vectors[j][k];
        }
        assertEquals(a[i][j], s, tol, "reconstruction at " + i + "," + j);
        assertEquals(i == j ? 1.0 : 0.0, dot, 1e-12 * n, "orthonormality at " + i + "," + j);
      }
    }
    for (int i = 1; i < n; i++) {
      assertTrue(e.values[i - 1] <= e.values[i], "ascending");
    }
    assertArrayEquals(e.values, SymmetricEigen.values(a), tol, "values-only path agrees");
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 5, 16, 75, 150})
  void reconstructsRandomMatrices(int n) {
    assertDecomposes(randomSymmetric(n, 42 + n));
  }

  @Test
  void knownTwoByTwo() {
    double[] v = SymmetricEigen.values(new double[][] {{2, 1}, {1, 2}});
    assertArrayEquals(new double[] {1, 3}, v, 1e-15);
  }

  @Test
  void diagonalAndIdentityAndZero() {
    double[][] diag = {{3, 0, 0}, {0, -1, 0}, {0, 0, 2}};
    assertArrayEquals(new double[] {-1, 2, 3}, SymmetricEigen.values(diag), 1e-15);
    assertDecomposes(diag);
    double[][] id = new double[6][6];
    for (int i = 0; i < 6; i++) {
      id[i][i] = 1;
    }
    assertDecomposes(id);
    assertDecomposes(new double[4][4]);
  }

  @Test
  void rankDeficientMatrixHasZeroEigenvalues() {
    // B B^T with B 20 x 3: rank 3, so 17 eigenvalues are 0 (to rounding)
    Random r = new Random(7);
    int n = 20;
    double[][] b = new double[n][3];
    for (double[] row : b) {
      for (int k = 0; k < 3; k++) {
        row[k] = r.nextGaussian();
      }
    }
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        for (int k = 0; k < 3; k++) {
          a[i][j] += b[i][k] * b[j][k];
        }
      }
    }
    assertDecomposes(a);
    double[] v = SymmetricEigen.values(a);
    for (int i = 0; i < n - 3; i++) {
      assertEquals(0.0, v[i], 1e-12 * n * maxAbs(a));
    }
    assertTrue(v[n - 3] > 1e-3);
  }

  @Test
  void rejectsNonSquare() {
    assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(new double[][] {{1, 2}}));
  }

  @Test
  void blockDiagonalMatricesWhoseLastRowIsAlreadyReduced() {
    // the Householder reduction meets a row with nothing left of the diagonal and must still carry the rows
    // above it on: a coupled 2x2 block (eigenvalues 1 and 3) above a lone 5, and the lone value first
    assertArrayEquals(new double[] {1, 3, 5}, SymmetricEigen.values(new double[][] {{2, 1, 0}, {1, 2, 0}, {0, 0, 5}}),
        1e-14);
    assertDecomposes(new double[][] {{2, 1, 0}, {1, 2, 0}, {0, 0, 5}});
    assertDecomposes(new double[][] {{5, 0, 0}, {0, 2, 1}, {0, 1, 2}});
    assertDecomposes(new double[][] {{4, 1, 2, 0}, {1, 3, 0, 0}, {2, 0, 1, 0}, {0, 0, 0, -2}});
  }
}
