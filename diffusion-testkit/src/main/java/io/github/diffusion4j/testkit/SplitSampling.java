package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.sampling.DdimSampler;
import io.github.diffusion4j.sampling.DdpmSampler;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The backends' checks of sampling at {@code threads: 2}, where the sampling loop splits a batch of several
 * images into two slices walked on two threads: the samples of a model equal one thread's up to rounding.
 *
 * <p>Why not the same bits: an image's noise does not depend on the batch, but its model output may in the last
 * bits (OpenBLAS and libtorch round a product of few rows differently from one of more; a convolution may take
 * its images in chunks sized by the batch). Each step's output then differs by ~1e-6 of its size, which DDIM's
 * first step at {@code t = 999} scales by {@code 1 / sqrt(alpha_bar) ~ 150} into {@code x_0}: the samples are
 * held to 1e-3 of their largest magnitude.
 */
public final class SplitSampling {
  /** The tolerance, relative to the samples' largest magnitude. */
  public static final double TOLERANCE = 1e-3;

  private SplitSampling() {}

  /**
   * DDPM samples of {@code count} images in {@code steps} steps and DDIM's in a fifth as many, from
   * {@code spec}'s model trained two Adam steps first (so that the layers initialised to zero, a residual
   * block's last convolution, count).
   *
   * @param backend the backend
   * @param spec the architecture
   * @param count images
   * @param steps DDPM's steps, a multiple of 5
   * @return {@code "ddpm"} and {@code "ddim"} to the samples
   */
  public static Map<String, float[]> samples(Backend backend, ModelSpec spec, int count, int steps) {
    Map<String, float[]> out = new LinkedHashMap<>();
    int n = spec.numTrainTimesteps();
    Shape shape = Shape.batchOf(4, spec.imageShape());
    int[] ts = {11 % n, 408 % n, 805 % n, 202 % n};
    TensorFactory f = backend.tensors();
    try (TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 7);
        TensorScope scope = f.openScope()) {
      Tensor x = f.fromArray(Noise.seeded(1).normals(shape.size()), shape);
      Tensor y = f.fromArray(Noise.seeded(2).normals(shape.size()), shape);
      m.step(x, ts, y);
      m.step(x, ts, y);
      Schedule schedule = Schedule.of(ScheduleSpec.linear(n));
      SamplingRequest request = SamplingRequest.of(count, spec.imageShape(), 5, Timesteps.trailing(n, steps));
      out.put("ddpm", new DdpmSampler(schedule, PredictionType.EPSILON, VarianceType.FIXED_LARGE,
          SampleClipping.NONE, f).sample(m, f, request).toFloatArray());
      out.put("ddim", new DdimSampler(schedule, PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, f)
          .sample(m, f, request.withPlan(Timesteps.trailing(n, steps / 5))).toFloatArray());
    }
    return out;
  }

  /**
   * Asserts that two runs' samples agree within {@link #TOLERANCE} of the first's largest magnitude, which must
   * be more than 0.1 (so that the comparison compares something).
   *
   * @param what names the case in a failure
   * @param expected one thread's samples
   * @param actual two threads'
   */
  public static void assertEqualUpToRounding(String what, Map<String, float[]> expected, Map<String, float[]> actual) {
    assertEquals(expected.keySet(), actual.keySet());
    for (String k : expected.keySet()) {
      float[] a = expected.get(k);
      float[] c = actual.get(k);
      assertEquals(a.length, c.length, what + ", " + k);
      double largest = 0;
      for (float v : a) {
        largest = Math.max(largest, Math.abs(v));
      }
      double diff = Batches.maxAbsDiff(a, c);
      assertTrue(largest > 0.1, what + ", " + k + ": samples of size " + largest);
      assertTrue(diff <= TOLERANCE * largest, what + ", " + k + ": max |two threads - one| = " + diff + " of " + largest);
    }
  }
}
