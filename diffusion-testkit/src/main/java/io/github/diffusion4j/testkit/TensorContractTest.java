package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The tensor contract every backend passes: each operation against the float32 arithmetic it promises,
 * immutability of operands, portable noise, and scope semantics.
 *
 * <p>Tolerance: elementwise results are compared with 1 ulp-scale slack (2e-7 relative plus 1e-7
 * absolute), because a backend may evaluate {@code a*x + b*y} with a fused multiply-add, which rounds once
 * instead of twice.
 */
public abstract class TensorContractTest extends BackendFixture {
  private static final Shape SHAPE = Shape.of(3, 2, 2, 2);

  private TensorFactory t() {
    return backend.tensors();
  }

  private static float[] values(int n, long seed) {
    return Noise.seeded(seed).normals(n);
  }

  private static float[] positive(int n, long seed) {
    float[] v = values(n, seed);
    for (int i = 0; i < n; i++) {
      v[i] = Math.abs(v[i]) + 0.5f;
    }
    return v;
  }

  private static void close(float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length, "length");
    for (int i = 0; i < expected.length; i++) {
      float tol = 2e-7f * Math.abs(expected[i]) + 1e-7f;
      assertEquals(expected[i], actual[i], tol, "element " + i);
    }
  }

  @Test
  void fromArrayCopiesAndRoundTrips() {
    try (TensorScope s = t().openScope()) {
      float[] a = values(SHAPE.size(), 1);
      Tensor x = t().fromArray(a, SHAPE);
      float[] copy = a.clone();
      a[0] = 1234f;
      assertEquals(SHAPE, x.shape());
      assertArrayEquals(copy, x.toFloatArray());
    }
  }

  @Test
  void zerosAreZero() {
    try (TensorScope s = t().openScope()) {
      assertArrayEquals(new float[SHAPE.size()], t().zeros(SHAPE).toFloatArray());
    }
  }

  @Test
  void fromArrayRejectsWrongLength() {
    IllegalArgumentException wrong =
        assertThrows(IllegalArgumentException.class, () -> t().fromArray(new float[5], SHAPE));
    assertEquals("shape " + SHAPE + " needs 24 values, got 5", wrong.getMessage());
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> t().fromArray(null, SHAPE));
    assertEquals("shape " + SHAPE + " needs 24 values, got null", none.getMessage());
  }

  @Test
  void aNullShapeOrNoiseIsRefusedNamingIt() {
    for (Executable e : List.<Executable>of(() -> t().zeros(null), () -> t().fromArray(new float[24], null),
        () -> t().normal(null, Noise.seeded(1)))) {
      assertEquals("shape must not be null", assertThrows(IllegalArgumentException.class, e).getMessage());
    }
    assertEquals("noise must not be null",
        assertThrows(IllegalArgumentException.class, () -> t().normal(SHAPE, null)).getMessage());
  }

  @Test
  void aClosedBackendRefusesNewTensorsAndScopes() {
    Backend other = createBackend();
    TensorFactory f = other.tensors();
    Tensor made = f.fromArray(values(SHAPE.size(), 3), SHAPE);
    other.close();
    other.close();
    for (Executable e : List.<Executable>of(
        () -> f.zeros(SHAPE), () -> f.fromArray(new float[SHAPE.size()], SHAPE), f::openScope,
        () -> f.normal(SHAPE, Noise.seeded(1)))) {
      IllegalStateException refused = assertThrows(IllegalStateException.class, e);
      assertEquals("the " + other.name() + " backend is closed", refused.getMessage());
    }
    assertThrows(IllegalStateException.class, made::toFloatArray, "a tensor of a closed backend was released");
  }

  @Test
  void elementwiseOperations() {
    try (TensorScope s = t().openScope()) {
      float[] a = values(SHAPE.size(), 2);
      float[] b = positive(SHAPE.size(), 3);
      Tensor x = t().fromArray(a, SHAPE);
      Tensor y = t().fromArray(b, SHAPE);
      float[] add = new float[a.length], sub = new float[a.length], mul = new float[a.length], div = new float[a.length];
      for (int i = 0; i < a.length; i++) {
        add[i] = a[i] + b[i];
        sub[i] = a[i] - b[i];
        mul[i] = a[i] * b[i];
        div[i] = a[i] / b[i];
      }
      close(add, x.add(y).toFloatArray());
      close(sub, x.sub(y).toFloatArray());
      close(mul, x.mul(y).toFloatArray());
      close(div, x.div(y).toFloatArray());
      assertArrayEquals(a, x.toFloatArray(), "operands are unchanged");
      assertArrayEquals(b, y.toFloatArray(), "operands are unchanged");
    }
  }

  @Test
  void scalarOperations() {
    try (TensorScope s = t().openScope()) {
      float[] a = values(SHAPE.size(), 4);
      Tensor x = t().fromArray(a, SHAPE);
      float[] add = new float[a.length], mul = new float[a.length], sub = new float[a.length], div = new float[a.length];
      for (int i = 0; i < a.length; i++) {
        add[i] = a[i] + 0.25f;
        mul[i] = a[i] * -1.5f;
        sub[i] = a[i] - 2f;
        div[i] = a[i] / 4f;
      }
      close(add, x.add(0.25).toFloatArray());
      close(mul, x.mul(-1.5).toFloatArray());
      close(sub, x.sub(2.0).toFloatArray());
      close(div, x.div(4.0).toFloatArray());
    }
  }

  /**
   * NaN and infinite scalars give what float arithmetic gives: a library that swaps a NaN operand for a small
   * number (ND4J's scalar operations do) would turn a sampler's NaN into plausible images.
   */
  @Test
  void scalarOperationsPropagateNaNAndInfinities() {
    try (TensorScope s = t().openScope()) {
      float[] a = values(SHAPE.size(), 7);
      a[0] = 0f;
      Tensor x = t().fromArray(a, SHAPE);
      float[] nan = new float[a.length];
      java.util.Arrays.fill(nan, Float.NaN);
      assertArrayEquals(nan, x.add(Double.NaN).toFloatArray(), "x + NaN");
      assertArrayEquals(nan, x.mul(Double.NaN).toFloatArray(), "x * NaN");
      assertArrayEquals(nan, x.sub(Double.NaN).toFloatArray(), "x - NaN");
      assertArrayEquals(nan, x.div(Double.NaN).toFloatArray(), "x / NaN");
      float[] timesInf = new float[a.length];
      float[] plusMinusInf = new float[a.length];
      for (int i = 0; i < a.length; i++) {
        timesInf[i] = a[i] * Float.POSITIVE_INFINITY; // NaN for the 0
        plusMinusInf[i] = a[i] + Float.NEGATIVE_INFINITY;
      }
      assertArrayEquals(timesInf, x.mul(Double.POSITIVE_INFINITY).toFloatArray(), "x * inf");
      assertArrayEquals(plusMinusInf, x.add(Double.NEGATIVE_INFINITY).toFloatArray(), "x + -inf");
    }
  }

  @Test
  void perSampleAndFusedOperations() {
    try (TensorScope s = t().openScope()) {
      float[] a = values(SHAPE.size(), 5);
      float[] b = values(SHAPE.size(), 6);
      Tensor x = t().fromArray(a, SHAPE);
      Tensor y = t().fromArray(b, SHAPE);
      double[] sa = {0.5, -2.0, 3.25};
      double[] sb = {1.5, 0.0, -0.75};
      int k = SHAPE.itemSize();
      float[] scaled = new float[a.length], comb = new float[a.length], combPer = new float[a.length];
      for (int n = 0; n < 3; n++) {
        for (int j = n * k; j < (n + 1) * k; j++) {
          scaled[j] = a[j] * (float) sa[n];
          comb[j] = 0.3f * a[j] + -1.7f * b[j];
          combPer[j] = (float) sa[n] * a[j] + (float) sb[n] * b[j];
        }
      }
      close(scaled, x.mulPerSample(sa).toFloatArray());
      close(scaled, x.mulPerSample(new float[] {0.5f, -2.0f, 3.25f}).toFloatArray());
      close(comb, x.combine(0.3, y, -1.7).toFloatArray());
      close(combPer, x.combinePerSample(sa, y, sb).toFloatArray());
      assertThrows(IllegalArgumentException.class, () -> x.mulPerSample(new double[] {1, 2}));
      assertThrows(IllegalArgumentException.class, () -> x.combinePerSample(new double[2], y, new double[2]));
    }
  }

  /**
   * The three-operand combination against float32 arithmetic. Tolerance: it rounds up to four times (three
   * products, two sums, or fewer with fused multiply-adds), each within half an ulp of a partial sum bounded
   * by {@code |a x| + |b y| + |c z|}, so the results differ by at most ~2.5e-7 of that sum.
   */
  @Test
  void threeOperandCombination() {
    try (TensorScope s = t().openScope()) {
      float[] a = values(SHAPE.size(), 9);
      float[] b = values(SHAPE.size(), 10);
      float[] c = values(SHAPE.size(), 11);
      Tensor x = t().fromArray(a, SHAPE);
      Tensor y = t().fromArray(b, SHAPE);
      Tensor z = t().fromArray(c, SHAPE);
      for (double[] f : new double[][] {{0.3, -1.7, 0.6}, {1.0, 0.25, -3.0}, {-2.5, 1.0, 0.0}}) {
        float[] got = x.combine(f[0], y, f[1], z, f[2]).toFloatArray();
        for (int i = 0; i < a.length; i++) {
          float pa = (float) f[0] * a[i];
          float pb = (float) f[1] * b[i];
          float pc = (float) f[2] * c[i];
          float want = (pa + pb) + pc;
          double tol = 3e-7 * (Math.abs(pa) + Math.abs(pb) + Math.abs(pc)) + 1e-12;
          assertEquals(want, got[i], tol, "element " + i + " of " + java.util.Arrays.toString(f));
        }
      }
      assertArrayEquals(a, x.toFloatArray(), "operands are unchanged");
      assertArrayEquals(b, y.toFloatArray(), "operands are unchanged");
      assertArrayEquals(c, z.toFloatArray(), "operands are unchanged");
      Tensor other = t().zeros(Shape.of(3, 8));
      assertThrows(IllegalArgumentException.class, () -> x.combine(1, y, 1, other, 1));
      assertThrows(IllegalArgumentException.class, () -> x.combine(1, other, 1, z, 1));
    }
  }

  @Test
  void sqrtClampSumMean() {
    try (TensorScope s = t().openScope()) {
      float[] a = positive(SHAPE.size(), 7);
      float[] b = values(SHAPE.size(), 8);
      Tensor x = t().fromArray(a, SHAPE);
      Tensor y = t().fromArray(b, SHAPE);
      float[] sq = new float[a.length], cl = new float[a.length];
      double sum = 0;
      for (int i = 0; i < a.length; i++) {
        sq[i] = (float) Math.sqrt(a[i]);
        cl[i] = Math.min(Math.max(b[i], -0.5f), 0.75f);
        sum += b[i];
      }
      close(sq, x.sqrt().toFloatArray());
      close(cl, y.clamp(-0.5, 0.75).toFloatArray());
      // bounds that are no interval are refused alike (libtorch made every value NaN for a NaN bound)
      assertEquals("clamp: needs min <= max, got min 1.0 and max -1.0",
          assertThrows(IllegalArgumentException.class, () -> y.clamp(1, -1)).getMessage());
      assertThrows(IllegalArgumentException.class, () -> y.clamp(Double.NaN, 1));
      assertThrows(IllegalArgumentException.class, () -> y.clamp(-1, Double.NaN));
      assertEquals(sum, y.sum(), 1e-5);
      assertEquals(sum / b.length, y.mean(), 1e-6);
    }
  }

  @Test
  void sumOfManyValuesIsAccurate() {
    try (TensorScope s = t().openScope()) {
      int n = 1 << 20;
      float[] ones = new float[n];
      java.util.Arrays.fill(ones, 0.1f);
      double expected = n * (double) 0.1f;
      // a naive float accumulator drifts by ~1e-2 relative here; pairwise or double sums stay within 1e-5
      assertEquals(expected, t().fromArray(ones, Shape.of(n)).sum(), expected * 1e-5);
    }
  }

  @Test
  void shapeMismatchIsRejected() {
    try (TensorScope s = t().openScope()) {
      Tensor x = t().zeros(SHAPE);
      Tensor y = t().zeros(Shape.of(3, 8));
      String expected = "operand has shape " + y.shape() + ", expected " + SHAPE;
      assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> x.add(y)).getMessage());
      assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> x.combine(1, y, 1)).getMessage());
      assertThrows(IllegalArgumentException.class, () -> x.reshape(Shape.of(5, 5)));
      // smaller shapes too: a check of "fits" rather than "same size" would drop the tail
      assertThrows(IllegalArgumentException.class, () -> x.reshape(Shape.of(23)));
      assertThrows(IllegalArgumentException.class, () -> x.reshape(Shape.of(2, 2, 2, 2)));
    }
  }

  /**
   * Every binary operation checks its operand's shape, not only its size: {@code [3, 8]} has as many elements as
   * {@code [3, 2, 2, 2]} (a size check passes it), and {@code [1, 2, 2, 2]} broadcasts against it (a library's
   * broadcasting passes it), in either direction.
   */
  @Test
  void everyBinaryOperationRejectsAnotherShape() {
    try (TensorScope s = t().openScope()) {
      Tensor x = t().zeros(SHAPE);
      for (Shape wrong : List.of(Shape.of(3, 8), Shape.of(1, 2, 2, 2), Shape.of(3, 2, 2, 1))) {
        Tensor y = t().zeros(wrong);
        String expected = "operand has shape " + wrong + ", expected " + SHAPE;
        List<Executable> ops = List.of(() -> x.add(y), () -> x.sub(y), () -> x.mul(y), () -> x.div(y),
            () -> x.combine(1, y, 1), () -> x.combine(1, y, 1, x, 1), () -> x.combine(1, x, 1, y, 1),
            () -> x.combinePerSample(new double[3], y, new double[3]));
        for (int i = 0; i < ops.size(); i++) {
          assertEquals(expected, assertThrows(IllegalArgumentException.class, ops.get(i), "operation " + i + " with "
              + wrong).getMessage(), "operation " + i);
        }
        Tensor small = t().zeros(Shape.of(1, 2, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> small.add(x), "a [1, ...] tensor plus a batch of 3");
        assertThrows(IllegalArgumentException.class, () -> small.mul(x), "a [1, ...] tensor times a batch of 3");
      }
    }
  }

  /** Each factor array of the per-item forms is checked on its own: one of the right length does not vouch for both. */
  @Test
  void perItemFactorsOfAnotherLengthAreRejected() {
    try (TensorScope s = t().openScope()) {
      Tensor x = t().zeros(SHAPE);
      Tensor y = t().zeros(SHAPE);
      assertThrows(IllegalArgumentException.class, () -> x.combinePerSample(new double[3], y, new double[4]));
      assertThrows(IllegalArgumentException.class, () -> x.combinePerSample(new double[3], y, new double[2]));
      assertThrows(IllegalArgumentException.class, () -> x.combinePerSample(new double[4], y, new double[3]));
      assertThrows(IllegalArgumentException.class, () -> x.mulPerSample(new double[4]));
      assertThrows(IllegalArgumentException.class, () -> x.mulPerSample(new float[2]));
    }
  }

  /**
   * A released tensor is refused as an operand too, not only as the receiver: a backend that recycles memory would
   * otherwise read whatever tensor now lives there.
   */
  @Test
  void aReleasedOperandIsRefused() {
    try (TensorScope s = t().openScope()) {
      Tensor x = t().fromArray(values(SHAPE.size(), 12), SHAPE);
      Tensor gone = t().fromArray(values(SHAPE.size(), 13), SHAPE);
      gone.close();
      t().zeros(SHAPE); // may reuse the released memory
      for (Executable e : List.<Executable>of(() -> x.add(gone), () -> x.sub(gone), () -> x.mul(gone),
          () -> x.div(gone), () -> x.combine(1, gone, 1), () -> x.combine(1, x, 1, gone, 1),
          () -> x.combine(1, gone, 1, x, 1), () -> x.combinePerSample(new double[3], gone, new double[3]))) {
        assertThrows(IllegalStateException.class, e);
      }
    }
  }

  /** An operand of another backend (another instance of the same kind too) is refused, as {@link Tensor} says. */
  @Test
  void anOperandOfAnotherBackendIsRefused() {
    Backend other = createBackend();
    try (TensorScope s = t().openScope()) {
      Tensor x = t().zeros(SHAPE);
      Tensor foreign = other.tensors().zeros(SHAPE);
      for (Executable e : List.<Executable>of(() -> x.add(foreign), () -> x.mul(foreign), () -> x.combine(1, foreign, 1),
          () -> x.combine(1, x, 1, foreign, 1), () -> x.combinePerSample(new double[3], foreign, new double[3]))) {
        assertThrows(IllegalArgumentException.class, e);
      }
    } finally {
      other.close();
    }
  }

  /** The square root of a negative element is NaN, as {@link Tensor#sqrt()} says (not the root of its magnitude). */
  @Test
  void sqrtOfANegativeIsNaN() {
    try (TensorScope s = t().openScope()) {
      float[] r = t().fromArray(new float[] {-4f, -0f, 0f, 4f}, Shape.of(1, 4)).sqrt().toFloatArray();
      assertTrue(Float.isNaN(r[0]), "sqrt(-4) is NaN, got " + r[0]);
      assertEquals(0f, r[1], 0f);
      assertEquals(0f, r[2], 0f);
      assertEquals(2f, r[3], 0f);
    }
  }

  /** {@link Tensor#toFloatArray()} copies: writing into the array it gave changes neither the tensor nor the next copy. */
  @Test
  void toFloatArrayIsACopy() {
    try (TensorScope s = t().openScope()) {
      float[] a = values(SHAPE.size(), 14);
      Tensor x = t().fromArray(a, SHAPE);
      float[] first = x.toFloatArray();
      java.util.Arrays.fill(first, 7f);
      assertArrayEquals(a, x.toFloatArray(), "the tensor after its copy was written");
      assertArrayEquals(a, x.add(0.0).toFloatArray(), "an operation on the tensor after its copy was written");
    }
  }

  @Test
  void reshapeKeepsRowMajorOrder() {
    try (TensorScope s = t().openScope()) {
      float[] a = values(SHAPE.size(), 9);
      Tensor x = t().fromArray(a, SHAPE).reshape(Shape.of(3, 8));
      assertEquals(Shape.of(3, 8), x.shape());
      assertArrayEquals(a, x.toFloatArray());
    }
  }

  @Test
  void normalIsThePortableNoisePerItem() {
    try (TensorScope s = t().openScope()) {
      Noise noise = Noise.seeded(123);
      float[] expected = new float[SHAPE.size()];
      noise.fillPerItem(expected, SHAPE.batch(), SHAPE.itemSize(), 0);
      assertArrayEquals(expected, t().normal(SHAPE, noise).toFloatArray(), "bit-identical noise");
    }
  }

  @Test
  void closingAScopeReleasesItsTensorsButNotKeptOnes() {
    Tensor inner;
    Tensor kept;
    try (TensorScope outer = t().openScope()) {
      try (TensorScope s = t().openScope()) {
        inner = t().zeros(SHAPE);
        kept = s.keep(inner.add(1.0));
      }
      assertThrows(IllegalStateException.class, inner::toFloatArray, "released with its scope");
      assertEquals(SHAPE.size(), kept.sum(), 0.0, "kept tensor survives its scope");
    }
    assertThrows(IllegalStateException.class, kept::toFloatArray, "released with the enclosing scope");
  }

  @Test
  void explicitCloseIsIdempotent() {
    try (TensorScope s = t().openScope()) {
      Tensor x = t().zeros(SHAPE);
      x.close();
      x.close();
      assertThrows(IllegalStateException.class, x::toFloatArray);
    }
  }

  @Test
  void keepOfATensorFromAnEnclosingScopeLeavesIt() {
    try (TensorScope outer = t().openScope()) {
      Tensor x = t().zeros(SHAPE);
      try (TensorScope s = t().openScope()) {
        s.keep(x);
      }
      assertEquals(0.0, x.sum(), 0.0, "still owned by the enclosing scope");
    }
  }

  @Test
  void scopesMustCloseInnermostFirst() {
    TensorScope outer = t().openScope();
    TensorScope inner = t().openScope();
    assertThrows(IllegalStateException.class, outer::close);
    inner.close();
    outer.close();
  }

  /** {@link TensorScope#keep} on a closed scope is refused, as its Javadoc says, rather than moving the tensor. */
  @Test
  void keepOnAClosedScopeIsRefused() {
    try (TensorScope outer = t().openScope()) {
      Tensor x = t().zeros(SHAPE);
      TensorScope inner = t().openScope();
      inner.close();
      assertThrows(IllegalStateException.class, () -> inner.keep(x));
      assertEquals(0.0, x.sum(), 0.0, "the tensor stays with its scope");
    }
  }

  /**
   * A scope is closed on the thread that opened it: another thread's close is refused and leaves it open, its tensors
   * alive, so that the opening thread still closes it.
   */
  @Test
  void aScopeClosedOnAnotherThreadIsRefused() throws Exception {
    TensorScope s = t().openScope();
    try {
      Tensor x = t().zeros(SHAPE);
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<?> closing = pool.submit(s::close);
        java.util.concurrent.ExecutionException e =
            assertThrows(java.util.concurrent.ExecutionException.class, closing::get);
        assertTrue(e.getCause() instanceof IllegalStateException, "refused with " + e.getCause());
      } finally {
        pool.shutdownNow();
      }
      assertEquals(0.0, x.sum(), 0.0, "the scope is still open");
    } finally {
      s.close();
    }
  }

  @Test
  void scopesAreThreadConfined() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Double>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        final int n = i;
        results.add(
            pool.submit(
                () -> {
                  try (TensorScope s = t().openScope()) {
                    Tensor x = t().fromArray(values(SHAPE.size(), n), SHAPE);
                    double total = 0;
                    for (int r = 0; r < 50; r++) {
                      try (TensorScope step = t().openScope()) {
                        total += x.combine(1.0, x, 1.0).sum();
                      }
                    }
                    return total;
                  }
                }));
      }
      for (int i = 0; i < 8; i++) {
        double one = 0;
        for (float v : values(SHAPE.size(), i)) {
          one += 2.0 * v;
        }
        assertEquals(50 * one, results.get(i).get(), 1e-3);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
