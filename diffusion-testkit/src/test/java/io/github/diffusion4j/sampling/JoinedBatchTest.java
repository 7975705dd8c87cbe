package io.github.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.ReferenceBackend;
import org.junit.jupiter.api.Test;

/**
 * The joined batch a listener sees when the loop walks slices: three slices of unequal sizes (the two-thread tests
 * of {@link SamplingLoop} join two), its values the slices' one after another, and each operation the same as on
 * the joined values, checked against the operation written out on the heap. The values are exact in float32 (small
 * multiples of 1/4), so every comparison is exact except {@code sqrt}, which is within one rounding (1e-6 of values
 * below 2).
 */
class JoinedBatchTest {
  private final ReferenceBackend ref = new ReferenceBackend();
  private static final Shape IMAGE = Shape.of(1, 1, 2);

  /** Sample {@code i}'s two values: {@code i + 0.25} and {@code i + 0.5}, so an offset off by one shows. */
  private static float[] values(int first, int count) {
    float[] v = new float[2 * count];
    for (int i = 0; i < count; i++) {
      v[2 * i] = first + i + 0.25f;
      v[2 * i + 1] = first + i + 0.5f;
    }
    return v;
  }

  private Tensor joined() {
    return JoinedBatch.of(ref, ref.fromArray(values(0, 1), Shape.batchOf(1, IMAGE)),
        ref.fromArray(values(1, 2), Shape.batchOf(2, IMAGE)), ref.fromArray(values(3, 1), Shape.batchOf(1, IMAGE)));
  }

  @Test
  void theSlicesAreJoinedInOrderAndEveryOperationComputesOnTheJoinedValues() {
    float[] all = values(0, 4);
    float[] other = new float[all.length];
    for (int i = 0; i < other.length; i++) {
      other[i] = 0.25f * (i + 1);
    }
    try (TensorScope s = ref.openScope()) {
      Tensor j = joined();
      assertEquals(Shape.batchOf(4, IMAGE), j.shape());
      assertArrayEquals(all, j.toFloatArray());
      Tensor o = ref.fromArray(other, j.shape());
      float[] add = new float[all.length];
      float[] sub = new float[all.length];
      float[] mul = new float[all.length];
      float[] div = new float[all.length];
      float[] twice = new float[all.length];
      float[] plusHalf = new float[all.length];
      float[] perSample = new float[all.length];
      float[] sqrt = new float[all.length];
      float[] clamped = new float[all.length];
      double[] scale = {1, -2, 0.5, 4};
      double sum = 0;
      for (int i = 0; i < all.length; i++) {
        add[i] = all[i] + other[i];
        sub[i] = all[i] - other[i];
        mul[i] = all[i] * other[i];
        div[i] = all[i] / other[i];
        twice[i] = all[i] + all[i];
        plusHalf[i] = all[i] + 0.5f;
        perSample[i] = (float) (all[i] * scale[i / 2]);
        sqrt[i] = (float) Math.sqrt(all[i]);
        clamped[i] = Math.min(Math.max(all[i], 0.5f), 2.25f);
        sum += all[i];
      }
      assertArrayEquals(add, j.add(o).toFloatArray(), "add");
      assertArrayEquals(sub, j.sub(o).toFloatArray(), "sub");
      assertArrayEquals(mul, j.mul(o).toFloatArray(), "mul");
      assertArrayEquals(div, j.div(o).toFloatArray(), "div");
      assertArrayEquals(twice, j.add(joined()).toFloatArray(), "add of another joined batch");
      assertArrayEquals(new float[all.length], j.sub(joined()).toFloatArray(), "sub of another joined batch");
      assertArrayEquals(plusHalf, j.add(0.5).toFloatArray(), "add a scalar");
      assertArrayEquals(twice, j.mul(2.0).toFloatArray(), "mul by a scalar");
      assertArrayEquals(perSample, j.mulPerSample(scale).toFloatArray(), "mulPerSample");
      assertArrayEquals(sqrt, j.sqrt().toFloatArray(), 1e-6f, "sqrt");
      assertArrayEquals(clamped, j.clamp(0.5, 2.25).toFloatArray(), "clamp");
      assertEquals(sum, j.sum(), "sum");
      Tensor flat = j.reshape(Shape.of(2, 4));
      assertEquals(Shape.of(2, 4), flat.shape());
      assertArrayEquals(all, flat.toFloatArray(), "reshape");
      j.close();
      assertArrayEquals(all, j.toFloatArray(), "the slices outlive the joined copy");
    }
  }

  @Test
  void aMissingSliceJoinsToNull() {
    try (TensorScope s = ref.openScope()) {
      assertNull(JoinedBatch.of(ref, ref.fromArray(values(0, 1), Shape.batchOf(1, IMAGE)), null));
    }
  }
}
