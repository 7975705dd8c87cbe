package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.BackendFixture;
import io.github.diffusion4j.testkit.ReferenceBackend;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.profiler.ProfilerConfig;

/**
 * The nd4j tensors against the reference backend. Every operation is float32 arithmetic in the same
 * order as the reference's (single IEEE operations per element, sums in double in index order), so the
 * results must be bit-identical: any difference is a bug, not rounding.
 */
class Nd4jTensorTest extends BackendFixture {
  private static final Shape SHAPE = Shape.of(4, 3, 5, 5);
  private TensorFactory nd;
  private static final ReferenceBackend REF = new ReferenceBackend();

  @Override
  protected Backend createBackend() {
    return Nd4jTests.createBackend();
  }

  @BeforeEach
  void factory() {
    nd = backend.tensors();
  }

  private static float[] data(long seed) {
    return Noise.seeded(seed).normals(SHAPE.size());
  }

  private static float[] positive(long seed) {
    float[] d = data(seed);
    for (int i = 0; i < d.length; i++) {
      d[i] = Math.abs(d[i]) + 0.25f;
    }
    return d;
  }

  private void sameUnary(Function<Tensor, Tensor> op, float[] x) {
    Tensor r = op.apply(REF.fromArray(x, SHAPE));
    Tensor n = op.apply(nd.fromArray(x, SHAPE));
    assertEquals(r.shape(), n.shape());
    assertArrayEquals(r.toFloatArray(), n.toFloatArray());
  }

  private void sameBinary(BiFunction<Tensor, Tensor, Tensor> op, float[] x, float[] y) {
    Tensor r = op.apply(REF.fromArray(x, SHAPE), REF.fromArray(y, SHAPE));
    Tensor n = op.apply(nd.fromArray(x, SHAPE), nd.fromArray(y, SHAPE));
    assertEquals(r.shape(), n.shape());
    assertArrayEquals(r.toFloatArray(), n.toFloatArray());
  }

  @Test
  void elementwiseOperationsMatchTheReferenceExactly() {
    float[] x = data(1);
    float[] y = data(2);
    float[] p = positive(3);
    try (TensorScope s = nd.openScope(); TensorScope r = REF.openScope()) {
      sameBinary(Tensor::add, x, y);
      sameBinary(Tensor::sub, x, y);
      sameBinary(Tensor::mul, x, y);
      sameBinary(Tensor::div, x, p);
      sameUnary(t -> t.add(0.3), x);
      sameUnary(t -> t.sub(1.7), x);
      sameUnary(t -> t.mul(-2.5), x);
      sameUnary(t -> t.div(3.0), x);
      sameUnary(Tensor::sqrt, p);
      sameUnary(t -> t.clamp(-0.5, 0.75), x);
      double[] scale = {0.5, -1.25, 2.0, 1e-3};
      double[] other = {1.5, 0.25, -3.0, 7.0};
      sameUnary(t -> t.mulPerSample(scale), x);
      sameUnary(t -> t.mulPerSample(new float[] {0.5f, -1.25f, 2f, 1e-3f}), x);
      sameBinary((a, b) -> a.combine(0.9, b, -0.436), x, y);
      sameBinary((a, b) -> a.combinePerSample(scale, b, other), x, y);
      sameUnary(t -> t.reshape(Shape.of(4, 75)), x);
      assertEquals(REF.fromArray(x, SHAPE).sum(), nd.fromArray(x, SHAPE).sum(), 0.0);
      assertEquals(REF.fromArray(x, SHAPE).mean(), nd.fromArray(x, SHAPE).mean(), 0.0);
    }
  }

