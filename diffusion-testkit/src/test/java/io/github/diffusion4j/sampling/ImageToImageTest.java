package io.github.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.random.NoiseVersion;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.GaussianOracle;
import io.github.diffusion4j.testkit.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** Image-to-image sampling (SDEdit): the positions walked, the noised start, and where DDIM takes it. */
class ImageToImageTest {
  private final ReferenceBackend ref = new ReferenceBackend();
  private final Schedule schedule = Schedule.of(ScheduleSpec.linear(1000));

  /**
   * diffusers' {@code get_timesteps}: {@code init_timestep = min(int(n * strength), n)}, the last that many positions.
   * The rows are Python's {@code int(n * strength)} in double arithmetic, its edges included (100 x 0.29 is
   * 28.999999999999996, so 28 positions; 10 x 0.7 is 7.000000000000001, so 7).
   */
  @Test
  void aStrengthWalksTheLastFloorOfStepsTimesStrengthPositions() {
    Timesteps plan50 = Timesteps.trailing(1000, 50);
    int[][] rows = {{50, 80, 40}, {50, 30, 15}, {100, 29, 28}, {10, 70, 7}, {10, 30, 3}, {50, 2, 1}};
    for (int[] r : rows) {
      Timesteps plan = Timesteps.trailing(1000, r[0]);
      Timesteps walked = ImageToImage.plan(plan, r[1] / 100.0);
      assertEquals(r[2], walked.size(), r[0] + " steps at strength " + r[1] / 100.0);
      assertArrayEquals(plan.last(r[2]).toArray(), walked.toArray());
    }
    assertSame(plan50, ImageToImage.plan(plan50, 1.0), "strength 1 walks the whole plan");
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
        () -> ImageToImage.plan(plan50, 0.01));
    assertEquals("strength 0.01 walks no step of a 50-step plan (it walks floor(steps x strength)); give at least "
        + "0.02, or more steps", none.getMessage());
    // the smallest strength named walks one step, also where 1/n itself walks none (49 x (1/49) < 1 in doubles)
    for (int n = 1; n <= 1000; n++) {
      double min = ImageToImage.minimum(n);
      assertEquals(1, ImageToImage.plan(Timesteps.trailing(1000, n), min).size(), n + " steps, strength " + min);
      assertTrue(min - 1.0 / n < 1e-6, n + " steps: " + min + " is 1/n rounded up to six decimals");
    }
    assertEquals(0, (int) (49 * (1.0 / 49)), "the edge the rounding up is for");
    assertEquals(0.020409, ImageToImage.minimum(49));
    for (double bad : new double[] {0, -0.5, 1.0000001, Double.NaN, Double.POSITIVE_INFINITY}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageToImage.plan(plan50, bad));
      assertEquals("strength must be in (0, 1], got " + bad, e.getMessage());
    }
  }

  /**
   * The start of sample i is {@code sqrt(a) x0_i + sqrt(1 - a) z_i}, {@code a} the alpha-bar of the first walked
   * timestep and {@code z_i} the initial latent a plain run draws for sample i (each noise version), computed here in
   * double precision: float32 rounding of values of order 1 stays below 1e-6.
   */
  @Test
  void theStartIsEachImageNoisedWithItsSamplesInitialNoise() {
    Shape image = Shape.of(3, 2, 2);
    Timesteps plan = Timesteps.trailing(1000, 20);
    float[] x0 = Batches.normal(Shape.of(4, 3, 2, 2), 5);
    for (NoiseVersion version : NoiseVersion.values()) {
      SamplingRequest request = SamplingRequest.of(4, image, 9, plan).withNoise(version);
      try (TensorScope s = ref.openScope()) {
        SamplingRequest edit = ImageToImage.request(ref, schedule, request, x0, 0.5);
        assertEquals(plan.last(10), edit.plan());
        assertEquals(request.seed(), edit.seed());
        assertEquals(version, edit.noise());
        float[] start = edit.initialNoise().orElseThrow().toFloatArray();
        double a = schedule.alphaBar(plan.get(10));
        int k = image.size();
        for (int i = 0; i < 4; i++) {
          float[] z = Latents.initialLatent(request, i);
          for (int j = 0; j < k; j++) {
            assertEquals(Math.sqrt(a) * x0[i * k + j] + Math.sqrt(1 - a) * z[j], start[i * k + j], 1e-6,
                version + ": sample " + i + ", value " + j);
          }
        }
        // a slice of the run starts its samples where the whole run does, bit for bit
        float[] tail = ImageToImage.request(ref, schedule, request.slice(2, 2),
            java.util.Arrays.copyOfRange(x0, 2 * k, 4 * k), 0.5).initialNoise().orElseThrow().toFloatArray();
        assertArrayEquals(java.util.Arrays.copyOfRange(start, 2 * k, 4 * k), tail);
      }
    }
  }

  @Test
  void requestsThatCannotStartFromTheImagesAreRefused() {
    Shape image = Shape.of(1, 2, 2);
    SamplingRequest request = SamplingRequest.of(2, image, 0, Timesteps.trailing(1000, 10));
    try (TensorScope s = ref.openScope()) {
      IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
          () -> ImageToImage.request(ref, schedule, request, new float[4], 0.5));
      assertEquals("images: 4 values, expected 8 (2 images of [1, 2, 2])", few.getMessage());
      SamplingRequest own = request.withInitialNoise(ref.zeros(request.batchShape()));
      assertThrows(IllegalArgumentException.class, () -> ImageToImage.request(ref, schedule, own, new float[8], 0.5));
      SamplingRequest otherT = SamplingRequest.of(2, image, 0, Timesteps.trailing(500, 10));
      assertThrows(IllegalArgumentException.class, () -> ImageToImage.request(ref, schedule, otherT, new float[8], 0.5));
      assertThrows(IllegalArgumentException.class, () -> ImageToImage.request(ref, schedule, request, new float[8], 0.05));
    }
  }

  /**
   * Where deterministic DDIM takes the start, against the exact answer: for data {@code N(mu, s^2)} per pixel the
   * probability-flow ODE that DDIM discretises maps {@code x_t} to {@code mu + s (x_t - sqrt(a) mu) / sqrt(a s^2 + 1 -
   * a)} (the monotone map between two Gaussians). The walks of 60 to 160 steps of a 200-step plan discretise it to
   * 0.012-0.014 here (bound 0.02, the inversion test's at 200 steps). The start's timestep is pinned by the test above
   * (a start one position higher lands only ~0.004 further off, below what this discretisation can tell).
   */
  @Test
  void deterministicDdimCarriesTheStartAlongTheOdeToTheExactGaussianMap() {
    Schedule sch = Schedule.of(ScheduleSpec.cosine(1000));
    double mu = 0.2;
    double s2 = 0.25;
    Shape image = Shape.of(1, 4, 4);
    Timesteps plan = Timesteps.trailing(1000, 200);
    float[] x0 = Batches.normal(Shape.of(3, 1, 4, 4), 8);
    DdimSampler ddim = new DdimSampler(sch, PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, ref);
    for (double strength : new double[] {0.3, 0.5, 0.8}) {
      SamplingRequest request = SamplingRequest.of(3, image, 4, plan);
      try (TensorScope s = ref.openScope()) {
        SamplingRequest edit = ImageToImage.request(ref, sch, request, x0, strength);
        float[] start = edit.initialNoise().orElseThrow().toFloatArray();
        float[] out = ddim.sample(GaussianOracle.of(sch, mu, s2, ref), ref, edit).toFloatArray();
        double a = sch.alphaBar(edit.plan().get(0));
        double max = 0;
        double moved = 0;
        for (int i = 0; i < out.length; i++) {
          double exact = mu + Math.sqrt(s2) * (start[i] - Math.sqrt(a) * mu) / Math.sqrt(a * s2 + 1 - a);
          max = Math.max(max, Math.abs(out[i] - exact));
          moved = Math.max(moved, Math.abs(out[i] - x0[i]));
        }
        assertTrue(max < 0.02, "strength " + strength + ": DDIM ends " + max + " from the exact map");
        assertTrue(moved > 0.05, "strength " + strength + ": the images changed (by at most " + moved + ")");
      }
    }
  }
}
