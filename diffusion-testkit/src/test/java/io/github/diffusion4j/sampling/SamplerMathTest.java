package io.github.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.NoiseVersion;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.tensor.ThreadConfinement;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.GaussianOracle;
import io.github.diffusion4j.testkit.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The samplers' mathematics on the reference backend: Algorithm 2 and the posterior form agree, DDIM with
 * eta = 1 is DDPM, and with the exact noise predictor of a known data distribution both samplers
 * reproduce that distribution.
 */
class SamplerMathTest {
  static final ReferenceBackend REF = new ReferenceBackend(); // InpaintingTest shares it with TwoThreads
  private final ReferenceBackend ref = REF;
  private static final Shape BATCH = Shape.of(4, 1, 3, 3);
  /** The split-batch tests' schedule and request: 8 images, two slices of 4, DDPM over 13 of 40 steps. */
  private static final Schedule SPLIT_SCHEDULE = Schedule.of(ScheduleSpec.linear(40));
  private static final SamplingRequest SPLIT_BATCH =
      SamplingRequest.of(8, Shape.of(1, 2, 2), 3, Timesteps.trailing(40, 13));

  private Tensor tensor(long seed) {
    return ref.fromArray(Batches.normal(BATCH, seed), BATCH);
  }

  private StepContext context(Timesteps plan, int i, Tensor x, Tensor out, Tensor z) {
    return new StepContext(plan, i, x, out, () -> z, null);
  }

  @Test
  void posteriorFormEqualsAlgorithm2WithoutClipping() {
    Schedule s = Schedule.of(ScheduleSpec.linear(100));
    Timesteps plan = Timesteps.full(100);
    DdpmSampler ddpm = new DdpmSampler(s, PredictionType.EPSILON, VarianceType.FIXED_LARGE, SampleClipping.NONE, ref);
    try (TensorScope scope = ref.openScope()) {
      for (int i = 0; i < 100; i++) {
        int t = plan.get(i);
        Tensor x = tensor(i);
        Tensor eps = tensor(1000 + i);
        Tensor z = tensor(2000 + i);
        float[] actual = ddpm.step(context(plan, i, x, eps, z)).prev().toFloatArray();
        // Ho et al. Algorithm 2, line 4
        double c = s.beta(t) / Math.sqrt(1 - s.alphaBar(t));
        double sigma = t > 0 ? Math.sqrt(s.beta(t)) : 0;
        float[] xv = x.toFloatArray(), ev = eps.toFloatArray(), zv = z.toFloatArray();
        float[] expected = new float[xv.length];
        for (int j = 0; j < xv.length; j++) {
          expected[j] = (float) ((xv[j] - c * ev[j]) / Math.sqrt(s.alpha(t)) + sigma * zv[j]);
        }
        // float32 evaluation of two algebraically equal forms: a few ulps of values of order 1-10
        assertTrue(Batches.maxAbsDiff(expected, actual) < 1e-5, "t=" + t);
      }
    }
  }

  @Test
  void ddimWithEtaOneIsDdpmOnTheFullPlan() {
    Schedule s = Schedule.of(ScheduleSpec.linear(1000));
    Timesteps plan = Timesteps.full(1000);
    DdpmSampler ddpm = new DdpmSampler(s, PredictionType.EPSILON, VarianceType.FIXED_SMALL, SampleClipping.NONE, ref);
    DdimSampler ddim = new DdimSampler(s, PredictionType.EPSILON, 1.0, true, SampleClipping.NONE, ref);
    try (TensorScope scope = ref.openScope()) {
      for (int i : new int[] {0, 1, 200, 500, 900, 998, 999}) {
        Tensor x = tensor(i);
        Tensor eps = tensor(10 + i);
        Tensor z = tensor(20 + i);
        float[] a = ddpm.step(context(plan, i, x, eps, z)).prev().toFloatArray();
        float[] b = ddim.step(context(plan, i, x, eps, z)).prev().toFloatArray();
        assertTrue(Batches.maxAbsDiff(a, b) < 2e-5, "position " + i + ": " + Batches.maxAbsDiff(a, b));
      }
    }
  }

  @Test
  void ddimWithEtaZeroIgnoresTheNoise() {
    Schedule s = Schedule.of(ScheduleSpec.cosine(100));
    Timesteps plan = Timesteps.trailing(100, 10);
    DdimSampler ddim = new DdimSampler(s, PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, ref);
    try (TensorScope scope = ref.openScope()) {
      Tensor x = tensor(1);
      Tensor eps = tensor(2);
      assertArrayEquals(
          ddim.step(context(plan, 3, x, eps, tensor(3))).prev().toFloatArray(),
          ddim.step(context(plan, 3, x, eps, tensor(4))).prev().toFloatArray());
    }
  }

  /**
   * {@code x0^} and {@code eps^} of one value from the model's output, by Salimans and Ho (2022, section 4 and
   * appendix D): {@code x = sqrt(a) x0 + sqrt(1 - a) eps} and {@code v = sqrt(a) eps - sqrt(1 - a) x0}.
   */
  private static double[] x0AndEps(PredictionType type, double a, double x, double out) {
    double sa = Math.sqrt(a);
    double sb = Math.sqrt(1 - a);
    return switch (type) {
      case EPSILON -> new double[] {(x - sb * out) / sa, out};
      case SAMPLE -> new double[] {out, (x - sa * out) / sb};
      case V_PREDICTION -> new double[] {sa * x - sb * out, sa * out + sb * x};
    };
  }

