package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The charts a run and {@code eval --bpd} draw ({@code loss.png}, the bound's chart): a logarithmic y axis that
 * labels more than the powers of ten where the values span two decades or less (a loss curve between 0.2 and 0.03
 * showed a single label, 0.1), and only those over a wider span.
 */
class ChartTest {
  @TempDir
  Path dir;

  private static OutputFiles.Series series(double... y) {
    List<Double> xs = new ArrayList<>();
    List<Double> ys = new ArrayList<>();
    for (int i = 0; i < y.length; i++) {
      xs.add((double) i);
      ys.add(y[i]);
    }
    return new OutputFiles.Series("s", xs, ys, OutputFiles.Style.LINE);
  }

  @Test
  void decadesCountsThePositiveFiniteValuesSpan() {
    assertEquals(1.0, OutputFiles.decades(List.of(series(0.02, 0.2))), 1e-12);
    assertEquals(3.0, OutputFiles.decades(List.of(series(0.5, Double.NaN, 0, -1), series(500))), 1e-12,
        "across series; NaN, 0 and negatives (not drawable on a log axis) left out");
    assertEquals(0.0, OutputFiles.decades(List.of(series(Double.NaN, 0))));
    assertEquals(0.0, OutputFiles.decades(List.of(series(0.3))));
  }

  @Test
  void aLossCurveGetsIntermediateLabelsAndAWideSpanOnlyDecades() {
    assertFalse(OutputFiles.chart("Loss", "step", "MSE", List.of(series(0.19, 0.05, 0.03, 0.028)))
        .getStyler().isYAxisLogarithmicDecadeOnly(), "0.028 to 0.19: labels between the powers of ten");
    assertFalse(OutputFiles.chart("Loss", "step", "MSE", List.of(series(1.0, 0.011)))
        .getStyler().isYAxisLogarithmicDecadeOnly(), "just under two decades");
    assertTrue(OutputFiles.chart("Bound", "t", "bits/dim", List.of(series(3.0, 1e-3, 1e-5)))
        .getStyler().isYAxisLogarithmicDecadeOnly(), "five decades: powers of ten alone");
  }

  @Test
  void theLossChartIsWrittenFromMetricsAsAPng() throws IOException {
    StringBuilder metrics = new StringBuilder("{\"type\":\"data\",\"train\":{}}\n");
    for (int step = 10; step <= 200; step += 10) {
      metrics.append("{\"type\":\"train\",\"step\":").append(step).append(",\"mean_loss\":")
          .append(0.2 / Math.sqrt(step / 10.0)).append("}\n");
    }
    metrics.append("{\"type\":\"eval\",\"step\":100,\"epoch\":1,\"train_loss\":0.06,\"eval_loss\":0.07}\n");
    Path file = Files.writeString(dir.resolve("metrics.jsonl"), metrics);
    Path png = dir.resolve("loss.png");
    OutputFiles.writeLossChart(file, png);
    BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
    assertNotNull(img, "a PNG");
    assertEquals(900, img.getWidth());
    assertEquals(500, img.getHeight());
  }
}