  @Test
  void fusedOperationsMatchTheReferenceAcrossChunkAndItemBoundaries() {
    // 131 items of 231 elements: 30,261 elements, so the kernels' 4,096-element chunks end inside items
    Shape large = Shape.of(131, 3, 7, 11);
    float[] x = Noise.seeded(21).normals(large.size());
    float[] y = Noise.seeded(22).normals(large.size());
    double[] a = new double[131];
    double[] b = new double[131];
    for (int i = 0; i < a.length; i++) {
      a[i] = 0.5 + i * 0.01;
      b[i] = -1.0 + i * 0.003;
    }
    try (TensorScope s = nd.openScope(); TensorScope r = REF.openScope()) {
      Tensor rx = REF.fromArray(x, large);
      Tensor ry = REF.fromArray(y, large);
      Tensor nx = nd.fromArray(x, large);
      Tensor ny = nd.fromArray(y, large);
      assertArrayEquals(rx.combine(0.7, ry, -0.2).toFloatArray(), nx.combine(0.7, ny, -0.2).toFloatArray());
      assertArrayEquals(rx.combinePerSample(a, ry, b).toFloatArray(), nx.combinePerSample(a, ny, b).toFloatArray());
      assertArrayEquals(rx.mulPerSample(a).toFloatArray(), nx.mulPerSample(a).toFloatArray());
      assertArrayEquals(rx.clamp(-0.3, 0.4).toFloatArray(), nx.clamp(-0.3, 0.4).toFloatArray());
      assertEquals(rx.sum(), nx.sum(), 0.0);
    }
  }

  @Test
  void sqrtOfANegativeValueIsNaNAndClampKeepsNaN() {
    float[] v = {4f, -1f, Float.NaN, 0f};
    Tensor t = nd.fromArray(v, Shape.of(4));
    float[] s = t.sqrt().toFloatArray();
    assertEquals(2f, s[0]);
    assertTrue(Float.isNaN(s[1]));
    assertTrue(Float.isNaN(t.clamp(-1, 1).toFloatArray()[2]));
    t.close();
  }

  @Test
  void factoryMakesZerosCopiesAndPortableNoise() {
    assertArrayEquals(new float[SHAPE.size()], nd.zeros(SHAPE).toFloatArray());
    float[] x = data(4);
    Tensor t = nd.fromArray(x, SHAPE);
    x[0] = 99f; // fromArray copies
    assertEquals(data(4)[0], t.toFloatArray()[0]);
    Noise noise = Noise.seeded(9);
    assertArrayEquals(REF.normal(SHAPE, noise).toFloatArray(), nd.normal(SHAPE, noise).toFloatArray());
    assertThrows(IllegalArgumentException.class, () -> nd.fromArray(new float[3], SHAPE));
  }

  /**
   * The results of add, sub, mul, div, the scalar add and mul, and sqrt take their arrays from the released
   * ones, as every other operation's do: they were ND4J's own new arrays, so each loop step released more
   * arrays than it took, and the backend's pool of released arrays grew by them (a U-Net's per-epoch
   * evaluation loss, one difference and one square per batch, raised a training run's resident size by 64 MB,
   * the pool's bound, over its first thousands of steps).
   */
  @Test
  void elementwiseResultsReuseReleasedArraysSoTheKeptOnesStopGrowing() {
    Nd4jBackend b = (Nd4jBackend) backend;
    long[] kept = new long[6];
    for (int round = 0; round < kept.length; round++) {
      try (TensorScope s = nd.openScope()) {
        Tensor x = nd.fromArray(data(11), SHAPE);
        Tensor y = nd.fromArray(positive(12), SHAPE);
        x.add(y).sub(y).mul(y).div(y).add(1.5).mul(0.5).sqrt().sum();
      }
      kept[round] = b.recycledFloats();
    }
    assertTrue(kept[1] > 0, "released arrays are kept");
    assertEquals(kept[1], kept[kept.length - 1], "floats kept for reuse after each round: "
        + java.util.Arrays.toString(kept));
  }

  @Test
  void operandsAreLeftUnchanged() {
    float[] x = data(5);
    float[] y = data(6);
    Tensor a = nd.fromArray(x, SHAPE);
    Tensor b = nd.fromArray(y, SHAPE);
    a.add(b);
    a.combine(2, b, 3);
    a.combinePerSample(new double[] {1, 2, 3, 4}, b, new double[] {4, 3, 2, 1});
    a.mul(5);
    a.sqrt();
    a.reshape(Shape.of(300)).close();
    assertArrayEquals(x, a.toFloatArray());
    assertArrayEquals(y, b.toFloatArray());
  }