  /**
   * DDIM's step is Song et al. (2021) eq. 12 for every prediction type, with sigma from eq. 16 and, when clipping,
   * {@code x0^} clipped and {@code eps^} from the model's output as it was (diffusers' default): evaluated here in
   * double per value. Values are of order 1-10 in float32: a few ulps is below 2e-5.
   */
  @Test
  void ddimIsSongEquation12ForEveryPredictionTypeWithAndWithoutClipping() {
    Schedule s = Schedule.of(ScheduleSpec.linear(100));
    Timesteps plan = Timesteps.trailing(100, 10);
    double eta = 0.5;
    try (TensorScope scope = ref.openScope()) {
      Tensor x = tensor(1);
      Tensor out = tensor(2);
      Tensor z = tensor(3);
      float[] xv = x.toFloatArray(), ov = out.toFloatArray(), zv = z.toFloatArray();
      for (PredictionType type : PredictionType.values()) {
        for (SampleClipping clip : List.of(SampleClipping.NONE, SampleClipping.clip(1.0))) {
          DdimSampler ddim = new DdimSampler(s, type, eta, true, clip, ref);
          for (int i : new int[] {3, 9}) {
            double aT = s.alphaBar(plan.get(i));
            double aP = s.alphaBarOrOne(plan.next(i));
            double sigma = eta * Math.sqrt((1 - aP) / (1 - aT) * (1 - aT / aP));
            float[] expected = new float[xv.length];
            for (int j = 0; j < xv.length; j++) {
              double[] p = x0AndEps(type, aT, xv[j], ov[j]);
              double x0 = clip.active() ? Math.max(-1, Math.min(1, p[0])) : p[0];
              expected[j] = (float) (Math.sqrt(aP) * x0 + Math.sqrt(1 - aP - sigma * sigma) * p[1] + sigma * zv[j]);
            }
            float[] actual = ddim.step(context(plan, i, x, out, z)).prev().toFloatArray();
            String where = type + ", clipping " + clip.active() + ", position " + i;
            assertTrue(Batches.maxAbsDiff(expected, actual) < 2e-5, where + ": " + Batches.maxAbsDiff(expected, actual));
          }
        }
      }
    }
  }

  /**
   * With clipping, DDPM's step is the posterior mean of the clipped {@code x0^} (Ho et al. eq. 7) plus
   * {@code sqrt(beta~_t) z}, noise at every step but the last (t = 1 included); a plan of another schedule is
   * refused. Same tolerance as above.
   */
  @Test
  void clippedDdpmIsThePosteriorMeanOfTheClippedPredictionPlusNoise() {
    Schedule s = Schedule.of(ScheduleSpec.linear(100));
    Timesteps plan = Timesteps.full(100);
    try (TensorScope scope = ref.openScope()) {
      Tensor x = tensor(4);
      Tensor out = tensor(5).mul(2);
      Tensor z = tensor(6);
      float[] xv = x.toFloatArray(), ov = out.toFloatArray(), zv = z.toFloatArray();
      for (PredictionType type : PredictionType.values()) {
        DdpmSampler ddpm = new DdpmSampler(s, type, VarianceType.FIXED_SMALL, SampleClipping.clip(1.0), ref);
        for (int i : new int[] {50, 98, 99}) {
          int t = plan.get(i);
          double aT = s.alphaBar(t);
          double aP = s.alphaBarOrOne(t - 1);
          double beta = s.beta(t);
          double variance = t > 0 ? (1 - aP) / (1 - aT) * beta : 0;
          float[] expected = new float[xv.length];
          for (int j = 0; j < xv.length; j++) {
            double x0 = Math.max(-1, Math.min(1, x0AndEps(type, aT, xv[j], ov[j])[0]));
            double mean = Math.sqrt(aP) * beta / (1 - aT) * x0 + Math.sqrt(s.alpha(t)) * (1 - aP) / (1 - aT) * xv[j];
            expected[j] = (float) (mean + Math.sqrt(variance) * zv[j]);
          }
          float[] actual = ddpm.step(context(plan, i, x, out, z)).prev().toFloatArray();
          assertTrue(Batches.maxAbsDiff(expected, actual) < 2e-5, type + ", t=" + t + ": "
              + Batches.maxAbsDiff(expected, actual));
        }
        assertThrows(IllegalArgumentException.class, () -> ddpm.step(context(Timesteps.full(50), 0, x, out, z)));
      }
    }
  }

  /** {@code alphaBar_t = prod_{s <= t} (1 - beta_s)}, recomputed from the betas (Ho et al. eq. 4), 1 for t = -1. */
  private static double alphaBarOf(Schedule s, int t) {
    double[] betas = s.betas();
    double prod = 1.0;
    for (int i = 0; i <= t; i++) {
      prod *= 1.0 - betas[i];
    }
    return prod;
  }

  /**
   * On a strided plan DDPM's step is the forward posterior {@code q(x_p | x_t, x0^)} between the plan's two timesteps
   * (Ho et al. eq. 6-7 with {@code alphaBar_{t-1}} replaced by {@code alphaBar_p} and {@code beta_t} by
   * {@code 1 - alphaBar_t / alphaBar_p}, as diffusers' {@code DDPMScheduler} on a plan of fewer steps), plus noise at
   * every step but the last: the alpha-bars come from the plan's next position, not from {@code t - 1}. The
   * alpha-bars are recomputed here from the betas; values are of order 1-10 in float32, so a few ulps is below 2e-5.
   */
  @Test
  void ddpmOnAStridedPlanIsThePosteriorBetweenThePlansTwoTimesteps() {
    Schedule s = Schedule.of(ScheduleSpec.linear(100));
    for (Timesteps plan : List.of(Timesteps.trailing(100, 10), Timesteps.leading(100, 7, 1))) {
      for (VarianceType v : VarianceType.values()) {
        DdpmSampler ddpm = new DdpmSampler(s, PredictionType.EPSILON, v, SampleClipping.NONE, ref);
        try (TensorScope scope = ref.openScope()) {
          for (int i = 0; i < plan.size(); i++) {
            int t = plan.get(i);
            int p = i + 1 < plan.size() ? plan.get(i + 1) : -1;
            double aT = alphaBarOf(s, t);
            double aP = alphaBarOf(s, p);
            double beta = 1 - aT / aP;
            double variance = p < 0 ? 0 : switch (v) {
              case FIXED_SMALL -> (1 - aP) / (1 - aT) * beta;
              case FIXED_LARGE -> beta;
              case TUTORIAL -> beta * beta;
            };
            Tensor x = tensor(30 + i);
            Tensor eps = tensor(60 + i);
            Tensor z = tensor(90 + i);
            float[] xv = x.toFloatArray(), ev = eps.toFloatArray(), zv = z.toFloatArray();
            float[] expected = new float[xv.length];
            for (int j = 0; j < xv.length; j++) {
              double x0 = (xv[j] - Math.sqrt(1 - aT) * ev[j]) / Math.sqrt(aT);
              double mean = Math.sqrt(aP) * beta / (1 - aT) * x0 + Math.sqrt(aT / aP) * (1 - aP) / (1 - aT) * xv[j];
              expected[j] = (float) (mean + Math.sqrt(variance) * zv[j]);
            }
            float[] actual = ddpm.step(context(plan, i, x, eps, z)).prev().toFloatArray();
            String where = plan + ", " + v + ", position " + i;
            assertTrue(Batches.maxAbsDiff(expected, actual) < 2e-5, where + ": " + Batches.maxAbsDiff(expected, actual));
          }
        }
      }
    }
  }

