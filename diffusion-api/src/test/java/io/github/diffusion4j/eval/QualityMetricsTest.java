package io.github.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

class QualityMetricsTest {
  private static final Shape SHAPE = Shape.of(3, 5, 5);

  @Test
  void goodSamplesScoreLowAndNoiseScoresHigh() {
    float[] reference = GradientImages.generate(1000, SHAPE, Noise.seeded(1));
    float[] good = GradientImages.generate(1000, SHAPE, Noise.seeded(2));
    float[] noise = new float[1000 * 75];
    Random r = new Random(3);
    for (int i = 0; i < noise.length; i++) {
      noise[i] = r.nextFloat();
    }
    QualityReport g = QualityMetrics.evaluate(good, reference, SHAPE);
    QualityReport n = QualityMetrics.evaluate(noise, reference, SHAPE);
    assertEquals(1000, g.sampleCount());
    assertTrue(g.gradientResidual() < 1e-6);
    assertTrue(n.gradientResidual() > 0.2);
    assertTrue(g.frechet() * 10 < n.frechet(), g + " vs " + n);
    assertTrue(g.cornerKsPooled() < 0.06, g.toString());
    assertTrue(g.cornerKsMean() < 0.08, g.toString());
    // the same computation through the pre-fitted reference
    QualityReport again = QualityMetrics.evaluate(good, Gaussian.fit(reference, 75), SHAPE);
    assertEquals(g, again);
    assertEquals(g.frechet(), FrechetDistance.between(good, reference, 75), 0.0);
  }

  @Test
  void jsonAndTextForms() throws Exception {
    QualityReport r = new QualityReport(0.0123, 4.2e-7, 0.027, 0.034, 1000);
    JsonNode j = new ObjectMapper().readTree(r.toJson());
    assertEquals(0.0123, j.get("frechet").doubleValue(), 0.0);
    assertEquals(4.2e-7, j.get("gradient_residual").doubleValue(), 0.0);
    assertEquals(0.027, j.get("corner_ks_pooled").doubleValue(), 0.0);
    assertEquals(0.034, j.get("corner_ks_mean").doubleValue(), 0.0);
    // the name earlier versions wrote keeps its meaning (the pooled statistic) for files read before
    assertEquals(0.027, j.get("corner_ks").doubleValue(), 0.0);
    assertEquals(1000, j.get("sample_count").intValue());
    assertTrue(new ObjectMapper().readTree(new QualityReport(Double.NaN, 0, 0, 0, 1).toJson()).get("frechet").isNull());
    JsonNode other = new ObjectMapper().readTree(r.frechetOnly().toJson());
    assertEquals(0.0123, other.get("frechet").doubleValue(), 0.0);
    for (String gradientOnly : new String[] {"gradient_residual", "corner_ks_pooled", "corner_ks_mean", "corner_ks"}) {
      assertTrue(other.get(gradientOnly).isNull(), gradientOnly);
    }
    assertEquals("FD 0.01230  gradient residual 0.00000  corner KS pooled 0.0270 mean 0.0340  (n = 1000)",
        r.toString());
    assertFalse(r.toString().contains("\n"));
  }

  @Test
  void rejectsMismatchedLengths() {
    assertThrows(
        IllegalArgumentException.class, () -> QualityMetrics.evaluate(new float[75 * 3], new float[76], SHAPE));
    assertThrows(
        IllegalArgumentException.class, () -> QualityMetrics.evaluate(new float[70], new float[150], SHAPE));
  }
}
