package io.github.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.NoiseVersion;
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
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Inpainting (RePaint without resampling) as a step constraint: the known region, the regenerated one, the update
 * formula, the noise layout, and the loop's hook.
 */
class InpaintingTest {
  private static final ReferenceBackend REF = SamplerMathTest.REF; // TwoThreads makes its tensors there too
  private final Schedule schedule = Schedule.of(ScheduleSpec.linear(1000));
  private static final Shape IMAGE = Shape.of(3, 4, 4);
  private static final int K = IMAGE.size();
  private static final int HW = 16;

  /**
   * A model that mixes the pixels of an image (the Gaussian oracle, which is per pixel, plus a share of the image's
   * mean), so that the known region steers the rest; computed image by image on the heap, so an image's output is
   * the same bits in any batch.
   */
  private NoisePredictor mixing(TensorFactory tensors) {
    NoisePredictor oracle = GaussianOracle.of(schedule, 0.1, 0.3, REF);
    return (x, ts) -> {
      float[] eps = oracle.predict(x, ts).toFloatArray();
      float[] v = x.toFloatArray();
      for (int i = 0; i < ts.length; i++) {
        double mean = 0;
        for (int j = 0; j < K; j++) {
          mean += v[i * K + j];
        }
        float shift = (float) (0.3 * mean / K);
        for (int j = 0; j < K; j++) {
          eps[i * K + j] += shift;
        }
      }
      return tensors.fromArray(eps, x.shape());
    };
  }

  /** The left half of every picture kept (mask 0), the right half regenerated (mask 1). */
  private static float[] halfMasks(int count) {
    float[] m = new float[count * HW];
    for (int j = 0; j < m.length; j++) {
      m[j] = (j % HW) % 4 >= 2 ? 1 : 0;
    }
    return m;
  }

  private static boolean kept(float[] masks, int sample, int j) {
    return masks[sample * HW + j % HW] == 0;
  }

  /** DDPM, DDIM and a sampler written outside the SDK (a deterministic x0-prediction step of its own). */
  private List<Sampler> samplers() {
    Sampler own = new Sampler() {
      @Override
      public String name() {
        return "users-own";
      }

      @Override
      public ReverseStepResult step(StepContext c) {
        double a = schedule.alphaBar(c.timestep());
        double ap = schedule.alphaBarOrOne(c.prevTimestep());
        float[] x = c.sample().toFloatArray();
        float[] e = c.modelOutput().toFloatArray();
        float[] out = new float[x.length];
        for (int j = 0; j < x.length; j++) {
          double x0 = (x[j] - Math.sqrt(1 - a) * e[j]) / Math.sqrt(a);
          out[j] = (float) (Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * e[j]);
        }
        return new ReverseStepResult(REF.fromArray(out, c.sample().shape()), null);
      }
    };
    return List.of(
        new DdpmSampler(schedule, PredictionType.EPSILON, VarianceType.FIXED_SMALL, SampleClipping.NONE, REF),
        new DdimSampler(schedule, PredictionType.EPSILON, 0.0, true, SampleClipping.NONE, REF),
        own);
  }

