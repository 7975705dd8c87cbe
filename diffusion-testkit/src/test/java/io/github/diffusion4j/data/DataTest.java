package io.github.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.Batches;
import io.github.diffusion4j.testkit.ReferenceBackend;
import org.junit.jupiter.api.Test;

/** The tutorial's data and forward process. */
class DataTest {
  private final ReferenceBackend ref = new ReferenceBackend();

  @Test
  void gridMatchesTheTutorial() {
    double[] g = GradientImages.grid(5, 5);
    assertEquals(0.0, g[0], 0.0);
    assertEquals(1.0, g[24], 1e-15);
    // x = linspace(0, 0.5, 5), y = linspace(0, 0.5, 5), grid = (x + y) / 1
    assertEquals(0.125, g[1], 1e-15);
    assertEquals(0.125, g[5], 1e-15);
    assertEquals(0.5, g[12], 1e-15);
    double[] wide = GradientImages.grid(2, 4);
    // x = linspace(0, 4/6, 4), y = linspace(0, 2/6, 2); last = 1
    assertEquals((2.0 / 9) / 1.0, wide[1], 1e-12);
    assertEquals((1.0 / 3) / 1.0, wide[4], 1e-12);
  }

  @Test
  void gradientsThatNoArrayHoldsAreRefusedBeforeAllocating() {
    // count * C * H * W was an int product: 65536 images of 1x256x256 wrapped to a float[0] and an
    // ArrayIndexOutOfBoundsException, 50000 of 3x128x128 to a NegativeArraySizeException
    Shape shape = Shape.of(1, 256, 256);
    assertEquals("65536 images of [1, 256, 256] are 4294967296 values; count must be between 0 and 32767 (one array "
        + "holds at most 2147483639)", assertThrows(IllegalArgumentException.class,
            () -> GradientImages.generate(65536, shape, Noise.seeded(1))).getMessage());
    assertThrows(IllegalArgumentException.class, () -> GradientImages.generate(50_000, Shape.of(3, 128, 128),
        Noise.seeded(1)));
    assertThrows(IllegalArgumentException.class, () -> GradientImages.generate(-1, shape, Noise.seeded(1)));
    assertEquals(0, GradientImages.generate(0, shape, Noise.seeded(1)).length);
  }

  @Test
  void gradientsHaveIntegerCornersAndLinearRamps() {
    Shape shape = Shape.of(3, 16, 16);
    float[] imgs = GradientImages.generate(200, shape, Noise.seeded(1));
    double[] g = GradientImages.grid(16, 16);
    int k = shape.size();
    for (int n = 0; n < 200; n++) {
      for (int c = 0; c < 3; c++) {
        int base = n * k + c * 256;
        double start = imgs[base] * 255.0;
        double end = imgs[base + 255] * 255.0;
        assertEquals(Math.rint(start), start, 1e-3, "integer corner");
        assertEquals(Math.rint(end), end, 1e-3, "integer corner");
        start = Math.rint(start);
        end = Math.rint(end);
        assertTrue(start >= 0 && start <= 254 && end >= 0 && end <= 254);
        for (int p = 0; p < 256; p++) {
          assertEquals((start + g[p] * (end - start)) / 255.0, imgs[base + p], 1e-6);
        }
      }
    }
    assertArrayEquals(imgs, GradientImages.generate(200, shape, Noise.seeded(1)), "seeded");
  }

  @Test
  void aSliceIsTheSameImagesAndEveryChannelHasItsOwnCorners() {
    Shape shape = Shape.of(3, 2, 3);
    int k = shape.size();
    float[] all = GradientImages.generate(0, 6, shape, Noise.seeded(4));
    float[] slice = GradientImages.generate(4, 2, shape, Noise.seeded(4));
    assertArrayEquals(java.util.Arrays.copyOfRange(all, 4 * k, 6 * k), slice, "images 4 and 5 however sliced");
    for (int n = 0; n < 6; n++) {
      // image n draws C start corners then C end corners from noise.split(n), each in 0..254
      io.github.diffusion4j.random.RandomGenerator r = Noise.seeded(4).split(n).generator();
      int[] corners = new int[6];
      for (int i = 0; i < 6; i++) {
        corners[i] = r.nextInt(255);
      }
      for (int c = 0; c < 3; c++) {
        // the top-left pixel is the start colour and the bottom-right the end (the grid runs 0 to 1); 1e-6 is
        // float rounding of a value in [0, 1]
        assertEquals(corners[c] / 255.0, all[n * k + c * 6], 1e-6, "start, image " + n + " channel " + c);
        assertEquals(corners[3 + c] / 255.0, all[n * k + c * 6 + 5], 1e-6, "end, image " + n + " channel " + c);
      }
    }
    // a 1x1 grid is the single value 0 (nothing to normalise by)
    assertArrayEquals(new double[] {0.0}, GradientImages.grid(1, 1));
  }

  @Test
  void cornerColoursCoverTheirRange() {
    float[] imgs = GradientImages.generate(20_000, Shape.of(1, 2, 2), Noise.seeded(2));
    int[] hist = new int[255];
    for (int n = 0; n < 20_000; n++) {
      hist[(int) Math.rint(imgs[n * 4] * 255)]++;
    }
    for (int v = 0; v < 255; v++) {
      assertTrue(hist[v] > 20, "value " + v + " drawn " + hist[v] + " times (expected ~78)");
    }
  }

