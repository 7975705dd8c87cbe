package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.diffusion4j.data.InMemoryDataset;
import io.github.diffusion4j.eval.BoundListener;
import io.github.diffusion4j.eval.BoundOptions;
import io.github.diffusion4j.eval.BoundReport;
import io.github.diffusion4j.eval.BoundTerm;
import io.github.diffusion4j.eval.VariationalBound;
import io.github.diffusion4j.io.SafeTensors;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The variational bound on the backend against the reference written from the DDPM authors' code
 * ({@code docs/bpd_reference.py}, golden file {@code bpd/bpd_golden.json}): the same MLP weights (trained
 * briefly in PyTorch, loaded from safetensors), the same seven images and the same seed give the same
 * per-term values, per-image totals, prior, decoder term and x0 errors, for epsilon, x0 and v prediction,
 * both fixed variances, with and without clipping, in full and as an estimate.
 *
 * <p>Tolerance: {@code 1e-5 * max(1, |value|)}. The only float32 arithmetic is the model (its output differs
 * between engines and the float64 reference by ~1e-7 relative, summation order); the rest is double
 * precision on both sides. A KL term at small {@code t} amplifies an output difference by up to
 * {@code coef1^2 / sigma^2} (~1e4 for the cosine schedule's first steps) but is then itself of that size,
 * so the relative difference of a large term stays near 1e-7; terms of a few bits or less are held to 1e-5
 * absolute.
 */
public abstract class VariationalBoundContractTest extends BackendFixture {
  private static final String DIR = "bpd/";
  private static final double TOL = 1e-5;

  /** One case of the golden file. */
  record Case(String name, String weights, PredictionType prediction, ScheduleSpec schedule, VarianceType variance,
      boolean clip, int timesteps, long seed, double[] terms, long[] counts, double[] x0Mse, double[] prior,
      double[] decoder, double[] total) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static final JsonNode GOLDEN = read();

  private static JsonNode read() {
    try (InputStream in = resource("bpd_golden.json")) {
      return new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static InputStream resource(String name) {
    InputStream in = VariationalBoundContractTest.class.getResourceAsStream(DIR + name);
    if (in == null) {
      throw new IllegalStateException(DIR + name + " is not on the class path");
    }
    return in;
  }

  static Stream<Case> cases() {
    List<Case> out = new ArrayList<>();
    for (JsonNode c : GOLDEN.get("cases")) {
      BetaSchedule bs = BetaSchedule.fromConfigName(c.get("beta_schedule").asText()).orElseThrow();
      ScheduleSpec spec = new ScheduleSpec(c.get("num_train_timesteps").asInt(), c.get("beta_start").asDouble(),
          c.get("beta_end").asDouble(), bs, false);
      out.add(new Case(c.get("name").asText(), c.get("weights").asText(),
          PredictionType.fromConfigName(c.get("prediction_type").asText()).orElseThrow(), spec,
          VarianceType.fromConfigName(c.get("variance_type").asText()).orElseThrow(), c.get("clip_denoised").asBoolean(),
          c.get("timesteps").asInt(), c.get("seed").asLong(), doubles(c.get("terms")), longs(c.get("counts")),
          doubles(c.get("x0_mse")), doubles(c.get("prior_bpd")), doubles(c.get("decoder_bpd")),
          doubles(c.get("total_bpd"))));
    }
    return out.stream();
  }

  private static double[] doubles(JsonNode a) {
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).isNull() ? Double.NaN : a.get(i).asDouble();
    }
    return out;
  }

  private static long[] longs(JsonNode a) {
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asLong();
    }
    return out;
  }

  private static Shape imageShape() {
    JsonNode s = GOLDEN.get("image_shape");
    return Shape.of(s.get(0).asInt(), s.get(1).asInt(), s.get(2).asInt());
  }

  /** The images: 8-bit levels scaled to [-1, 1] as an IDX file would be. */
  private static InMemoryDataset images() {
    JsonNode levels = GOLDEN.get("levels");
    int k = imageShape().size();
    float[] data = new float[levels.size() * k];
    for (int i = 0; i < levels.size(); i++) {
      for (int j = 0; j < k; j++) {
        data[i * k + j] = levels.get(i).get(j).asInt() / 255f * 2f - 1f;
      }
    }
    return new InMemoryDataset(imageShape(), data);
  }

  private static double mean(double[] a) {
    double s = 0;
    for (double v : a) {
      s += v;
    }
    return s / a.length;
  }

  private static void close(double expected, double actual, String what) {
    double tol = TOL * Math.max(1.0, Math.abs(expected));
    assertTrue(Math.abs(expected - actual) <= tol,
        what + ": backend " + actual + ", reference " + expected + " (difference " + (actual - expected) + ")");
  }

  @Test
  void theReferencesNoiseIsThePortableNoise() {
    JsonNode check = GOLDEN.get("noise_check");
    float[] first = Noise.seeded(7).split(VariationalBound.NOISE_STREAM).split(99).split(6).normals(8);
    float[] expected = new float[first.length];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = (float) check.get("first").get(i).asDouble();
    }
    assertArrayEquals(expected, first, "docs/bpd_reference.py's port of the ziggurat normals");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesTheReferenceWrittenFromTheAuthorsCode(Case c) throws IOException {
    int hidden = GOLDEN.get("hidden").asInt();
    MlpSpec spec = new MlpSpec(imageShape(), c.schedule().numTrainTimesteps(), hidden);
    VariationalBound bound = new VariationalBound(Schedule.of(c.schedule()), c.prediction(), c.variance(), c.clip());
    List<double[]> totals = new ArrayList<>();
    BoundReport r;
    try (TrainableModel m = backend.createModel(spec, OptimizerSpec.adam(1e-3), 0);
        InputStream weights = resource(c.weights())) {
      m.loadStateDict(SafeTensors.read(weights.readAllBytes(), c.weights()).tensors());
      // a batch of 4 over 7 images: one full batch and one partial
      r = bound.evaluate(m, backend.tensors(), images(), new BoundOptions(0, 4, c.seed(), c.timesteps()),
          new BoundListener() {
            @Override
            public void onImages(int first, double[] totalBpd) {
              totals.add(totalBpd.clone());
            }
          });
    }
    int n = c.total().length;
    assertEquals(n, r.images());
    assertEquals(c.timesteps() == 0, !r.isEstimate());
    int image = 0;
    for (double[] batch : totals) {
      for (double v : batch) {
        close(c.total()[image], v, c + ": total of image " + image);
        image++;
      }
    }
    assertEquals(n, image);
    for (BoundTerm t : r.terms()) {
      assertEquals(c.counts()[t.t()], t.count(), c + ": evaluations of L_" + t.t());
      if (t.count() > 0) {
        close(c.terms()[t.t()], t.bpd(), c + ": L_" + t.t());
        close(c.x0Mse()[t.t()], t.x0Mse(), c + ": x0 MSE at t = " + t.t());
      }
    }
    close(mean(c.prior()), r.priorBpd(), c + ": prior");
    close(mean(c.decoder()), r.decoderBpd(), c + ": decoder");
    close(mean(c.total()), r.totalBpd(), c + ": total");
    close(mean(c.total()) - mean(c.prior()) - mean(c.decoder()), r.klBpd(), c + ": KL terms");
  }
}