  /**
   * With any sampler the kept region of the result is the picture bit for bit (after the last step the known values
   * are {@code x0} itself, and a pixel with keep 1 takes them unblended); the regenerated region is neither the
   * picture nor what plain sampling of the same seed gives there (the model mixes the pixels, so the picture steers
   * it; the smallest difference is far above rounding).
   */
  @Test
  void theKeptRegionIsThePictureAndTheRestIsSampledAroundIt() {
    int n = 3;
    float[] x0 = Batches.normal(Shape.batchOf(n, IMAGE), 3);
    for (int j = 0; j < x0.length; j++) {
      x0[j] = Math.max(-1, Math.min(1, x0[j] * 0.5f + 0.4f)); // a picture's range, away from the model's mean
    }
    float[] masks = halfMasks(n);
    SamplingRequest request = SamplingRequest.of(n, IMAGE, 7, Timesteps.trailing(1000, 20));
    NoisePredictor model = mixing(REF);
    for (Sampler sampler : samplers()) {
      try (TensorScope s = REF.openScope()) {
        float[] out = Inpainting.of(schedule, request, x0, masks).sample(sampler, model, REF, SamplingListener.NONE)
            .toFloatArray();
        float[] plain = sampler.sample(model, REF, request).toFloatArray();
        double fromPicture = Double.MAX_VALUE;
        double fromPlain = 0;
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < K; j++) {
            int at = i * K + j;
            if (kept(masks, i, j)) {
              assertEquals(Float.floatToIntBits(x0[at]), Float.floatToIntBits(out[at]),
                  sampler.name() + ": sample " + i + ", kept value " + j);
            } else {
              fromPicture = Math.min(fromPicture, Math.abs(out[at] - x0[at]));
              fromPlain = Math.max(fromPlain, Math.abs(out[at] - plain[at]));
            }
          }
        }
        assertTrue(fromPicture > 0, sampler.name() + ": a regenerated value is the picture's");
        assertTrue(fromPlain > 1e-3, sampler.name() + ": the regenerated region is plain sampling's (by at most "
            + fromPlain + ")");
      }
    }
  }

  /** An all-keep mask (0 everywhere) gives the pictures, bit for bit, with every sampler. */
  @Test
  void anAllKeepMaskGivesThePictures() {
    float[] x0 = Batches.normal(Shape.batchOf(2, IMAGE), 4);
    SamplingRequest request = SamplingRequest.of(2, IMAGE, 1, Timesteps.trailing(1000, 10));
    for (Sampler sampler : samplers()) {
      try (TensorScope s = REF.openScope()) {
        float[] out = Inpainting.of(schedule, request, x0, new float[2 * HW])
            .sample(sampler, mixing(REF), REF, SamplingListener.NONE).toFloatArray();
        assertArrayEquals(x0, out, sampler.name());
      }
    }
  }

  /**
   * An all-regenerate mask (1 everywhere) samples exactly what plain sampling of the same request samples, bit for
   * bit: such a batch is not touched (and a pixel with keep 0 is the sampler's value unchanged, the next test). On two
   * threads too (the loop's slices each call the constraint with their part of the request).
   */
  @Test
  void anAllRegenerateMaskIsPlainSamplingBitForBit() {
    float[] x0 = Batches.normal(Shape.batchOf(4, IMAGE), 5);
    float[] masks = new float[4 * HW];
    Arrays.fill(masks, 1f);
    SamplingRequest request = SamplingRequest.of(4, IMAGE, 2, Timesteps.trailing(1000, 10));
    for (TensorFactory tensors : List.of(REF, new SamplerMathTest.TwoThreads())) {
      for (Sampler sampler : samplers()) {
        try (TensorScope s = REF.openScope()) {
          float[] out = Inpainting.of(schedule, request, x0, masks)
              .sample(sampler, mixing(tensors), tensors, SamplingListener.NONE).toFloatArray();
          assertArrayEquals(sampler.sample(mixing(tensors), tensors, request).toFloatArray(), out, sampler.name());
        }
      }
    }
  }

  /**
   * One step's update against the formula in double precision, for soft and hard mask values, in the middle of the
   * plan and after its last step: {@code keep (sqrt(abar') x0 + sqrt(1 - abar') z) + (1 - keep) x}, {@code abar'} the
   * next timestep's alpha-bar (1 after the last), {@code z} {@link Inpainting#knownRegionNoise}. The float32 code
   * rounds {@code a}, {@code b}, two products, a sum, and for soft values two products and a sum more: at most about
   * six half-ulps of values below 8 in magnitude, 6 x 4.8e-7 = 2.9e-6; the bound is 4e-6. Keep 0 leaves the
   * sampler's value exactly, keep 1 takes the known value unblended, and after the last step the known value is the
   * picture exactly.
   */
  @Test
  void theUpdateIsTheFormulaInDoublePrecision() {
    int n = 2;
    Timesteps plan = Timesteps.trailing(1000, 10);
    SamplingRequest request = SamplingRequest.of(n, IMAGE, 11, plan);
    float[] x0 = Batches.normal(Shape.batchOf(n, IMAGE), 6);
    float[] x = Batches.normal(Shape.batchOf(n, IMAGE), 7);
    float[] masks = new float[n * HW];
    float[] levels = {0, 1, 0.25f, 0.5f, 0.9f, 1, 0, 0.125f};
    for (int j = 0; j < masks.length; j++) {
      masks[j] = levels[j % levels.length];
    }
    Inpainting fill = Inpainting.of(schedule, request, x0, masks);
    for (int index : new int[] {0, 4, plan.size() - 1}) {
      try (TensorScope s = REF.openScope()) {
        float[] out = fill.apply(REF, request, index, index, REF.fromArray(x, request.batchShape())).toFloatArray();
        boolean end = index == plan.size() - 1;
        double abar = end ? 1 : schedule.alphaBar(plan.get(index + 1));
        float[] z = Inpainting.knownRegionNoise(request, index);
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < K; j++) {
            int at = i * K + j;
            double keep = 1.0 - masks[i * HW + j % HW];
            double known = Math.sqrt(abar) * x0[at] + Math.sqrt(1 - abar) * z[at];
            double expected = keep * known + (1 - keep) * x[at];
            String where = "step " + index + ", sample " + i + ", value " + j + ", keep " + keep;
            assertEquals(expected, out[at], 4e-6, where);
            if (keep == 0) {
              assertEquals(x[at], out[at], 0.0, where);
            } else if (keep == 1 && end) {
              assertEquals(x0[at], out[at], 0.0, where);
            }
          }
        }
      }
    }
  }

  /**
   * The known region's noise is {@code root.split(-1).split(k).split(sample)} per sample (each noise version): a
   * slice of a run draws its samples' values bit for bit, and it is not the request's own step or initial noise.
   */
  @Test
  void theKnownRegionsNoiseIsPerSampleAndAStreamOfItsOwn() {
    SamplingRequest request = SamplingRequest.of(4, IMAGE, 9, Timesteps.trailing(1000, 10));
    for (NoiseVersion v : NoiseVersion.values()) {
      SamplingRequest r = request.withNoise(v);
      float[] all = Inpainting.knownRegionNoise(r, 3);
      assertArrayEquals(Noise.seeded(9).withVersion(v).split(-1).split(3).split(2).normals(K),
          Arrays.copyOfRange(all, 2 * K, 3 * K), v.toString());
      assertArrayEquals(Arrays.copyOfRange(all, K, 3 * K), Inpainting.knownRegionNoise(r.slice(1, 2), 3));
      assertFalse(Arrays.equals(all, SamplingLoop.noiseValues(r, 3)), "not the step noise");
      for (int k = -1; k < 10; k++) {
        assertFalse(Arrays.equals(all, SamplingLoop.noiseValues(r, k)), "not the noise of position " + k);
      }
      assertFalse(Arrays.equals(all, Inpainting.knownRegionNoise(r, 4)), "a stream per step");
    }
  }

  /**
   * Sample {@code i}'s result does not depend on its batch: four samples in one request equal samples 0-1 and 2-3
   * requested as slices of the run (their pictures and masks with them), and each alone, bit for bit (the reference
   * backend and the test's model compute every image alone), DDPM drawing step noise.
   */
  @Test
  void eachSampleIsTheSameInAnyBatch() {
    int n = 4;
    float[] x0 = Batches.normal(Shape.batchOf(n, IMAGE), 8);
    float[] masks = halfMasks(n);
    masks[HW + 1] = 0.5f; // a soft value too
    SamplingRequest request = SamplingRequest.of(n, IMAGE, 12, Timesteps.trailing(1000, 12));
    Sampler ddpm = samplers().get(0);
    try (TensorScope s = REF.openScope()) {
      float[] all = Inpainting.of(schedule, request, x0, masks).sample(ddpm, mixing(REF), REF, SamplingListener.NONE)
          .toFloatArray();
      for (int[] part : new int[][] {{0, 2}, {2, 2}, {0, 1}, {1, 1}, {3, 1}}) {
        int from = part[0];
        int c = part[1];
        float[] out = Inpainting.of(schedule, request.slice(from, c), Arrays.copyOfRange(x0, from * K, (from + c) * K),
            Arrays.copyOfRange(masks, from * HW, (from + c) * HW))
            .sample(ddpm, mixing(REF), REF, SamplingListener.NONE).toFloatArray();
        assertArrayEquals(Arrays.copyOfRange(all, from * K, (from + c) * K), out, "samples " + from + "+" + c);
      }
      // on two threads the loop walks slices {0, 1} and {2, 3}, each calling the constraint with its part
      float[] twoThreads = Inpainting.of(schedule, request, x0, masks)
          .sample(ddpm, mixing(REF), new SamplerMathTest.TwoThreads(), SamplingListener.NONE).toFloatArray();
      assertArrayEquals(all, twoThreads);
    }
  }

  /** The listener sees each step's constrained sample; and a run without a constraint is the plain loop. */
  @Test
  void theListenerSeesTheConstrainedSampleAndConstraintsAreChecked() {
    SamplingRequest request = SamplingRequest.of(1, IMAGE, 3, Timesteps.trailing(1000, 5));
    float[] x0 = new float[K];
    Arrays.fill(x0, 0.75f);
    Sampler ddim = samplers().get(1);
    List<float[]> seen = new ArrayList<>();
    SamplingListener listener = new SamplingListener() {
      @Override
      public void onStep(int index, Timesteps plan, ReverseStepResult result) {
        seen.add(result.prev().toFloatArray());
      }
    };
    try (TensorScope s = REF.openScope()) {
      Inpainting.of(schedule, request, x0, new float[HW]).sample(ddim, mixing(REF), REF, listener);
      assertEquals(5, seen.size());
      for (int i = 0; i < 4; i++) {
        double abar = schedule.alphaBar(request.plan().get(i + 1));
        float[] z = Inpainting.knownRegionNoise(request, i);
        assertEquals(Math.sqrt(abar) * 0.75 + Math.sqrt(1 - abar) * z[0], seen.get(i)[0], 2e-6, "step " + i);
      }
      assertArrayEquals(x0, seen.get(4));
      StepConstraint wrongShape = (tensors, batch, index, visit, sample) -> tensors.zeros(IMAGE);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> SamplingLoop.run(ddim, mixing(REF), REF, request, SamplingListener.NONE, wrongShape));
      assertEquals("step constraint, step 1 of 5: returned a sample of shape [3, 4, 4] for a batch of [1, 3, 4, 4]",
          e.getMessage());
      StepConstraint same = (tensors, batch, index, visit, sample) -> sample;
      assertArrayEquals(ddim.sample(mixing(REF), REF, request).toFloatArray(),
          SamplingLoop.run(ddim, mixing(REF), REF, request, SamplingListener.NONE, same).toFloatArray());
    }
  }

  @Test
  void inpaintingsThatCannotBeMadeAreRefused() {
    SamplingRequest request = SamplingRequest.of(2, IMAGE, 0, Timesteps.trailing(1000, 10));
    float[] x0 = new float[2 * K];
    IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
        () -> Inpainting.of(schedule, request, new float[K], new float[2 * HW]));
    assertEquals("images: 48 values, expected 96 (2 images of [3, 4, 4])", few.getMessage());
    IllegalArgumentException masks = assertThrows(IllegalArgumentException.class,
        () -> Inpainting.of(schedule, request, x0, new float[2 * K]));
    assertEquals("masks: 96 values, expected 32 (2 masks of [4, 4], one value a pixel)", masks.getMessage());
    float[] bad = new float[2 * HW];
    bad[HW + 5] = 1.5f;
    IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
        () -> Inpainting.of(schedule, request, x0, bad));
    assertEquals("masks: sample 1, pixel 5 is 1.5; a mask's values are in [0, 1] (1: regenerate, 0: keep)",
        range.getMessage());
    bad[HW + 5] = Float.NaN;
    assertThrows(IllegalArgumentException.class, () -> Inpainting.of(schedule, request, x0, bad));
    // a slice of a run names the run's sample (it said "sample 1", its index in the slice), and a NaN or infinite
    // picture value is refused as a mask value is (it was sampled into NaN, said as a diverged model)
    SamplingRequest slice = request.slice(40, 2);
    bad[HW + 5] = 2;
    assertEquals("masks: sample 41, pixel 5 is 2.0; a mask's values are in [0, 1] (1: regenerate, 0: keep)",
        assertThrows(IllegalArgumentException.class, () -> Inpainting.of(schedule, slice, x0, bad)).getMessage());
    float[] infinite = new float[2 * K];
    infinite[K + HW + 3] = Float.NEGATIVE_INFINITY;
    assertEquals("images: sample 41, value 19 (channel 1, pixel 3) is -Infinity; a picture's values must be finite",
        assertThrows(IllegalArgumentException.class,
            () -> Inpainting.of(schedule, slice, infinite, new float[2 * HW])).getMessage());
    assertEquals("images: sample 41, value 19 (channel 1, pixel 3) is -Infinity; a picture's values must be finite",
        assertThrows(IllegalArgumentException.class, () -> ImageToImage.request(REF, schedule, slice, infinite, 0.5))
            .getMessage());
    SamplingRequest otherT = SamplingRequest.of(2, IMAGE, 0, Timesteps.trailing(500, 10));
    assertThrows(IllegalArgumentException.class, () -> Inpainting.of(schedule, otherT, x0, new float[2 * HW]),
        "another schedule's plan");
    Inpainting fill = Inpainting.of(schedule, request, x0, new float[2 * HW]);
    try (TensorScope s = REF.openScope()) {
      Tensor x = REF.zeros(Shape.batchOf(2, IMAGE));
      IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
          () -> fill.apply(REF, request.slice(1, 2), 0, 0, x));
      assertEquals("inpainting: the batch of samples 1 to 2 ([3, 4, 4], 10 steps) is not a part of the request of "
          + "samples 0 to 1 ([3, 4, 4], 10 steps)", outside.getMessage());
      assertSame(x, Inpainting.of(schedule, request, x0, fillOnes(2 * HW)).apply(REF, request, 0, 0, x),
          "a batch that keeps nothing is not copied");
    }
  }

  /**
   * The walk of RePaint's resampling is diffusers' {@code RePaintScheduler.set_timesteps}: its timestep lists (in
   * inference indices, for the plan sizes, jump lengths and resample counts of each row, from running its loop) are
   * translated here to plan positions ({@code n - 1 - t}) and jumps (a run of increasing indices ending at {@code t}
   * is one jump back to the level of position {@code n - t}).
   */
  @Test
  void resamplingWalksDiffusersRoute() {
    assertArrayEquals(new int[] {0, 1, 2, 3, -3, 2, 3, -3, 2, 3, 4, 5, -5, 4, 5, -5, 4, 5},
        new Resampling(2, 3).route(6), "[5, 4, 3, 2, 3, 4, 3, 2, 3, 4, 3, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0]");
    assertArrayEquals(new int[] {0, 1, -2, 1, 2, -3, 2, 3, -4, 3, 4, -5, 4}, new Resampling(1, 2).route(5),
        "[4, 3, 4, 3, 2, 3, 2, 1, 2, 1, 0, 1, 0]");
    assertArrayEquals(new int[] {0, 1, 2, 3, -2, 1, 2, 3, 4, 5, 6, -5, 4, 5, 6, 7, 8, 9, -8, 7, 8, 9},
        new Resampling(3, 2).route(10));
    // a jump not shorter than the plan: diffusers walks it once, resampling nothing; refused here
    assertThrows(IllegalArgumentException.class, () -> new Resampling(10, 10).route(4));
    assertArrayEquals(new int[] {0, 1, 2, 3, 4}, Resampling.NONE.route(5));
    assertEquals(14, new Resampling(2, 3).modelCalls(6));
    assertEquals("jumpLength must be at least 1 (plan positions a jump goes back), got 0",
        assertThrows(IllegalArgumentException.class, () -> new Resampling(0, 2)).getMessage());
    assertEquals("resamples must be at least 1 (1: no resampling), got 0",
        assertThrows(IllegalArgumentException.class, () -> new Resampling(2, 0)).getMessage());
  }

  /**
   * Inpainting with resampling (DDPM, jump 2, twice, over 6 positions): each jump is the closed-form forward process
   * between the two levels with its own noise ({@code root.split(-2).split(v)}, v the jump's operation number), each
   * step's kept region the picture noised with {@code root.split(-1).split(v)} (v the step's operation number, not its
   * plan position: they differ after the first jump),
   * checked in double precision at the next step's input (float32 rounding of values below 8: bound 4e-6); the walk
   * up to its first jump is the plain inpainting's, bit for bit; the kept region ends as the picture exactly; and each
   * sample is the same bits in any batch, on one thread or two.
   */
  @Test
  void resamplingJumpsByTheForwardProcessAndKeepsThePicture() {
    int n = 4;
    float[] x0 = Batches.normal(Shape.batchOf(n, IMAGE), 9);
    float[] masks = halfMasks(n);
    Timesteps plan = Timesteps.trailing(1000, 6);
    SamplingRequest request = SamplingRequest.of(n, IMAGE, 21, plan);
    Resampling resampling = new Resampling(2, 2);
    int[] route = resampling.route(6);
    Sampler ddpm = samplers().get(0);
    List<float[]> inputs = new ArrayList<>();
    Sampler recording = new Sampler() {
      @Override
      public String name() {
        return "recording-ddpm";
      }

      @Override
      public ReverseStepResult step(StepContext c) {
        inputs.add(c.sample().toFloatArray());
        return ddpm.step(c);
      }
    };
    List<float[]> outputs = new ArrayList<>();
    SamplingListener listener = new SamplingListener() {
      @Override
      public void onStep(int index, Timesteps p, ReverseStepResult result) {
        outputs.add(result.prev().toFloatArray());
      }
    };
    try (TensorScope s = REF.openScope()) {
      Inpainting fill = Inpainting.of(schedule, request, x0, masks);
      float[] out = fill.sample(recording, mixing(REF), REF, listener, resampling).toFloatArray();
      assertEquals(resampling.modelCalls(6), outputs.size(), "the listener sees every reverse step");
      int step = 0;
      int jumps = 0;
      int level = 0;
      for (int v = 0; v < route.length; v++) {
        if (route[v] >= 0) {
          level = route[v] + 1;
          if (level < 6) { // the known region of operation v is noised with root.split(-1).split(v), v counting jumps
            double a = schedule.alphaBar(plan.get(level));
            for (int i = 0; i < n; i++) {
              float[] z = Noise.seeded(21).split(-1).split(v).split(i).normals(K);
              for (int j = 0; j < K; j++) {
                if (kept(masks, i, j)) {
                  assertEquals(Math.sqrt(a) * x0[i * K + j] + Math.sqrt(1 - a) * z[j], outputs.get(step)[i * K + j],
                      4e-6, "operation " + v + " (position " + route[v] + "), sample " + i + ", kept value " + j);
                }
              }
            }
          }
          step++;
          continue;
        }
        int to = -1 - route[v];
        double ratio = schedule.alphaBar(plan.get(to)) / (level == 6 ? 1 : schedule.alphaBar(plan.get(level)));
        float[] before = outputs.get(step - 1);
        float[] after = inputs.get(step);
        for (int i = 0; i < n; i++) {
          float[] z = Noise.seeded(21).split(-2).split(v).split(i).normals(K);
          for (int j = 0; j < K; j++) {
            assertEquals(Math.sqrt(ratio) * before[i * K + j] + Math.sqrt(1 - ratio) * z[j], after[i * K + j], 4e-6,
                "jump " + v + " from level " + level + " to " + to + ", sample " + i + ", value " + j);
          }
        }
        level = to;
        jumps++;
      }
      assertEquals(2, jumps);
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < K; j++) {
          if (kept(masks, i, j)) {
            assertEquals(Float.floatToIntBits(x0[i * K + j]), Float.floatToIntBits(out[i * K + j]),
                "sample " + i + ", kept value " + j);
          }
        }
      }
      List<float[]> plain = new ArrayList<>();
      fill.sample(ddpm, mixing(REF), REF, new SamplingListener() {
        @Override
        public void onStep(int index, Timesteps p, ReverseStepResult result) {
          plain.add(result.prev().toFloatArray());
        }
      });
      for (int k = 0; k < 4; k++) { // route 0, 1, 2, 3, then the first jump
        assertArrayEquals(plain.get(k), outputs.get(k), "step " + k + " before the first jump");
      }
      assertFalse(Arrays.equals(plain.get(5), out), "resampling changes the result");
      for (int[] part : new int[][] {{0, 2}, {2, 2}, {3, 1}}) {
        int from = part[0];
        int c = part[1];
        float[] alone = Inpainting.of(schedule, request.slice(from, c), Arrays.copyOfRange(x0, from * K, (from + c) * K),
            Arrays.copyOfRange(masks, from * HW, (from + c) * HW))
            .sample(ddpm, mixing(REF), REF, SamplingListener.NONE, resampling).toFloatArray();
        assertArrayEquals(Arrays.copyOfRange(out, from * K, (from + c) * K), alone, "samples " + from + "+" + c);
      }
      assertArrayEquals(out, fill.sample(ddpm, mixing(REF), new SamplerMathTest.TwoThreads(), SamplingListener.NONE, resampling)
          .toFloatArray(), "two threads");
      assertArrayEquals(fill.sample(ddpm, mixing(REF), REF, SamplingListener.NONE).toFloatArray(),
          fill.sample(ddpm, mixing(REF), REF, SamplingListener.NONE, Resampling.NONE).toFloatArray());
    }
  }

  /**
   * Where the loop walks a batch in slices (two threads), a slice whose samples keep pixels is constrained even when
   * the request's first samples keep none: samples 0-1 regenerate everything (mask 1), samples 2-3 keep the left half,
   * which ends as their pictures bit for bit; samples 0-1 are plain sampling's, bit for bit.
   */
  @Test
  void aSliceIsConstrainedByItsOwnSamplesMasks() {
    int n = 4;
    float[] x0 = Batches.normal(Shape.batchOf(n, IMAGE), 12);
    float[] masks = halfMasks(n);
    Arrays.fill(masks, 0, 2 * HW, 1f);
    SamplingRequest request = SamplingRequest.of(n, IMAGE, 5, Timesteps.trailing(1000, 5));
    Sampler ddim = samplers().get(1);
    try (TensorScope s = REF.openScope()) {
      SamplerMathTest.TwoThreads two = new SamplerMathTest.TwoThreads();
      float[] out = Inpainting.of(schedule, request, x0, masks).sample(ddim, mixing(two), two, SamplingListener.NONE)
          .toFloatArray();
      for (int i = 2; i < n; i++) {
        for (int j = 0; j < K; j++) {
          if (kept(masks, i, j)) {
            assertEquals(Float.floatToIntBits(x0[i * K + j]), Float.floatToIntBits(out[i * K + j]),
                "sample " + i + ", kept value " + j);
          }
        }
      }
      float[] plain = ddim.sample(mixing(REF), REF, request).toFloatArray();
      assertArrayEquals(Arrays.copyOfRange(plain, 0, 2 * K), Arrays.copyOfRange(out, 0, 2 * K), "samples 0-1");
    }
  }

  private static float[] fillOnes(int n) {
    float[] v = new float[n];
    Arrays.fill(v, 1f);
    return v;
  }
}