  @Test
  void normalizationRoundTrips() {
    float[] px = {0f, 0.25f, 1f};
    float[] n = Normalization.normalize(px.clone());
    assertArrayEquals(new float[] {-1f, -0.5f, 1f}, n);
    assertArrayEquals(px, Normalization.denormalize(n));
    assertArrayEquals(new float[] {0f, 1f}, Normalization.denormalize(new float[] {-3f, 2f}), "clamped");
  }

  @Test
  void datasetGathersImages() {
    InMemoryDataset d = GradientImages.dataset(10, Shape.of(3, 5, 5), Noise.seeded(3));
    assertEquals(10, d.size());
    float[] out = new float[2 * 75];
    d.gather(new int[] {7, 2}, out);
    float[] seven = new float[75];
    d.copyImage(7, seven, 0);
    assertArrayEquals(seven, java.util.Arrays.copyOf(out, 75));
    for (float v : out) {
      assertTrue(v >= -1 && v <= 1);
    }
    assertThrows(IllegalArgumentException.class, () -> new InMemoryDataset(Shape.of(3, 5, 5), new float[74]));
  }

  @Test
  void reconstructInvertsClosedFormNoising() {
    ForwardProcess q = new ForwardProcess(Schedule.of(ScheduleSpec.linear(100)));
    Shape shape = Shape.of(6, 3, 5, 5);
    int[] ts = {0, 1, 17, 50, 98, 99};
    try (TensorScope s = ref.openScope()) {
      float[] x0v = Batches.normal(shape, 1);
      Tensor x0 = ref.fromArray(x0v, shape);
      Tensor eps = ref.fromArray(Batches.normal(shape, 2), shape);
      Tensor xt = q.noise(x0, ts, eps);
      // the inverse divides by sqrt(alphaBar) >= 0.6: float32 rounding stays below 1e-5
      assertTrue(Batches.maxAbsDiff(x0v, q.reconstruct(xt, ts, eps).toFloatArray()) < 1e-5);
      float[] host = new float[shape.size()];
      q.noise(x0v, ts, Batches.normal(shape, 2), host);
      assertTrue(Batches.maxAbsDiff(xt.toFloatArray(), host) < 1e-6, "heap and tensor forms agree");
    }
  }

  @Test
  void theIterativeFormTakesStepsZeroToTItemByItem() {
    // Ho et al. eq. 2 by hand: x <- sqrt(1 - beta_s) x + sqrt(beta_s) z_s for s = 0 .. t (t inclusive), z_s the
    // stream's split s; item 0 stops after s = 0, item 1 after s = 2
    Schedule sch = Schedule.of(ScheduleSpec.linear(10));
    ForwardProcess q = new ForwardProcess(sch);
    Shape shape = Shape.of(2, 1, 1, 2);
    float[] x0v = {0.5f, -0.25f, 1f, 0f};
    int[] ts = {0, 2};
    double[] expected = new double[4];
    for (int j = 0; j < 4; j++) {
      expected[j] = x0v[j];
    }
    for (int s = 0; s <= 2; s++) {
      float[] z = ref.normal(shape, Noise.seeded(3).split(s)).toFloatArray();
      double beta = sch.beta(s);
      for (int j = 0; j < 4; j++) {
        if (s <= ts[j / 2]) {
          expected[j] = Math.sqrt(1 - beta) * expected[j] + Math.sqrt(beta) * z[j];
        }
      }
    }
    try (TensorScope scope = ref.openScope()) {
      float[] it = q.noiseIteratively(ref.fromArray(x0v, shape), ts, Noise.seeded(3), ref).toFloatArray();
      for (int j = 0; j < 4; j++) {
        // float tensors against double arithmetic over three steps: a few float ulps of values below 2
        assertEquals(expected[j], it[j], 1e-6, "value " + j);
      }
    }
  }

  @Test
  void iterativeAndClosedFormsAgreeInDistribution() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(100));
    ForwardProcess q = new ForwardProcess(sch);
    int n = 4000;
    Shape shape = Shape.of(n, 1, 1, 2);
    int[] ts = new int[n];
    java.util.Arrays.fill(ts, 49);
    float[] x0v = new float[shape.size()];
    java.util.Arrays.fill(x0v, 0.5f);
    try (TensorScope s = ref.openScope()) {
      Tensor x0 = ref.fromArray(x0v, shape);
      float[] it = q.noiseIteratively(x0, ts, Noise.seeded(5), ref).toFloatArray();
      float[] cf = q.noise(x0, ts, ref.normal(shape, Noise.seeded(6))).toFloatArray();
      double ab = sch.alphaBar(49);
      for (float[] v : new float[][] {it, cf}) {
        double m = 0, var = 0;
        for (float x : v) {
          m += x;
        }
        m /= v.length;
        for (float x : v) {
          var += (x - m) * (x - m);
        }
        var /= v.length - 1;
        double se = Math.sqrt((1 - ab) / v.length);
        assertEquals(Math.sqrt(ab) * 0.5, m, 5 * se, "mean");
        assertEquals(1 - ab, var, 5 * (1 - ab) * Math.sqrt(2.0 / v.length), "variance");
      }
    }
  }
}