  @Test
  void badOperandsAreRejectedWithAMessage() {
    Tensor a = nd.fromArray(data(7), SHAPE);
    Tensor small = nd.zeros(Shape.of(2, 3, 5, 5));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(small));
    assertTrue(e.getMessage().contains("operand has shape [2, 3, 5, 5], expected"), e.getMessage());
    Tensor foreign = REF.fromArray(data(7), SHAPE);
    e = assertThrows(IllegalArgumentException.class, () -> a.combine(1, foreign, 1));
    assertTrue(e.getMessage().contains("not a tensor of this nd4j backend"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> a.mulPerSample(new double[3]));
    assertThrows(IllegalArgumentException.class, () -> a.combinePerSample(new double[4], a, new double[5]));
    assertThrows(IllegalArgumentException.class, () -> a.reshape(Shape.of(7)));
    assertThrows(IllegalArgumentException.class, () -> a.clamp(1, -1));
  }

  @Test
  void aReleasedTensorRefusesEveryOperation() {
    Tensor a = nd.fromArray(data(8), SHAPE);
    Tensor b = nd.fromArray(data(9), SHAPE);
    a.close();
    a.close(); // idempotent
    assertThrows(IllegalStateException.class, a::toFloatArray);
    assertThrows(IllegalStateException.class, a::sum);
    assertThrows(IllegalStateException.class, () -> a.add(b));
    assertThrows(IllegalStateException.class, () -> b.add(a));
    assertThrows(IllegalStateException.class, () -> a.combine(1, b, 1));
    assertThrows(IllegalStateException.class, () -> b.combine(1, a, 1));
    assertThrows(IllegalStateException.class, () -> a.mul(2));
    assertThrows(IllegalStateException.class, () -> a.reshape(Shape.of(300)));
    assertEquals(SHAPE, a.shape());
  }

  @Test
  void scopesReleaseWhatTheyOwnAndKeepMovesOut() {
    Nd4jBackend b = (Nd4jBackend) backend;
    int before = b.scopes().rootLiveCount();
    Tensor kept;
    Tensor inner;
    Tensor outer;
    try (TensorScope s1 = nd.openScope()) {
      outer = nd.fromArray(data(10), SHAPE);
      try (TensorScope s2 = nd.openScope()) {
        inner = outer.mul(2);
        kept = s2.keep(outer.add(outer));
      }
      assertTrue(((Nd4jTensor) inner).isReleased());
      assertFalse(((Nd4jTensor) kept).isReleased());
      assertSame(kept, s1.keep(kept));
    }
    assertTrue(((Nd4jTensor) outer).isReleased());
    assertFalse(((Nd4jTensor) kept).isReleased());
    assertEquals(before + 1, b.scopes().rootLiveCount());
    kept.close();
    assertEquals(before, b.scopes().rootLiveCount());
  }

  /** An array that a closed backend's tensor cannot take is freed, not leaked, and the tensor is refused. */
  @Test
  void anArrayForAClosedBackendIsFreed() {
    Nd4jBackend other = (Nd4jBackend) Nd4jTests.createBackend();
    INDArray a = Nd4jBackend.allocate(SHAPE.size());
    other.close();
    IllegalStateException refused =
        assertThrows(IllegalStateException.class, () -> Nd4jTensor.owning(other, SHAPE, a));
    assertEquals("the nd4j backend is closed", refused.getMessage());
    assertTrue(a.wasClosed(), "the array was freed");
  }

  /**
   * The elementwise operations run in this backend's own loops, not as ND4J ops, whose native threads follow a
   * process-wide count that a confinement cannot narrow: with ND4J's check for NaN and infinite outputs on, which
   * fails every ND4J op that makes one, each still gives its IEEE result.
   */
  @Test
  void elementwiseOperationsAreNotNd4jOps() {
    Nd4j.getExecutioner().setProfilingConfig(ProfilerConfig.builder().checkForNAN(true).checkForINF(true).build());
    try (TensorScope s = nd.openScope()) {
      Tensor x = nd.fromArray(new float[] {-1f, 0f, 1f, Float.NaN}, Shape.of(4));
      Tensor y = nd.fromArray(new float[] {0f, 0f, Float.POSITIVE_INFINITY, 1f}, Shape.of(4));
      for (Tensor r : List.of(x.add(y), x.sub(y), x.mul(y), x.div(y), x.sqrt(), x.add(1.0), x.mul(2.0))) {
        assertTrue(Float.isNaN(r.toFloatArray()[3]) || Float.isNaN(r.toFloatArray()[0]), r.toString());
      }
      assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, Float.NaN, 0f, Float.NaN}, x.div(y).toFloatArray());
    } finally {
      Nd4j.getExecutioner().setProfilingConfig(ProfilerConfig.builder().build()); // the default: no checks
    }
  }
}
