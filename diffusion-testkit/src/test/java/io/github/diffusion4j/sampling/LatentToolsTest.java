package io.github.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.GaussianOracle;
import io.github.diffusion4j.testkit.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** Spherical interpolation and DDIM inversion. */
class LatentToolsTest {
  private final ReferenceBackend ref = new ReferenceBackend();

  @Test
  void slerpHitsTheEndsAndStaysOnTheSphere() {
    float[] a = {1, 0, 0};
    float[] b = {0, 1, 0};
    assertArrayEquals(a, Latents.slerp(a, b, 0), 1e-7f);
    assertArrayEquals(b, Latents.slerp(a, b, 1), 1e-7f);
    assertEquals("t must be a finite position (0: a, 1: b), got NaN",
        assertThrows(IllegalArgumentException.class, () -> Latents.slerp(a, b, Double.NaN)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> Latents.slerp(a, b, Double.POSITIVE_INFINITY));
    float[] mid = Latents.slerp(a, b, 0.5);
    assertEquals(1.0, Math.hypot(mid[0], mid[1]), 1e-6, "unit norm kept between orthogonal unit vectors");
    assertEquals(mid[0], mid[1], 1e-7);
    // nearly parallel: linear fallback, no NaN
    float[] c = Latents.slerp(a, new float[] {1, 1e-5f, 0}, 0.5);
    assertEquals(1.0, c[0], 1e-6);
    assertTrue(Float.isFinite(c[1]));
    assertThrows(IllegalArgumentException.class, () -> Latents.slerp(a, new float[2], 0.5));
  }

  /**
   * Between vectors of equal norm at 60 degrees (neither orthogonal nor of norm 1), slerp rotates by t times the
   * angle and keeps the norm: the expected points are 2 (cos 60t, sin 60t). Float results of order 1: 1e-6.
   */
  @Test
  void slerpRotatesByTheAngleBetweenTheVectors() {
    float[] a = {2, 0, 0};
    float[] b = {1, (float) Math.sqrt(3), 0};
    for (double t : new double[] {0.25, 0.5, 0.75}) {
      double angle = Math.toRadians(60 * t);
      assertArrayEquals(new float[] {(float) (2 * Math.cos(angle)), (float) (2 * Math.sin(angle)), 0},
          Latents.slerp(a, b, t), 1e-6f, "t = " + t);
    }
  }

  /**
   * The other side of the angle: at 120 degrees (cos < 0) slerp still rotates by t times the angle, 2 (cos 120t,
   * sin 120t). Float results of order 1: 1e-6.
   */
  @Test
  void slerpRotatesByObtuseAnglesToo() {
    float[] a = {2, 0, 0};
    float[] b = {-1, (float) Math.sqrt(3), 0};
    for (double t : new double[] {0.25, 0.5, 0.75}) {
      double angle = Math.toRadians(120 * t);
      assertArrayEquals(new float[] {(float) (2 * Math.cos(angle)), (float) (2 * Math.sin(angle)), 0},
          Latents.slerp(a, b, t), 1e-6f, "t = " + t);
    }
  }

  /**
   * The linear fallback where {@code |cos theta| > 0.9995} (the documented threshold, on both sides: parallel and
   * opposite vectors): there the result is {@code (1 - t) a + t b}, exact here (every value a multiple of 1/8 or
   * 1e-5 scaled by one). Just inside the threshold (cos 0.9990, theta 0.0447) slerp keeps the norm of unit
   * vectors, 1 at the midpoint, where the linear midpoint's is cos(theta / 2) = 0.99975; just outside (cos 0.9998)
   * the midpoint is the linear one, of norm cos(theta / 2) = 0.99995. Float32 norms of order 1: 1e-6, far below
   * the 5e-5 and 2.5e-4 these differ by.
   */
  @Test
  void nearlyParallelOrOppositeLatentsAreInterpolatedLinearly() {
    float[] a = {1, 0, 0};
    float[] near = {1, 1e-5f, 0};
    for (double t : new double[] {0.25, 0.5, 0.75}) {
      float[] c = Latents.slerp(a, near, t);
      assertArrayEquals(new float[] {1, (float) (t * 1e-5f), 0}, c, 1e-12f, "nearly parallel, t = " + t);
      float[] d = Latents.slerp(a, new float[] {-1, 0, 0}, t);
      assertArrayEquals(new float[] {(float) (1 - 2 * t), 0, 0}, d, 0f, "opposite, t = " + t);
    }
    double inside = Math.acos(0.9990);
    float[] in = Latents.slerp(a, new float[] {(float) Math.cos(inside), (float) Math.sin(inside), 0}, 0.5);
    assertEquals(1.0, Math.hypot(in[0], in[1]), 1e-6, "cos 0.9990: spherical");
    double outside = Math.acos(0.9998);
    float[] out = Latents.slerp(a, new float[] {(float) Math.cos(outside), (float) Math.sin(outside), 0}, 0.5);
    assertEquals(Math.cos(outside / 2), Math.hypot(out[0], out[1]), 1e-6, "cos 0.9998: linear");
  }

  @Test
  void interpolateBuildsABatch() {
    Shape image = Shape.of(1, 2, 2);
    float[] a = Batches.normal(Shape.of(1, 1, 2, 2), 1);
    float[] b = Batches.normal(Shape.of(1, 1, 2, 2), 2);
    try (TensorScope s = ref.openScope()) {
      Tensor t = Latents.interpolate(ref, a, b, image, 5);
      assertEquals(Shape.of(5, 1, 2, 2), t.shape());
      float[] v = t.toFloatArray();
      assertArrayEquals(a, java.util.Arrays.copyOfRange(v, 0, 4), 1e-6f);
      assertArrayEquals(b, java.util.Arrays.copyOfRange(v, 16, 20), 1e-6f);
    }
  }

  @Test
  void theInitialLatentOfASampleIsTheOneARunDrawsForItAndTheStripEndsAreThoseLatentsExactly() {
    Shape image = Shape.of(3, 2, 2);
    Timesteps plan = Timesteps.trailing(1000, 2);
    for (io.github.diffusion4j.random.NoiseVersion version : io.github.diffusion4j.random.NoiseVersion.values()) {
      SamplingRequest request = SamplingRequest.of(6, image, 11, plan).withNoise(version);
      float[][] seen = new float[1][];
      SamplingListener xT = new SamplingListener() {
        @Override
        public void onStart(Timesteps p, Tensor initial) {
          seen[0] = initial.toFloatArray();
        }

        @Override
        public void onStep(int index, Timesteps p, ReverseStepResult result) {}
      };
      float[] a = Latents.initialLatent(request.slice(0, 1), 2); // the request's count and first sample do not matter
      float[] b = Latents.initialLatent(request, 5);
      DdimSampler ddim = new DdimSampler(Schedule.of(ScheduleSpec.linear(1000)), PredictionType.EPSILON, 0.0, true,
          SampleClipping.NONE, ref);
      try (TensorScope s = ref.openScope()) {
        SamplingLoop.run(ddim, GaussianOracle.of(Schedule.of(ScheduleSpec.linear(1000)), 0, 1, ref), ref, request, xT);
        int k = image.size();
        assertArrayEquals(java.util.Arrays.copyOfRange(seen[0], 2 * k, 3 * k), a, version + ": sample 2's x_T");
        assertArrayEquals(java.util.Arrays.copyOfRange(seen[0], 5 * k, 6 * k), b, version + ": sample 5's x_T");
        float[] strip = Latents.interpolate(ref, a, b, image, 4).toFloatArray();
        // bit for bit: the weights at t = 0 and t = 1 are exactly 1 and 0, so a strip between two samples' latents
        // starts and ends at those samples' images
        assertArrayEquals(a, java.util.Arrays.copyOfRange(strip, 0, k));
        assertArrayEquals(b, java.util.Arrays.copyOfRange(strip, 3 * k, 4 * k));
      }
    }
    assertThrows(IllegalArgumentException.class, () -> Latents.initialLatent(SamplingRequest.of(1, image, 1, plan), -1));
  }

  /**
   * DDIM inversion step by step against its formula (the class's comment; diffusers' {@code DDIMInverseScheduler.step}
   * for epsilon models, Song et al. 2021 eq. 13 run towards {@code t}) written out in doubles, for a model of each
   * prediction type: the model outputs the exact posterior mean of data {@code N(mu, s2)} at the timestep it is asked
   * about, as noise, sample or v; so every type must give the epsilon model's latents, each output turned into noise
   * with the alpha-bar of that timestep ({@code a_next}). A plan of 7 uneven steps ({@code trailing(1000, 7)}),
   * walked up from {@code a_cur = 1}. Tolerance: float32 rounding over 7 steps of values below 4 (about 1e-6 a
   * step), with the output conversions' roundings; 1e-5.
   */
  @Test
  void inversionIsDdimRunBackwardsStepByStepForEachPredictionType() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(1000));
    double mu = 0.3;
    double s2 = 0.5;
    Timesteps plan = Timesteps.trailing(1000, 7);
    float[] x0 = {-0.9f, -0.2f, 0.1f, 0.6f, 1.0f};
    double[] expected = new double[x0.length];
    for (int j = 0; j < x0.length; j++) {
      double x = x0[j];
      double aCur = 1;
      for (int step : plan.ascending()) {
        double a = sch.alphaBar(step);
        double mean = mu + Math.sqrt(a) * s2 / (a * s2 + 1 - a) * (x - Math.sqrt(a) * mu);
        double eps = (x - Math.sqrt(a) * mean) / Math.sqrt(1 - a);
        double x0Hat = (x - Math.sqrt(1 - aCur) * eps) / Math.sqrt(aCur);
        x = Math.sqrt(a) * x0Hat + Math.sqrt(1 - a) * eps;
        aCur = a;
      }
      expected[j] = x;
    }
    for (PredictionType type : PredictionType.values()) {
      NoisePredictor model = GaussianOracle.of(sch, mu, s2, ref, type);
      try (TensorScope s = ref.openScope()) {
        float[] got = new DdimInversion(sch, type).invert(model, ref, ref.fromArray(x0, Shape.of(x0.length, 1, 1, 1)),
            plan).toFloatArray();
        for (int j = 0; j < x0.length; j++) {
          assertEquals(expected[j], got[j], 1e-5, type + ", sample " + j);
        }
      }
    }
  }

  @Test
  void inversionThenSamplingRoundTrips() {
    Schedule sch = Schedule.of(ScheduleSpec.cosine(1000));
    double mu = 0.2;
    double s2 = 0.25;
    NoisePredictor oracle = GaussianOracle.of(sch, mu, s2, ref);
    Shape batch = Shape.of(6, 1, 2, 2);
    float[] x0 = Batches.normal(batch, 3);
    for (int i = 0; i < x0.length; i++) {
      x0[i] = (float) (mu + Math.sqrt(s2) * x0[i]);
    }
    DdimSampler ddim = new DdimSampler(sch, PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, ref);
    DdimInversion inversion = new DdimInversion(sch, PredictionType.EPSILON);
    double[] errors = new double[2];
    int[] stepCounts = {20, 200};
    for (int k = 0; k < 2; k++) {
      int steps = stepCounts[k];
      Timesteps plan = Timesteps.trailing(1000, steps);
      try (TensorScope s = ref.openScope()) {
        Tensor input = ref.fromArray(x0, batch);
        Tensor xT = inversion.invert(oracle, ref, input, plan);
        assertArrayEquals(x0, input.toFloatArray(), "the caller's images are left as they were");
        float[] back = ddim.sample(oracle, ref, SamplingRequest.of(6, Shape.of(1, 2, 2), 0, plan).withInitialNoise(xT))
            .toFloatArray();
        errors[k] = Batches.maxAbsDiff(x0, back);
      }
    }
    try (TensorScope s = ref.openScope()) {
      assertThrows(IllegalArgumentException.class,
          () -> inversion.invert(oracle, ref, ref.fromArray(x0, batch), Timesteps.trailing(500, 20)));
    }
    // both directions discretise the same ODE to first order: ten times the steps, about a tenth the error
    assertTrue(errors[0] < 0.15, "20 steps: round-trip error " + errors[0]);
    assertTrue(errors[1] < errors[0] / 5 && errors[1] < 0.02, "200 steps: round-trip error " + errors[1]);
  }
}
