package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link QuickStart} in its tiny configuration (its own JVM: one native backend per process). */
class QuickStartTest {
  @TempDir
  Path dir;

  @Test
  void runs() throws Exception {
    QuickStart.Result r = QuickStart.run(new String[] {dir.toString(), "--tiny"});
    for (String f : List.of("quickstart.png", "run/checkpoints")) {
      assertTrue(Files.exists(dir.resolve(f)), f);
    }
    assertEquals(dir.resolve("quickstart.png"), r.grid());

    // 64 images of [3, 5, 5] in [0, 1], not all alike (a sampler returning a constant or its noise fails this)
    int k = r.imageShape().size();
    assertEquals(75, k);
    assertEquals(64 * k, r.images().length);
    double sum = 0;
    double sq = 0;
    for (float v : r.images()) {
      assertTrue(v >= 0 && v <= 1, "value outside [0, 1]: " + v);
      sum += v;
      sq += (double) v * v;
    }
    double mean = sum / r.images().length;
    double sd = Math.sqrt(sq / r.images().length - mean * mean);
    // gradients between uniform random corners have a standard deviation near 0.25; a constant grid has 0
    assertTrue(sd > 0.1, "standard deviation of the sampled values " + sd);

    // the grid: ImageGrid's defaults, 8 images per row, 5x5 images enlarged to 65x65 cells, 2 pixels of padding
    BufferedImage png = ImageIO.read(r.grid().toFile());
    assertEquals(8 * 65 + 9 * 2, png.getWidth());
    assertEquals(8 * 65 + 9 * 2, png.getHeight());
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < png.getHeight(); y++) {
      for (int x = 0; x < png.getWidth(); x++) {
        colours.add(png.getRGB(x, y));
      }
    }
    // 64 images of 25 pixels: far more than the padding's one colour
    assertTrue(colours.size() > 64, colours.size() + " colours in the grid");

    QuickStart.main(new String[] {dir.toString(), "--tiny"}); // again into the same folder: it starts over
    assertTrue(Files.exists(dir.resolve("run/checkpoints")));
  }
}