  @Test
  void clipSampleClampsEachValueToTheRange() {
    try (TensorScope scope = ref.openScope()) {
      Tensor x0 = ref.fromArray(new float[] {0.5f, -2f, 3f, -0.25f}, Shape.of(1, 1, 2, 2));
      assertArrayEquals(new float[] {0.5f, -1.5f, 1.5f, -0.25f}, SampleClipping.clip(1.5).apply(x0, ref).toFloatArray());
    }
    assertThrows(IllegalArgumentException.class, () -> SampleClipping.clip(0.0));
    assertThrows(IllegalArgumentException.class, () -> new SampleClipping(false, 1.0, true, 0.0, 1.0));
  }

  private static NoisePredictor gaussianOracle(Schedule sch, double mu, double s2) {
    return GaussianOracle.of(sch, mu, s2, REF);
  }

  private static double[] moments(float[] v) {
    return GaussianOracle.moments(v);
  }

  @Test
  void ddpmReproducesAGaussianDataDistribution() {
    double mu = 0.4;
    double s2 = 0.09;
    Schedule sch = Schedule.of(new ScheduleSpec(1000, 1e-4, 0.02, BetaSchedule.LINEAR, false));
    NoisePredictor oracle = gaussianOracle(sch, mu, s2);
    int count = 2000;
    for (VarianceType v : new VarianceType[] {VarianceType.FIXED_SMALL, VarianceType.FIXED_LARGE}) {
      Sampler ddpm = new DdpmSampler(sch, PredictionType.EPSILON, v, SampleClipping.NONE, REF);
      try (TensorScope scope = REF.openScope()) {
        float[] out = ddpm.sample(oracle, REF, SamplingRequest.of(count, Shape.of(1, 2, 2), 11, Timesteps.full(1000)))
            .toFloatArray();
        double[] m = moments(out);
        double n = out.length;
        // mean: 5 standard errors; variance: 5 standard errors plus 3% for the 1000-step discretisation
        assertEquals(mu, m[0], 5 * Math.sqrt(s2 / n), v + " mean");
        assertEquals(s2, m[1], 5 * s2 * Math.sqrt(2 / n) + 0.03 * s2, v + " variance");
      }
    }
  }

  /**
   * With the exact predictor of a Gaussian, each DDIM step is a known linear map
   * {@code x_p - sqrt(a_p) mu = c (x_t - sqrt(a_t) mu)} with
   * {@code c = (sqrt(a_p a_t) s^2 + sqrt((1 - a_p)(1 - a_t))) / (a_t s^2 + 1 - a_t)}, so the output
   * moments are known exactly; by Cauchy-Schwarz each step shrinks the variance a little, which is
   * DDIM's discretisation error and vanishes as the plan gets finer.
   */
  @Test
  void ddimFollowsItsExactLinearMapOnAGaussian() {
    double mu = 0.4;
    double s2 = 0.09;
    Schedule sch = Schedule.of(new ScheduleSpec(1000, 1e-4, 0.02, BetaSchedule.LINEAR, false));
    NoisePredictor oracle = gaussianOracle(sch, mu, s2);
    for (int steps : new int[] {10, 50, 1000}) {
      Timesteps plan = Timesteps.trailing(1000, steps);
      double mean = 0;
      double var = 1;
      for (int i = 0; i < plan.size(); i++) {
        double a = sch.alphaBar(plan.get(i));
        double p = sch.alphaBarOrOne(plan.next(i));
        double c = (Math.sqrt(p * a) * s2 + Math.sqrt((1 - p) * (1 - a))) / (a * s2 + 1 - a);
        mean = Math.sqrt(p) * mu + c * (mean - Math.sqrt(a) * mu);
        var = c * c * var;
      }
      Sampler ddim = new DdimSampler(sch, PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, REF);
      try (TensorScope scope = REF.openScope()) {
        float[] out = ddim.sample(oracle, REF, SamplingRequest.of(2000, Shape.of(1, 2, 2), 12, plan)).toFloatArray();
        double[] m = moments(out);
        double n = out.length;
        assertEquals(mean, m[0], 5 * Math.sqrt(var / n), steps + " steps: mean");
        assertEquals(var, m[1], 5 * var * Math.sqrt(2 / n), steps + " steps: variance");
        if (steps == 1000) {
          assertEquals(s2, var, 0.02 * s2, "the fine plan reaches the data variance");
        }
      }
    }
  }

  @Test
  void pointMassIsRecoveredExactlyByDdim() {
    Schedule sch = Schedule.of(ScheduleSpec.cosine(100));
    NoisePredictor oracle = gaussianOracle(sch, -0.3, 0.0);
    Sampler ddim = new DdimSampler(sch, PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, REF);
    try (TensorScope scope = REF.openScope()) {
      float[] out = ddim.sample(oracle, REF, SamplingRequest.of(5, Shape.of(1, 2, 2), 3, Timesteps.trailing(100, 7)))
          .toFloatArray();
      for (float v : out) {
        assertEquals(-0.3, v, 1e-5);
      }
    }
  }

  @Test
  void clippingBoundsThePredictedSample() {
    Schedule s = Schedule.of(ScheduleSpec.linear(100));
    Timesteps plan = Timesteps.full(100);
    DdpmSampler clipped = new DdpmSampler(s, PredictionType.SAMPLE, VarianceType.FIXED_SMALL, SampleClipping.clip(1.0), ref);
    try (TensorScope scope = ref.openScope()) {
      Tensor x = tensor(1);
      Tensor big = tensor(2).mul(10);
      ReverseStepResult r = clipped.step(context(plan, 99, x, big, tensor(3)));
      for (float v : r.predictedX0().toFloatArray()) {
        assertTrue(v >= -1 && v <= 1);
      }
      // at the last step the output is the (clipped) prediction itself
      assertArrayEquals(r.predictedX0().toFloatArray(), r.prev().toFloatArray(), 1e-6f);
    }
  }

