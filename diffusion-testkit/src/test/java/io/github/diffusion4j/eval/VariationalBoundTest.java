package io.github.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.data.InMemoryDataset;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.ReferenceBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * The bound's wiring on toy models whose terms are known in closed form, the estimate's unbiasedness, and
 * its independence of batching. Agreement with the authors' code on real weights is
 * {@code VariationalBoundContractTest}.
 */
class VariationalBoundTest {
  private static final double LN2 = Math.log(2);
  private static final Shape IMAGE = Shape.of(3, 5, 5);
  private final ReferenceBackend backend = new ReferenceBackend();

  /** One gradient image, rounded to 8 bits. */
  private static InMemoryDataset oneImage() {
    float[] x = GradientImages.dataset(1, IMAGE, Noise.seeded(4)).head(1);
    for (int j = 0; j < x.length; j++) {
      x[j] = (float) GaussianTerms.level(x[j]);
    }
    return new InMemoryDataset(IMAGE, x);
  }

  /** A sample-predicting model that returns the image plus an offset that depends only on t. */
  private NoisePredictor offsetPredictor(float[] image, IntToDoubleFunction offset) {
    return (noisy, ts) -> {
      int d = IMAGE.size();
      float[] out = new float[ts.length * d];
      for (int i = 0; i < ts.length; i++) {
        for (int j = 0; j < d; j++) {
          out[i * d + j] = (float) (image[j] + offset.applyAsDouble(ts[i]));
        }
      }
      return backend.fromArray(out, noisy.shape());
    };
  }

  private static double posteriorVariance(Schedule s, int t) {
    return s.beta(t) * (1 - s.alphaBarOrOne(t - 1)) / (1 - s.alphaBar(t));
  }

  @Test
  void aPerfectX0PredictorHasZeroKlTermsAndTheClosedFormDecoderAndPrior() {
    Schedule s = Schedule.of(ScheduleSpec.linear(40));
    InMemoryDataset data = oneImage();
    float[] x0 = data.head(1);
    VariationalBound bound = new VariationalBound(s, PredictionType.SAMPLE, VarianceType.FIXED_SMALL, true);
    BoundReport r = bound.evaluate(offsetPredictor(x0, t -> 0), backend, data, BoundOptions.full(8, 1),
        BoundListener.NONE);
    // the model's float32 output differs from the double-precision level by < 6e-8, which costs at most
    // coef1^2 / beta~ (~1e4 at t = 1) * (6e-8)^2 / 2 ~ 2e-11 nats
    for (BoundTerm t : r.terms().subList(1, 40)) {
      assertEquals(0.0, t.bpd(), 1e-10, "KL at t = " + t.t() + ": the model's step is the true posterior");
      assertEquals(0.0, t.x0Mse(), 1e-14);
    }
    assertEquals(0.0, r.klBpd(), 1e-9);
    // the decoder: mean x0 (coef1 = 1, coef2 = 0 at t = 0), sigma^2 = beta~_1
    double sigma = Math.sqrt(posteriorVariance(s, 1));
    double nats = 0;
    for (float v : x0) {
      double p = v < -0.999 ? GaussianTerms.approxStandardNormalCdf(1 / 255.0 / sigma)
          : v > 0.999 ? 1 - GaussianTerms.approxStandardNormalCdf(-1 / 255.0 / sigma)
          : 2 * GaussianTerms.approxStandardNormalCdf(1 / 255.0 / sigma) - 1;
      nats -= Math.log(p);
    }
    assertEquals(nats / x0.length / LN2, r.decoderBpd(), 1e-9);
    // the prior: KL(N(sqrt(abar) x0, 1 - abar) || N(0, 1)) per pixel
    double ab = s.alphaBar(39);
    double prior = 0;
    for (float v : x0) {
      double x = GaussianTerms.level(v);
      prior += 0.5 * (-1 - Math.log(1 - ab) + (1 - ab) + ab * x * x);
    }
    assertEquals(prior / x0.length / LN2, r.priorBpd(), 1e-12);
    assertEquals(r.priorBpd() + r.decoderBpd(), r.totalBpd(), 1e-9);
    assertEquals(1, r.images());
    assertEquals(0.0, r.totalStdDev());
  }

