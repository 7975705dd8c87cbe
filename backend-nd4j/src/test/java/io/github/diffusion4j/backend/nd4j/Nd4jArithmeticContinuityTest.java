package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.BackendFixture;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.floating.Sqrt;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The tensors' plain arithmetic (add, sub, mul, div of two tensors and of a scalar, sqrt) ran as ND4J ops up to
 * release 694eae1 and runs in the backend's own loops since: a checkpoint and seed sample the same images across
 * that upgrade only if the loops give ND4J's bits. Checked here against the ND4J ops themselves, on the values
 * where an implementation could part from them (subnormals, overflow, infinities, NaN, signed zeros, arbitrary bit
 * patterns), over more than one chunk of the loops, so that a later rewrite (a fused multiply-add, a reciprocal
 * instead of a division, a flush of subnormals) cannot change the samples of an existing checkpoint unnoticed.
 */
class Nd4jArithmeticContinuityTest extends BackendFixture {
  private static final int N = Kernels.CHUNK * 2 + 37;
  private static final float[] SPECIAL = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1e-39f,
      1e-30f, 1e30f, 3e38f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
      Float.NaN, 1f, -1f, 0.1f, 1e-8f};
  private static final double[] SCALARS = {0.5, 1.0 / 3, -2.5e-7, 1e30, 0.9999, Math.sqrt(0.7), 1e-45, 3.4e38,
      -0.0, Double.POSITIVE_INFINITY};

  @Override
  protected Backend createBackend() {
    return Nd4jTests.createBackend();
  }

  private static float[] values(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[N];
    for (int i = 0; i < N; i++) {
      int k = r.nextInt(10);
      if (k == 0) {
        v[i] = SPECIAL[r.nextInt(SPECIAL.length)];
      } else if (k == 1) {
        v[i] = Float.intBitsToFloat(r.nextInt());
      } else {
        v[i] = (float) ((r.nextDouble() * 2 - 1) * Math.pow(10, r.nextInt(9) - 4));
      }
    }
    return v;
  }

  /** The same float bits, any NaN matching any NaN. */
  private static void sameBits(String what, INDArray expected, Tensor actual) {
    float[] e = expected.toFloatVector();
    float[] a = actual.toFloatArray();
    assertEquals(e.length, a.length, what);
    for (int i = 0; i < e.length; i++) {
      boolean same = Float.isNaN(e[i]) ? Float.isNaN(a[i])
          : Float.floatToRawIntBits(e[i]) == Float.floatToRawIntBits(a[i]);
      if (!same) {
        fail(what + " at " + i + ": ND4J " + e[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(e[i]))
            + "), the backend " + a[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(a[i])) + ")");
      }
    }
  }

  @Test
  void plainArithmeticGivesTheBitsOfTheNd4jOpsItReplaced() {
    TensorFactory nd = backend.tensors();
    float[] x = values(1);
    float[] y = values(2);
    Shape shape = Shape.of(N);
    try (TensorScope s = nd.openScope()) {
      Tensor tx = nd.fromArray(x, shape);
      Tensor ty = nd.fromArray(y, shape);
      INDArray ax = Nd4j.createFromArray(x);
      INDArray ay = Nd4j.createFromArray(y);
      sameBits("add", ax.add(ay), tx.add(ty));
      sameBits("sub", ax.sub(ay), tx.sub(ty));
      sameBits("mul", ax.mul(ay), tx.mul(ty));
      sameBits("div", ax.div(ay), tx.div(ty));
      sameBits("x + x (one operand twice)", ax.add(ax), tx.add(tx));
      for (INDArray a : new INDArray[] {ax, ay}) {
        INDArray out = Nd4j.createUninitialized(a.dataType(), a.shape());
        Nd4j.getExecutioner().exec(new Sqrt(a, out));
        sameBits("sqrt", out, (a == ax ? tx : ty).sqrt());
      }
      for (double v : SCALARS) {
        float f = (float) v;
        sameBits("add " + v, ax.add(f), tx.add(v));
        sameBits("mul " + v, ax.mul(f), tx.mul(v));
        sameBits("sub " + v, ax.add((float) -v), tx.sub(v));
        sameBits("div " + v, ax.mul((float) (1.0 / v)), tx.div(v));
      }
    }
  }
}