  @Test
  void dynamicThresholdingUsesPerSampleQuantiles() {
    assertEquals(2.5, SampleClipping.quantile(new float[] {4, 1, 2, 3}, 0.5), 1e-12);
    assertEquals(4.0, SampleClipping.quantile(new float[] {4, 1, 2, 3}, 1.0), 1e-12);
    SampleClipping th = new SampleClipping(false, 1.0, true, 1.0, 3.0);
    try (TensorScope scope = ref.openScope()) {
      Tensor x0 = ref.fromArray(new float[] {0.5f, -2f, 1f, 0.25f, 10f, -4f, 0.5f, 0.5f}, Shape.of(2, 1, 2, 2));
      float[] out = th.apply(x0, ref).toFloatArray();
      // sample 0: s = max|x| = 2 -> x / 2; sample 1: s = min(10, 3) = 3 -> clamp to [-3, 3] / 3
      assertArrayEquals(new float[] {0.25f, -1f, 0.5f, 0.125f, 1f, -1f, 0.5f / 3, 0.5f / 3}, out, 1e-6f);
    }
  }

  @Test
  void batchesAndSlicesGiveTheSameSamples() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(50));
    NoisePredictor model = gaussianOracle(sch, 0.1, 0.5);
    Sampler ddpm = new DdpmSampler(sch, PredictionType.EPSILON, VarianceType.FIXED_SMALL, SampleClipping.NONE, REF);
    SamplingRequest all = SamplingRequest.of(10, Shape.of(1, 2, 2), 77, Timesteps.full(50));
    try (TensorScope scope = REF.openScope()) {
      float[] whole = ddpm.sample(model, REF, all).toFloatArray();
      float[] a = ddpm.sample(model, REF, all.slice(0, 4)).toFloatArray();
      float[] b = ddpm.sample(model, REF, all.slice(4, 6)).toFloatArray();
      float[] joined = new float[whole.length];
      System.arraycopy(a, 0, joined, 0, a.length);
      System.arraycopy(b, 0, joined, a.length, b.length);
      assertArrayEquals(whole, joined);
    }
  }

  @Test
  void listenerSeesEveryStepAndScopesStayFlat() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(30));
    NoisePredictor model = gaussianOracle(sch, 0.0, 1.0);
    Sampler ddpm = new DdpmSampler(sch, PredictionType.EPSILON, VarianceType.FIXED_SMALL, SampleClipping.NONE, REF);
    List<Integer> seen = new ArrayList<>();
    try (TensorScope scope = REF.openScope()) {
      int before = REF.liveTensors();
      Tensor out = ddpm.sample(model, REF, SamplingRequest.of(3, Shape.of(1, 2, 2), 1, Timesteps.full(30)),
          (i, plan, r) -> seen.add(plan.get(i)));
      assertEquals(30, seen.size());
      assertEquals(29, seen.get(0));
      assertEquals(0, seen.get(29));
      assertEquals(before + 1, REF.liveTensors(), "only the result survives the run");
      out.close();
    }
  }

  @Test
  void onStartReceivesTheLatentsTheLoopStartsFrom() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(20));
    NoisePredictor oracle = gaussianOracle(sch, 0.1, 0.5);
    Sampler ddpm = new DdpmSampler(sch, PredictionType.EPSILON, VarianceType.FIXED_SMALL, SampleClipping.NONE, REF);
    SamplingRequest all = SamplingRequest.of(6, Shape.of(1, 2, 2), 41, Timesteps.full(20));
    try (TensorScope scope = REF.openScope()) {
      Tensor given = REF.fromArray(Batches.normal(Shape.of(6, 1, 2, 2), 9), Shape.of(6, 1, 2, 2));
      for (SamplingRequest r : List.of(all, all.slice(2, 3), all.withInitialNoise(given))) {
        List<float[]> firstInput = new ArrayList<>();
        NoisePredictor recording = (x, t) -> {
          if (firstInput.isEmpty()) {
            firstInput.add(x.toFloatArray());
          }
          return oracle.predict(x, t);
        };
        List<String> events = new ArrayList<>();
        float[][] started = new float[1][];
        Tensor[] startTensor = new Tensor[1];
        ddpm.sample(recording, REF, r, new SamplingListener() {
          @Override
          public void onStart(Timesteps plan, Tensor initial) {
            events.add("start");
            assertEquals(r.plan(), plan);
            started[0] = initial.toFloatArray();
            startTensor[0] = initial;
          }

          @Override
          public void onStep(int index, Timesteps plan, ReverseStepResult result) {
            events.add("step " + index);
          }
        });
        assertEquals("start", events.get(0), "onStart comes before the first step");
        assertEquals(1, events.stream().filter("start"::equals).count(), "onStart is called once");
        assertEquals(21, events.size());
        // exactly (bit for bit) what the model was first given, and the request's documented x_T
        assertArrayEquals(firstInput.get(0), started[0]);
        assertArrayEquals(SamplingLoop.initialNoise(REF, r).toFloatArray(), started[0]);
        if (r.initialNoise().isPresent()) {
          assertTrue(startTensor[0] == given, "a request's own latents are passed as they are");
        }
      }
    }
  }

  @Test
  void initialNoiseFollowsTheDocumentedLayout() {
    SamplingRequest r = SamplingRequest.of(3, Shape.of(1, 2, 2), 5, Timesteps.full(10));
    assertEquals(NoiseVersion.ZIGGURAT, r.noise(), "a request uses version 1 unless told otherwise");
    assertEquals(NoiseVersion.BOX_MULLER, r.withNoise(NoiseVersion.BOX_MULLER).slice(1, 2).noise());
    try (TensorScope scope = REF.openScope()) {
      for (NoiseVersion v : NoiseVersion.values()) {
        float[] x = SamplingLoop.initialNoise(REF, r.withNoise(v)).toFloatArray();
        assertArrayEquals(Noise.seeded(5).withVersion(v).split(0).split(2).normals(4),
            java.util.Arrays.copyOfRange(x, 8, 12), "version " + v.number());
        float[] z = SamplingLoop.stepNoise(REF, r.withNoise(v), 3).toFloatArray();
        assertArrayEquals(Noise.seeded(5).withVersion(v).split(4).split(0).normals(4),
            java.util.Arrays.copyOfRange(z, 0, 4), "version " + v.number());
      }
    }
  }

  /**
   * The reference backend, reporting that it was given two threads, and recording each confinement as
   * "open THREAD" and "close THREAD".
   */
  static final class TwoThreads implements TensorFactory { // InpaintingTest walks two slices with it too
    final List<String> confinements = java.util.Collections.synchronizedList(new ArrayList<>());

    @Override
    public Tensor zeros(Shape shape) {
      return REF.zeros(shape);
    }

    @Override
    public Tensor fromArray(float[] data, Shape shape) {
      return REF.fromArray(data, shape);
    }

    @Override
    public TensorScope openScope() {
      return REF.openScope();
    }

    @Override
    public int threads() {
      return 2;
    }

    @Override
    public ThreadConfinement confineToCallingThread() {
      Thread opener = Thread.currentThread();
      confinements.add("open " + opener.getName());
      return () -> {
        assertSame(opener, Thread.currentThread(), "a confinement is closed on the thread that opened it");
        confinements.add("close " + opener.getName());
      };
    }
  }

  private static void joinNoiseThreads() {
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("diffusion4j-noise")) {
        try {
          t.join(10_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        }
        assertTrue(!t.isAlive(), "the noise thread ends with its sampling run");
      }
    }
  }

  private static boolean noiseThreadAlive() {
    return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("diffusion4j-noise"));
  }

  /** The samplers of the two-thread tests: DDPM, DDIM with and without noise, and one that draws on even steps. */
  private static List<Sampler> samplers(Schedule sch) {
    Sampler ddpm = new DdpmSampler(sch, PredictionType.EPSILON, VarianceType.FIXED_SMALL, SampleClipping.NONE, REF);
    Sampler ddim = new DdimSampler(sch, PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, REF);
    // draws on even steps only: the loop's noise buffer is reused after a step that left a draw unused
    Sampler alternating = named("alternating", c -> (c.index() % 2 == 0 ? ddpm : ddim).step(c));
    return List.of(ddpm, ddim,
        new DdimSampler(sch, PredictionType.EPSILON, 0.7, true, SampleClipping.clip(1.0), REF), alternating);
  }

  /**
   * With two threads and one image, the loop draws each step's noise on a thread of its own while the model
   * runs, and the samples are the same bits as with one; a sampler that draws noise on some steps only (DDPM's
   * last step, DDIM with eta 0, one that alternates) gets the same results too.
   */
  @Test
  void aSecondThreadDrawsTheNoiseOfOneImageAndChangesNothing() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(40));
    NoisePredictor oracle = gaussianOracle(sch, 0.1, 0.5);
    boolean[] sawThread = new boolean[2];
    for (Sampler sampler : samplers(sch)) {
      for (NoiseVersion v : NoiseVersion.values()) {
        SamplingRequest r = SamplingRequest.of(1, Shape.of(1, 2, 2), 31, Timesteps.trailing(40, 13)).withNoise(v);
        try (TensorScope scope = REF.openScope()) {
          float[] one = sampler.sample((x, t) -> {
            sawThread[0] |= noiseThreadAlive();
            return oracle.predict(x, t);
          }, REF, r).toFloatArray();
          TwoThreads two = new TwoThreads();
          float[] twoThreads = sampler.sample((x, t) -> {
            sawThread[1] |= noiseThreadAlive();
            return oracle.predict(x, t);
          }, two, r).toFloatArray();
          assertArrayEquals(one, twoThreads, sampler.name() + ", noise version " + v.number());
          assertEquals(List.of(), two.confinements, "one image is walked whole");
          joinNoiseThreads(); // a stopped pool's thread may be alive a moment after the loop returns
        }
      }
    }
    assertTrue(!sawThread[0] && sawThread[1], "the noise thread runs with two threads only");
  }

  /** What a listener saw: x_T, each step's two tensors, and what an operation on them computed. */
  private static final class Recorder implements SamplingListener {
    final List<float[]> seen = new ArrayList<>();

    @Override
    public void onStart(Timesteps plan, Tensor initial) {
      seen.add(initial.toFloatArray());
    }

    @Override
    public void onStep(int index, Timesteps plan, ReverseStepResult result) {
      seen.add(result.prev().toFloatArray());
      seen.add(result.predictedX0().toFloatArray());
      seen.add(result.prev().sub(result.predictedX0()).mul(2.0).toFloatArray());
      seen.add(new float[] {(float) result.prev().sum(), result.prev().shape().batch()});
    }
  }

  /**
   * With two threads, a batch of several images is split into two slices walked on two threads in step (each
   * under a confinement opened and closed on its thread, the caller's last), and everything comes out as with
   * one thread, bit for bit: the samples, and what the listener saw of the whole batch at every step (the
   * slices joined; an operation on them computes on a joined copy, released after the listener returns).
   */
  @Test
  void aBatchSplitOverTwoThreadsGivesTheSameBitsAndTheListenerTheWholeBatch() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(40));
    NoisePredictor oracle = gaussianOracle(sch, 0.1, 0.5);
    for (Sampler sampler : samplers(sch)) {
      for (NoiseVersion v : NoiseVersion.values()) {
        SamplingRequest r =
            new SamplingRequest(7, Shape.of(1, 2, 2), 31, Timesteps.trailing(40, 13), java.util.Optional.empty(), 5, v);
        Recorder oneSaw = new Recorder();
        Recorder twoSaw = new Recorder();
        TwoThreads two = new TwoThreads();
        Set<String> modelThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();
        List<Integer> batches = java.util.Collections.synchronizedList(new ArrayList<>());
        int live = REF.liveTensors();
        try (TensorScope scope = REF.openScope()) {
          float[] one = sampler.sample(oracle, REF, r, oneSaw).toFloatArray();
          float[] twoThreads = sampler.sample((x, t) -> {
            modelThreads.add(Thread.currentThread().getName());
            batches.add(x.shape().batch());
            return oracle.predict(x, t);
          }, two, r, twoSaw).toFloatArray();
          assertArrayEquals(one, twoThreads, sampler.name() + ", noise version " + v.number());
        }
        assertEquals(live, REF.liveTensors(), "every tensor of the run is released");
        assertEquals(oneSaw.seen.size(), twoSaw.seen.size());
        for (int i = 0; i < oneSaw.seen.size(); i++) {
          assertArrayEquals(oneSaw.seen.get(i), twoSaw.seen.get(i), sampler.name() + ", what the listener saw #" + i);
        }
        assertEquals(Set.of(Thread.currentThread().getName(), "diffusion4j-slice"), modelThreads);
        assertEquals(Set.of(3, 4), Set.copyOf(batches), "slices of 3 and 4 images");
        String caller = Thread.currentThread().getName();
        assertEquals(4, two.confinements.size(), two.confinements.toString());
        assertEquals("open " + caller, two.confinements.get(0));
        assertEquals("close " + caller, two.confinements.get(3), "the caller's confinement is closed last");
        assertTrue(two.confinements.containsAll(List.of("open diffusion4j-slice", "close diffusion4j-slice")));
      }
    }
  }

  /**
   * What a sampler hands back is checked at the step that made it, naming the sampler: no sample, or one of
   * another shape, would otherwise surface as the model's wrong input at the next step (or an index error past
   * the last). A plan made for another number of training timesteps is refused by the built-in samplers and
   * the schedule, and a step context's index must be a position of its plan. Nothing is left allocated.
   */
  @Test
  void aSamplersBrokenResultsAndAPlanOfAnotherScheduleAreNamedWhereTheyHappen() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(40));
    NoisePredictor oracle = gaussianOracle(sch, 0.1, 0.5);
    Sampler ddim = samplers(sch).get(1);
    SamplingRequest r = SamplingRequest.of(3, Shape.of(1, 2, 2), 5, Timesteps.trailing(40, 4));
    int live = REF.liveTensors();
    try (TensorScope scope = REF.openScope()) {
      Sampler wrongShape = named("mine", c -> {
        ReverseStepResult d = ddim.step(c);
        return c.index() == 2 ? new ReverseStepResult(REF.zeros(Shape.of(1, 1, 2, 2)), null) : d;
      });
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> wrongShape.sample(oracle, REF, r));
      assertEquals("sampler 'mine', step 3 of 4: returned a sample of shape [1, 1, 2, 2] for a batch of [3, 1, 2, 2]",
          e.getMessage());
      Sampler none = named("empty", c -> new ReverseStepResult(null, null));
      e = assertThrows(IllegalStateException.class, () -> none.sample(oracle, REF, r));
      assertTrue(e.getMessage().startsWith("sampler 'empty', step 1 of 4: returned no sample"), e.getMessage());
      Sampler diverging = named("nan", c -> {
        ReverseStepResult d = ddim.step(c);
        return c.index() == 1 ? new ReverseStepResult(d.prev().mul(Float.NaN), null) : d;
      });
      e = assertThrows(IllegalStateException.class, () -> diverging.sample(oracle, REF, r));
      assertEquals("sampler 'nan': the samples of 4 steps hold NaN or infinite values (a diverged model, or a sampler's "
          + "division by zero); nothing is returned for them", e.getMessage());
      SamplingRequest otherT = SamplingRequest.of(3, Shape.of(1, 2, 2), 5, Timesteps.trailing(20, 4));
      IllegalArgumentException p = assertThrows(IllegalArgumentException.class, () -> ddim.sample(oracle, REF, otherT));
      assertEquals("the plan is made for 20 training timesteps, the schedule has 40; make it with Timesteps.*(40, "
          + "steps)", p.getMessage());
      Tensor x = REF.zeros(Shape.of(3, 1, 2, 2));
      IllegalArgumentException i = assertThrows(IllegalArgumentException.class,
          () -> new StepContext(r.plan(), 4, x, x, () -> x, null));
      assertEquals("step index 4 is outside the plan's [0, 4)", i.getMessage());
      Tensor two = REF.zeros(Shape.of(2, 1, 2, 2));
      assertEquals("initial noise has shape [2, 1, 2, 2], expected [3, 1, 2, 2]",
          assertThrows(IllegalArgumentException.class, () -> r.withInitialNoise(two)).getMessage());
    }
    assertEquals(live, REF.liveTensors(), "every tensor of the failed runs is released");
    assertEquals("timestep 40 is outside [0, 40)",
        assertThrows(IllegalArgumentException.class, () -> sch.alphaBar(40)).getMessage());
    assertEquals("timestep -2 is outside [-1, 40)",
        assertThrows(IllegalArgumentException.class, () -> sch.alphaBarOrOne(-2)).getMessage());
    assertEquals(1.0, sch.alphaBarOrOne(-1));
    assertEquals("position 4 is outside the plan's [0, 4)",
        assertThrows(IllegalArgumentException.class, () -> r.plan().get(4)).getMessage());
  }

  /**
   * A model of the user's own (a TorchScript network, say, whose output comes back flattened or as one item) is
   * checked where its output is taken, naming the walk, the step, the timestep and both shapes: it surfaced as a
   * tensor operation's {@code operand has shape [3, 4], expected [3, 1, 2, 2]} inside the sampler, or as a
   * NullPointerException, with nothing that said the model was at fault. The same for DDIM inversion and the
   * likelihood bound; nothing is left allocated.
   */
  @Test
  void aModelsMissingOrMisshapenOutputIsNamedWhereItIsTaken() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(40));
    SamplingRequest r = SamplingRequest.of(3, Shape.of(1, 2, 2), 5, Timesteps.trailing(40, 4));
    NoisePredictor flat = (x, t) -> x.reshape(Shape.of(3, 4));
    NoisePredictor one = (x, t) -> REF.zeros(Shape.of(1, 1, 2, 2));
    NoisePredictor none = (x, t) -> null;
    int live = REF.liveTensors();
    try (TensorScope scope = REF.openScope()) {
      for (Sampler s : samplers(sch)) {
        String at = "sampler '" + s.name() + "', step 1 of 4 (timestep 39): ";
        assertEquals(at + "the model returned an output of shape [3, 4] for a batch of [3, 1, 2, 2] (a "
            + "NoisePredictor returns its input's shape)",
            assertThrows(IllegalStateException.class, () -> s.sample(flat, REF, r)).getMessage());
        assertEquals(at + "the model returned an output of shape [1, 1, 2, 2] for a batch of [3, 1, 2, 2] (a "
            + "NoisePredictor returns its input's shape)",
            assertThrows(IllegalStateException.class, () -> s.sample(one, REF, r)).getMessage());
        assertEquals(at + "the model returned no output",
            assertThrows(IllegalStateException.class, () -> s.sample(none, REF, r)).getMessage());
      }
      Tensor x0 = REF.zeros(Shape.of(3, 1, 2, 2));
      assertEquals("DDIM inversion, step 1 of 4 (timestep 9): the model returned an output of shape [3, 4] for a "
          + "batch of [3, 1, 2, 2] (a NoisePredictor returns its input's shape)",
          assertThrows(IllegalStateException.class,
              () -> new DdimInversion(sch, PredictionType.EPSILON).invert(flat, REF, x0, r.plan())).getMessage());
      io.github.diffusion4j.eval.VariationalBound bound = new io.github.diffusion4j.eval.VariationalBound(sch,
          PredictionType.EPSILON, VarianceType.FIXED_SMALL, false);
      float[] values = new float[12];
      assertEquals("likelihood bound: the model returned an output of shape [1, 1, 2, 2] for a batch of "
          + "[3, 1, 2, 2] (a NoisePredictor returns its input's shape)",
          assertThrows(IllegalStateException.class, () -> bound.terms(one, REF, Shape.of(1, 2, 2), values,
              new int[] {1, 2, 3}, values, new double[3], null)).getMessage());
    }
    assertEquals(live, REF.liveTensors(), "every tensor of the failed runs is released");
  }

  /**
   * A sampler may leave out the predicted x0 only where its step context says no one reads it: one that leaves it
   * out while a listener reads it is named at the step, on one thread and on a batch split over two, and the
   * listener never sees a null; with a listener that does not read it the same sampler runs. Nothing is left
   * allocated.
   */
  @Test
  void aSamplerThatLeavesOutThePredictedX0AListenerReadsIsNamedAtTheStep() {
    Sampler ddim = samplers(SPLIT_SCHEDULE).get(1);
    Sampler noX0 = named("mine", c -> new ReverseStepResult(ddim.step(c).prev(), null));
    SamplingListener reads = (i, plan, result) -> result.predictedX0().shape();
    int live = REF.liveTensors();
    TwoThreads two = new TwoThreads();
    try (TensorScope scope = REF.openScope()) {
      NoisePredictor oracle = gaussianOracle(SPLIT_SCHEDULE, 0.1, 0.5);
      SamplingRequest r = SPLIT_BATCH;
      for (TensorFactory tensors : List.of(REF, two)) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> noX0.sample(oracle, tensors, r, reads));
        assertEquals("sampler 'mine', step 1 of 13: returned no predicted x0, which a listener reads "
            + "(StepContext.predictedX0Wanted() was true)", e.getMessage());
        SamplingListener progress = new SamplingListener() {
          @Override
          public void onStep(int i, Timesteps plan, ReverseStepResult result) {}

          @Override
          public boolean readsPredictedX0() {
            return false;
          }
        };
        noX0.sample(oracle, tensors, r, progress).close();
      }
    }
    assertEquals(live, REF.liveTensors(), "every tensor of the failed runs is released");
  }

  /**
   * A failure on a slice's thread reaches the caller as it was thrown; both slices' tensors are released and
   * both confinements closed, and the next run on the same threads gives the one-thread samples.
   */
  @Test
  void aFailureOnASliceThreadReachesTheCallerAndReleasesEverything() {
    NoisePredictor oracle = gaussianOracle(SPLIT_SCHEDULE, 0.1, 0.5);
    Sampler ddpm = samplers(SPLIT_SCHEDULE).get(0);
    SamplingRequest r = SPLIT_BATCH;
    TwoThreads two = new TwoThreads();
    int live = REF.liveTensors();
    try (TensorScope scope = REF.openScope()) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> ddpm.sample((x, t) -> {
        if (t[0] < 20 && Thread.currentThread().getName().equals("diffusion4j-slice")) {
          throw new IllegalStateException("model failed");
        }
        return oracle.predict(x, t);
      }, two, r));
      assertEquals("model failed", e.getMessage());
    }
    assertReleased(two, live, "a helper's failure");
    try (TensorScope scope = REF.openScope()) {
      assertArrayEquals(ddpm.sample(oracle, REF, r).toFloatArray(), ddpm.sample(oracle, two, r).toFloatArray());
    }
    assertEquals(live, REF.liveTensors());
  }

  /**
   * A failure on the caller's own slice reaches the caller too, once both slices' steps have ended; where both
   * slices fail, the caller's failure is thrown with the helper's suppressed in it (neither is lost). Every tensor is
   * released and both confinements are closed.
   */
  @Test
  void aFailureOnTheCallersSliceOrOnBothReachesTheCallerWithTheOtherSuppressed() {
    NoisePredictor oracle = gaussianOracle(SPLIT_SCHEDULE, 0.1, 0.5);
    Sampler ddpm = samplers(SPLIT_SCHEDULE).get(0);
    SamplingRequest r = SPLIT_BATCH;
    String caller = Thread.currentThread().getName();
    for (boolean both : new boolean[] {false, true}) {
      TwoThreads two = new TwoThreads();
      int live = REF.liveTensors();
      try (TensorScope scope = REF.openScope()) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ddpm.sample((x, t) -> {
          String name = Thread.currentThread().getName();
          if (t[0] < 20 && (name.equals(caller) || both)) {
            throw new IllegalStateException("model failed on " + name);
          }
          return oracle.predict(x, t);
        }, two, r));
        assertEquals("model failed on " + caller, e.getMessage(), "both " + both);
        assertEquals(both ? List.of("model failed on diffusion4j-slice") : List.of(),
            java.util.Arrays.stream(e.getSuppressed()).map(Throwable::getMessage).toList(), "both " + both);
      }
      assertReleased(two, live, "both " + both);
    }
  }

  /**
   * A checked exception from the model (Kotlin code declares none, and Java code may throw one sneakily) reaches the
   * caller as it was thrown, on either slice: a helper's was dropped (its step taken as done, with no result) and the
   * caller's left the helper's step unawaited. Every tensor is released and both confinements are closed.
   */
  @Test
  void aCheckedFailureOnEitherSliceReachesTheCallerAndReleasesEverything() {
    NoisePredictor oracle = gaussianOracle(SPLIT_SCHEDULE, 0.1, 0.5);
    Sampler ddpm = samplers(SPLIT_SCHEDULE).get(0);
    SamplingRequest r = SPLIT_BATCH;
    String caller = Thread.currentThread().getName();
    for (String failing : List.of("diffusion4j-slice", caller)) {
      TwoThreads two = new TwoThreads();
      int live = REF.liveTensors();
      java.io.IOException io = new java.io.IOException("model failed on " + failing);
      try (TensorScope scope = REF.openScope()) {
        assertSame(io, assertThrows(java.io.IOException.class, () -> ddpm.sample((x, t) -> {
          if (t[0] < 20 && Thread.currentThread().getName().equals(failing)) {
            throw SamplerMathTest.<RuntimeException>sneaky(io);
          }
          return oracle.predict(x, t);
        }, two, r)));
      }
      assertReleased(two, live, "failing " + failing);
    }
  }

  /**
   * Checks that a failed run split over two threads released every tensor and closed both confinements, the
   * caller's last.
   */
  private static void assertReleased(TwoThreads two, int live, String what) {
    assertEquals(live, REF.liveTensors(), "every tensor of the failed run is released, " + what);
    assertEquals(4, two.confinements.size(), two.confinements.toString());
    assertEquals("close " + Thread.currentThread().getName(), two.confinements.get(3), what);
  }

  /** Throws a checked exception where the compiler would not let Java code throw it, as Kotlin code can. */
  @SuppressWarnings("unchecked")
  static <E extends Throwable> E sneaky(Throwable t) throws E {
    throw (E) t;
  }

  /**
   * An interrupt of the caller during a batch split over two threads ends the run before the next step, as with one
   * thread: the helper's step is interrupted too and awaited, the caller stays interrupted, everything is released, and
   * the next run on the same threads gives the one-thread samples.
   */
  @Test
  void anInterruptDuringASplitBatchEndsTheRunBeforeTheNextStep() {
    NoisePredictor oracle = gaussianOracle(SPLIT_SCHEDULE, 0.1, 0.5);
    Sampler ddpm = samplers(SPLIT_SCHEDULE).get(0);
    SamplingRequest r = SPLIT_BATCH;
    String caller = Thread.currentThread().getName();
    TwoThreads two = new TwoThreads();
    int live = REF.liveTensors();
    List<Integer> callerSteps = new ArrayList<>();
    try (TensorScope scope = REF.openScope()) {
      java.util.concurrent.CancellationException e = assertThrows(java.util.concurrent.CancellationException.class,
          () -> ddpm.sample((x, t) -> {
            if (Thread.currentThread().getName().equals(caller)) {
              callerSteps.add(t[0]);
              if (callerSteps.size() == 3) {
                Thread.currentThread().interrupt();
              }
            }
            return oracle.predict(x, t);
          }, two, r));
      assertTrue(Thread.interrupted(), "the interrupt is kept");
      assertEquals("sampler 'ddpm': interrupted before step 4 of 13", e.getMessage());
      assertEquals(3, callerSteps.size(), "no step after the interrupted one");
    }
    assertEquals(live, REF.liveTensors(), "every tensor of the interrupted run is released");
    assertEquals(4, two.confinements.size(), two.confinements.toString());
    try (TensorScope scope = REF.openScope()) {
      assertArrayEquals(ddpm.sample(oracle, REF, r).toFloatArray(), ddpm.sample(oracle, two, r).toFloatArray());
    }
    assertEquals(live, REF.liveTensors());
  }

  /**
   * Without a listener that reads the predicted {@code x_0} (none, or one whose {@code readsPredictedX0()} is
   * false) the built-in samplers skip it: the listener sees null for it, the samples are the same bits as with a
   * listener that reads it, with one thread and with two, and every tensor of the run is released. With clipping
   * the step needs {@code x_0} itself, and computes it either way.
   */
  @Test
  void thePredictedX0IsSkippedWhereNoOneReadsItAndTheSamplesAreTheSame() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(40));
    NoisePredictor oracle = gaussianOracle(sch, 0.1, 0.5);
    List<Sampler> all = new ArrayList<>(samplers(sch));
    all.add(new DdpmSampler(sch, PredictionType.EPSILON, VarianceType.FIXED_SMALL, SampleClipping.clip(1.0), REF));
    for (int k = 0; k < all.size(); k++) {
      Sampler sampler = all.get(k);
      boolean clipped = k == 2 || k == all.size() - 1; // samplers(sch)'s DDIM with eta 0.7, and the DDPM added
      SamplingRequest r = SamplingRequest.of(7, Shape.of(1, 2, 2), 31, Timesteps.trailing(40, 13));
      for (TensorFactory f : List.of((TensorFactory) REF, new TwoThreads())) {
        List<float[]> prevs = new ArrayList<>();
        List<Boolean> skipped = new ArrayList<>();
        SamplingListener samplesOnly = new SamplingListener() {
          @Override
          public void onStep(int index, Timesteps plan, ReverseStepResult result) {
            prevs.add(result.prev().toFloatArray());
            skipped.add(result.predictedX0() == null);
          }

          @Override
          public boolean readsPredictedX0() {
            return false;
          }
        };
        Recorder reads = new Recorder();
        int live = REF.liveTensors();
        try (TensorScope scope = REF.openScope()) {
          float[] withX0 = sampler.sample(oracle, f, r, reads).toFloatArray();
          String what = sampler.name() + (clipped ? " (clipped)" : "") + ", threads " + f.threads();
          assertArrayEquals(withX0, sampler.sample(oracle, f, r, samplesOnly).toFloatArray(), what);
          assertArrayEquals(withX0, sampler.sample(oracle, f, r, SamplingListener.NONE).toFloatArray(), what);
          assertEquals(13, prevs.size());
          for (int i = 0; i < prevs.size(); i++) {
            assertArrayEquals(reads.seen.get(1 + 4 * i), prevs.get(i), what + ", step " + i);
            assertEquals(!clipped, skipped.get(i), what + ", step " + i + ": x0 skipped");
          }
        }
        assertEquals(live, REF.liveTensors(), "every tensor of the runs is released");
      }
    }
  }

  /** A sampler of a name whose step is given. */
  private static Sampler named(String name, java.util.function.Function<StepContext, ReverseStepResult> step) {
    return new Sampler() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public ReverseStepResult step(StepContext c) {
        return step.apply(c);
      }
    };
  }
}