  @Test
  void fixedLargeCostsTheVarianceMismatchAtEveryStep() {
    // with the true mean, the KL term is only the variance mismatch: 0.5 (r - 1 - ln r), r = beta~_t / beta_t
    Schedule s = Schedule.of(ScheduleSpec.linear(30));
    InMemoryDataset data = oneImage();
    BoundReport r = new VariationalBound(s, PredictionType.SAMPLE, VarianceType.FIXED_LARGE, false)
        .evaluate(offsetPredictor(data.head(1), t -> 0), backend, data, BoundOptions.full(1, 2), BoundListener.NONE);
    for (int t = 1; t < 30; t++) {
      double ratio = posteriorVariance(s, t) / s.beta(t);
      assertEquals(0.5 * (ratio - 1 - Math.log(ratio)) / LN2, r.terms().get(t).bpd(), 1e-12, "t = " + t);
    }
  }

  @Test
  void theEstimateIsUnbiased() {
    // x0 off by delta(t): KL_t = coef1_t^2 delta_t^2 / (2 beta~_t), the same for every x_t, so the full bound
    // is one number and the estimate's mean over independent timestep draws must approach it
    Schedule s = Schedule.of(ScheduleSpec.linear(50));
    InMemoryDataset data = oneImage();
    NoisePredictor model = offsetPredictor(data.head(1), t -> 0.002 * (1 + t % 4));
    VariationalBound bound = new VariationalBound(s, PredictionType.SAMPLE, VarianceType.FIXED_SMALL, false);
    double full = bound.evaluate(model, backend, data, BoundOptions.full(1, 0), BoundListener.NONE).totalBpd();
    int n = 600;
    double sum = 0;
    double sq = 0;
    for (int seed = 0; seed < n; seed++) {
      BoundReport e = bound.evaluate(model, backend, data, new BoundOptions(0, 1, seed, 5), BoundListener.NONE);
      assertTrue(e.isEstimate());
      sum += e.totalBpd();
      sq += e.totalBpd() * e.totalBpd();
    }
    double mean = sum / n;
    double se = Math.sqrt((sq / n - mean * mean) / (n - 1));
    assertTrue(se > 0, "the draws vary");
    assertTrue(Math.abs(mean - full) < 4 * se, "mean estimate " + mean + " +- " + se + ", full bound " + full);
    assertTrue(se < 0.05 * full, "a useful estimate: standard error " + se + " of " + full);
  }

