package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link Interpolation} in its tiny configuration (its own JVM: one native backend per process). */
class InterpolationTest {
  @TempDir
  Path dir;

  @Test
  void runs() throws Exception {
    Interpolation.Result r = Interpolation.run(new String[] {dir.toString(), "--tiny"});
    assertEquals(dir.resolve("interpolation.png"), r.file());
    int k = r.imageShape().size();
    assertEquals(10, r.frames());
    assertEquals(10 * k, r.strip().length);
    // one row of 10 cells of 65x65 (5x5 images enlarged), 2 pixels of padding around and between
    BufferedImage png = ImageIO.read(r.file().toFile());
    assertEquals(10 * 65 + 11 * 2, png.getWidth());
    assertEquals(65 + 2 * 2, png.getHeight());

    // a walk between two images: neighbouring frames are closer than the two ends
    double ends = meanAbsDiff(r.strip(), 0, 9, k);
    for (int i = 0; i + 1 < r.frames(); i++) {
      double step = meanAbsDiff(r.strip(), i, i + 1, k);
      assertTrue(step < ends, "frames " + i + " and " + (i + 1) + " differ by " + step + ", the ends by " + ends);
    }

    // DDIM inversion is approximate (each step uses the model's prediction at the step it starts from), so the
    // round trip is not exact; 0.16 measured on the tiny model over 20 steps: a bound of 0.4, a fifth of the
    // images' range [-1, 1], leaves room for other platforms and still fails a round trip that lands elsewhere
    assertTrue(r.roundTripError() < 0.4, "round trip error " + r.roundTripError());
    // and since it is approximate, an error of (nearly) 0 would mean the measure compared the images with themselves
    // (or the sampled latents were the images' own): 1e-3 is two orders of magnitude below the measured 0.16
    assertTrue(r.roundTripError() > 1e-3, "round trip error " + r.roundTripError());
  }

  private static double meanAbsDiff(float[] strip, int a, int b, int k) {
    double s = 0;
    for (int j = 0; j < k; j++) {
      s += Math.abs(strip[a * k + j] - strip[b * k + j]);
    }
    return s / k;
  }
}
