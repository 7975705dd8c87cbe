package io.github.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GradientResidualTest {
  private static final Shape SHAPE = Shape.of(3, 5, 5);

  @Test
  void exactGradientsScoreZero() {
    float[] x = GradientImages.generate(300, SHAPE, Noise.seeded(4));
    // the values are float32 (rounding <= 2^-25 ~ 3e-8 on [0, 1]), so the RMS residual is below that
    assertTrue(GradientResidual.mean(x, SHAPE) < 1e-6);
    Shape wide = Shape.of(1, 4, 9);
    assertTrue(GradientResidual.mean(GradientImages.generate(20, wide, Noise.seeded(5)), wide) < 1e-6);
  }

  @Test
  void noiseScoresHigh() {
    Random r = new Random(6);
    float[] x = new float[300 * 75];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    // Uniform(0, 1) has standard deviation 0.289; a 2-parameter fit to 25 pixels removes about 2/25
    // of the variance, so the RMS residual is about 0.289 * sqrt(23/25) ~ 0.28
    double score = GradientResidual.mean(x, SHAPE);
    assertEquals(0.28, score, 0.02);
  }

  @Test
  void matchesAnIndependentLeastSquaresFit() {
    Random r = new Random(8);
    Shape shape = Shape.of(2, 3, 4);
    float[] x = new float[5 * 24];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextFloat();
    }
    double[] g = GradientImages.grid(3, 4);
    double[] per = GradientResidual.perChannel(x, shape);
    assertEquals(10, per.length);
    for (int k = 0; k < 10; k++) {
      // normal equations of v = a + b g: [n, sum g; sum g, sum g^2] [a; b] = [sum v; sum g v]
      double n = 12, sg = 0, sgg = 0, sv = 0, sgv = 0;
      for (int i = 0; i < 12; i++) {
        double v = x[k * 12 + i];
        sg += g[i];
        sgg += g[i] * g[i];
        sv += v;
        sgv += g[i] * v;
      }
      double det = n * sgg - sg * sg;
      double a = (sgg * sv - sg * sgv) / det;
      double b = (n * sgv - sg * sv) / det;
      double ss = 0;
      for (int i = 0; i < 12; i++) {
        double res = x[k * 12 + i] - a - b * g[i];
        ss += res * res;
      }
      assertEquals(Math.sqrt(ss / 12), per[k], 1e-12);
    }
  }

  @Test
  void aConstantOffsetFromAGradientIsResidual() {
    // one pixel raised by delta: the best fit spreads it, residual RMS is positive and below delta
    float[] x = GradientImages.generate(1, Shape.of(1, 5, 5), Noise.seeded(1));
    x[12] += 0.5f;
    double s = GradientResidual.mean(x, Shape.of(1, 5, 5));
    assertTrue(s > 0.05 && s < 0.5, "residual " + s);
  }

  @Test
  void rejectsBadShapes() {
    assertThrows(IllegalArgumentException.class, () -> GradientResidual.mean(new float[10], SHAPE));
    assertThrows(IllegalArgumentException.class, () -> GradientResidual.mean(new float[75], Shape.of(75)));
    assertThrows(IllegalArgumentException.class, () -> GradientResidual.mean(new float[0], SHAPE));
  }
}