  @Test
  void allTimestepsAsAnEstimateIsTheFullBoundAndBatchingChangesNothing() {
    Schedule s = Schedule.of(new ScheduleSpec(20, 1e-4, 0.05, BetaSchedule.LINEAR, false));
    MlpSpec spec = new MlpSpec(IMAGE, 20, 16);
    Dataset data = GradientImages.dataset(7, IMAGE, Noise.seeded(8));
    VariationalBound bound = new VariationalBound(s, PredictionType.EPSILON, VarianceType.FIXED_LARGE, true);
    try (TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 3)) {
      int before = backend.liveTensors();
      double[] all = perImage(bound, m, data, new BoundOptions(0, 7, 5, 0));
      assertEquals(before, backend.liveTensors(), "every tensor is released with its scope");
      assertArrayEquals(all, perImage(bound, m, data, new BoundOptions(0, 7, 5, 20)), 0.0, "K = T");
      assertArrayEquals(all, perImage(bound, m, data, new BoundOptions(0, 1, 5, 0)), 1e-12, "batch 1");
      assertArrayEquals(all, perImage(bound, m, data, new BoundOptions(0, 3, 5, 0)), 1e-12, "batch 3");
      assertArrayEquals(Arrays.copyOf(all, 4), perImage(bound, m, data, new BoundOptions(4, 3, 5, 0)), 1e-12,
          "the first 4 images");
      double[] other = perImage(bound, m, data, new BoundOptions(0, 7, 6, 0));
      assertTrue(Math.abs(other[0] - all[0]) > 1e-9, "another seed draws other noise");
      double[] estimate = perImage(bound, m, data, new BoundOptions(0, 2, 5, 6));
      assertArrayEquals(estimate, perImage(bound, m, data, new BoundOptions(0, 7, 5, 6)), 1e-12, "estimate, batches");
    }
  }

  private double[] perImage(VariationalBound bound, NoisePredictor m, Dataset data, BoundOptions options) {
    List<Double> out = new ArrayList<>();
    long[] progress = new long[2];
    BoundReport r = bound.evaluate(m, backend, data, options, new BoundListener() {
      @Override
      public void onProgress(long done, long total) {
        assertTrue(done > progress[0] && done <= total);
        progress[0] = done;
        progress[1] = total;
      }

      @Override
      public void onImages(int first, double[] totalBpd) {
        assertEquals(out.size(), first);
        assertTrue(totalBpd.length <= options.batchSize());
        for (double v : totalBpd) {
          out.add(v);
        }
      }
    });
    assertEquals(progress[1], progress[0], "progress ends at the total");
    assertEquals((long) r.images() * r.timestepsPerImage(), progress[1]);
    double mean = out.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    assertEquals(mean, r.totalBpd(), 1e-12);
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }

  @Test
  void imagesAreStreamedABatchAtATime() {
    // 100,000 images that exist only while they are read: the evaluation asks for each once, a batch at a
    // time, and keeps nothing per image (its memory is the batch and T accumulators)
    int n = 100_000;
    int[] reads = new int[1];
    Dataset virtual = new Dataset() {
      @Override
      public int size() {
        return n;
      }

      @Override
      public Shape imageShape() {
        return IMAGE;
      }

      @Override
      public void copyImage(int index, float[] dst, int offset) {
        reads[0]++;
        Arrays.fill(dst, offset, offset + IMAGE.size(), (index % 256) / 127.5f - 1f);
      }
    };
    Schedule s = Schedule.of(ScheduleSpec.linear(2));
    NoisePredictor zero = (noisy, ts) -> backend.zeros(noisy.shape());
    int[] largest = new int[1];
    BoundReport r = new VariationalBound(s, PredictionType.EPSILON, VarianceType.FIXED_SMALL, true)
        .evaluate(zero, backend, virtual, BoundOptions.full(500, 1), new BoundListener() {
          @Override
          public void onImages(int first, double[] totalBpd) {
            largest[0] = Math.max(largest[0], totalBpd.length);
          }
        });
    assertEquals(n, reads[0]);
    assertEquals(500, largest[0]);
    assertEquals(n, r.images());
    assertEquals(n, r.terms().get(1).count());
    assertTrue(Double.isFinite(r.totalBpd()) && r.totalBpd() > 0);
  }

  @Test
  void badSettingsAreRefusedWithTheReason() {
    Schedule s = Schedule.of(ScheduleSpec.linear(10));
    String tutorial = assertThrows(IllegalArgumentException.class,
        () -> new VariationalBound(s, PredictionType.EPSILON, VarianceType.TUTORIAL, true)).getMessage();
    assertTrue(tutorial.contains("fixed_small and fixed_large"), tutorial);
    Schedule zeroSnr = Schedule.of(new ScheduleSpec(10, 1e-4, 0.02, BetaSchedule.LINEAR, true));
    assertThrows(IllegalArgumentException.class,
        () -> new VariationalBound(zeroSnr, PredictionType.EPSILON, VarianceType.FIXED_SMALL, true));
    // sample and v prediction need no division by sqrt(alphaBar): the zero-SNR prior term is exactly 0
    InMemoryDataset data = oneImage();
    BoundReport v = new VariationalBound(zeroSnr, PredictionType.V_PREDICTION, VarianceType.FIXED_LARGE, true)
        .evaluate((noisy, ts) -> backend.zeros(noisy.shape()), backend, data, BoundOptions.full(1, 1), BoundListener.NONE);
    assertEquals(0.0, v.priorBpd(), 0.0);
    assertTrue(Double.isFinite(v.totalBpd()));

    VariationalBound bound = new VariationalBound(s, PredictionType.EPSILON, VarianceType.FIXED_SMALL, true);
    NoisePredictor zero = (noisy, ts) -> backend.zeros(noisy.shape());
    String k = assertThrows(IllegalArgumentException.class,
        () -> bound.evaluate(zero, backend, data, new BoundOptions(0, 1, 1, 11), BoundListener.NONE)).getMessage();
    assertTrue(k.contains("[2, 10]"), k);
    assertThrows(IllegalArgumentException.class, () -> new BoundOptions(0, 1, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new BoundOptions(0, 0, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new BoundOptions(-1, 1, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> bound.terms(zero, backend, IMAGE, new float[75], new int[] {10},
        new float[75], new double[1], null));
    assertThrows(IllegalArgumentException.class, () -> bound.terms(zero, backend, IMAGE, new float[75], new int[] {1, 2},
        new float[150], new double[2], null));
  }

  @Test
  void theReportWritesJson() {
    Schedule s = Schedule.of(ScheduleSpec.linear(4));
    InMemoryDataset data = oneImage();
    BoundReport r = new VariationalBound(s, PredictionType.EPSILON, VarianceType.FIXED_SMALL, true)
        .evaluate((noisy, ts) -> backend.zeros(noisy.shape()), backend, data, new BoundOptions(0, 1, 3, 2),
            BoundListener.NONE);
    assertTrue(r.toJson().startsWith("{\"bpd\": " + r.totalBpd() + ", "), r.toJson());
    assertTrue(r.toJson().contains("\"estimate\": true, \"timesteps_per_image\": 2"), r.toJson());
    List<String> lines = r.termLines();
    // the decoder, the one KL term drawn, the prior
    assertEquals(3, lines.size(), lines.toString());
    assertTrue(lines.get(0).startsWith("{\"term\": \"decoder\", \"t\": 0, "), lines.get(0));
    assertTrue(lines.get(2).startsWith("{\"term\": \"prior\", \"t\": 4, "), lines.get(2));
    assertTrue(r.toString().contains("estimate from 2 of 4 timesteps"), r.toString());
  }

  @Test
  void aModelGivenTheDocumentedNoiseRecoversTheImageFromTheDocumentedXt() {
    // x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, eps from split(NOISE_STREAM).split(t).split(i): an epsilon
    // model that returns that very eps predicts x0 up to x_t's float32 rounding (~6e-8 / sqrt(abar) <= 1e-7),
    // so every KL term is at most coef1^2 / beta~ (~1e4) * (1e-7)^2 / 2 ~ 1e-10 nats. Any other x_t leaves an
    // error of order eps.
    Schedule s = Schedule.of(ScheduleSpec.linear(20));
    InMemoryDataset data = oneImage();
    long seed = 11;
    int d = IMAGE.size();
    NoisePredictor eps = (noisy, ts) -> {
      float[] out = new float[ts.length * d];
      for (int i = 0; i < ts.length; i++) {
        Noise.seeded(seed).split(VariationalBound.NOISE_STREAM).split(ts[i]).split(i).fillNormal(out, i * d, d);
      }
      return backend.fromArray(out, noisy.shape());
    };
    BoundReport r = new VariationalBound(s, PredictionType.EPSILON, VarianceType.FIXED_SMALL, false)
        .evaluate(eps, backend, data, new BoundOptions(1, 1, seed, 0), BoundListener.NONE);
    for (BoundTerm t : r.terms().subList(1, 20)) {
      assertEquals(0.0, t.bpd(), 1e-9, "KL at t = " + t.t());
      assertEquals(0.0, t.x0Mse(), 1e-12, "x0 at t = " + t.t());
    }
  }

  @Test
  void anOffsetX0CostsTheClosedFormKlAndTheReportAddsTheTermsUp() {
    // a sample model off by delta everywhere, unclipped: the two means differ by coef1_t delta with
    // coef1_t = beta_t sqrt(abar_(t-1)) / (1 - abar_t) (Ho et al. eq. 7) and equal variances beta~_t, so
    // KL_t = coef1_t^2 delta^2 / (2 beta~_t) per pixel, independent of x_t. The float32 output (delta = 0.01 on
    // values below 1 + delta: relative error 6e-8) makes the term exact to ~1e-7 relative.
    Schedule s = Schedule.of(ScheduleSpec.linear(12));
    double delta = 0.01;
    float[] all = GradientImages.dataset(3, IMAGE, Noise.seeded(8)).head(3);
    for (int j = 0; j < all.length; j++) {
      all[j] = (float) GaussianTerms.level(all[j]);
    }
    InMemoryDataset data = new InMemoryDataset(IMAGE, all);
    int d = IMAGE.size();
    NoisePredictor offset = (noisy, ts) -> {
      // the batch is the whole set here (batch size 3): item i is image i
      float[] out = new float[ts.length * d];
      for (int j = 0; j < out.length; j++) {
        out[j] = (float) (all[j] + delta);
      }
      return backend.fromArray(out, noisy.shape());
    };
    List<Double> perImage = new ArrayList<>();
    BoundReport r = new VariationalBound(s, PredictionType.SAMPLE, VarianceType.FIXED_SMALL, false)
        .evaluate(offset, backend, data, new BoundOptions(0, 3, 2, 0), new BoundListener() {
          @Override
          public void onProgress(long done, long total) {}

          @Override
          public void onImages(int first, double[] totalBpd) {
            for (double v : totalBpd) {
              perImage.add(v);
            }
          }
        });
    double kl = 0;
    for (int t = 1; t < 12; t++) {
      double coef1 = s.beta(t) * Math.sqrt(s.alphaBar(t - 1)) / (1 - s.alphaBar(t));
      double expected = coef1 * coef1 * delta * delta / (2 * posteriorVariance(s, t)) / LN2;
      assertEquals(expected, r.terms().get(t).bpd(), 1e-6 * expected, "t = " + t);
      assertEquals(delta * delta, r.terms().get(t).x0Mse(), 1e-8, "x0 error at t = " + t);
      assertEquals(3, r.terms().get(t).count());
      kl += expected;
    }
    assertEquals(kl, r.klBpd(), 1e-6 * kl, "the KL part is the sum of the terms, averaged over the images");
    // the per-image totals the listener saw: their mean and sample standard deviation are the report's
    assertEquals(3, perImage.size());
    double mean = (perImage.get(0) + perImage.get(1) + perImage.get(2)) / 3;
    double ss = 0;
    for (double v : perImage) {
      ss += (v - mean) * (v - mean);
    }
    assertEquals(mean, r.totalBpd(), 1e-12);
    assertTrue(ss > 0, "the images differ");
    assertEquals(Math.sqrt(ss / 2), r.totalStdDev(), 1e-9 * Math.sqrt(ss));
    assertEquals(r.totalStdDev() / Math.sqrt(3), r.standardError(), 1e-15);
    assertEquals(r.priorBpd() + r.decoderBpd() + r.klBpd(), r.totalBpd(), 1e-9);
    assertTrue(!r.isEstimate() && r.timestepsPerImage() == 12);
  }
}
