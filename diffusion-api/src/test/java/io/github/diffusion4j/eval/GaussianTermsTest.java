package io.github.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class GaussianTermsTest {

  @Test
  void klOfEqualGaussiansIsZero() {
    for (double mean : new double[] {-3, 0, 0.25, 7}) {
      for (double logVar : new double[] {-12, -1, 0, 2}) {
        assertEquals(0.0, GaussianTerms.normalKl(mean, logVar, mean, logVar), 1e-15, mean + ", " + logVar);
      }
    }
  }

  @Test
  void klMatchesTheClosedForm() {
    // KL(N(0, 1) || N(1, 4)) = ln 2 + (1 + 1) / 8 - 1/2
    assertEquals(Math.log(2) + 0.25 - 0.5, GaussianTerms.normalKl(0, 0, 1, Math.log(4)), 1e-15);
    // KL(N(m1, s^2) || N(m2, s^2)) = (m1 - m2)^2 / (2 s^2)
    assertEquals(0.09 / (2 * 1e-4), GaussianTerms.normalKl(0.5, Math.log(1e-4), 0.2, Math.log(1e-4)), 1e-9);
  }

  @Test
  void klIsNeverNegative() {
    Random r = new Random(3);
    for (int i = 0; i < 10_000; i++) {
      double kl = GaussianTerms.normalKl(r.nextGaussian(), 4 * r.nextGaussian(), r.nextGaussian(), 4 * r.nextGaussian());
      assertTrue(kl >= -1e-12, "KL " + kl);
    }
  }

  @Test
  void theApproximateCdfIsWithinTwoTenThousandthsOfTheExactOne() {
    // exact values: 0.5 * (1 + erf(x / sqrt(2))); the approximation's largest error, 1.79e-4, is near -2.59
    double[][] exact = {{-3, 0.0013498980316301035}, {-2.59214, 0.004769047410461413}, {-1, 0.15865525393145707},
        {-0.5, 0.3085375387259869}, {0, 0.5}, {0.5, 0.6914624612740131}, {1, 0.8413447460685429},
        {2, 0.9772498680518208}, {3, 0.9986501019683699}};
    for (double[] e : exact) {
      assertEquals(e[1], GaussianTerms.approxStandardNormalCdf(e[0]), 1.8e-4, "Phi(" + e[0] + ")");
    }
    assertEquals(0.5, GaussianTerms.approxStandardNormalCdf(0), 0.0);
    double previous = 0;
    for (double x = -10; x <= 10; x += 0.01) {
      double p = GaussianTerms.approxStandardNormalCdf(x);
      assertTrue(p >= previous, "increasing at " + x);
      previous = p;
    }
  }

  @Test
  void theDecoderMassesOfThe256LevelsSumToOne() {
    // the bins tile the line (the lowest takes everything below, the highest everything above), so the
    // masses telescope to 1; only the 1e-12 floor under a vanishing bin can add to the sum
    double[][] meanAndLogScale = {{0, -3}, {0.7, -5}, {-1, -1}, {0.999, -6}, {2.5, -2}, {-0.3, 1}, {0.1, -9}};
    for (double[] ms : meanAndLogScale) {
      double sum = 0;
      for (int k = 0; k < 256; k++) {
        sum += Math.exp(GaussianTerms.discretizedLogLikelihood(k / 127.5 - 1, ms[0], ms[1]));
      }
      assertEquals(1.0, sum, 256 * GaussianTerms.MIN_PROBABILITY + 1e-14, "mean " + ms[0] + ", log scale " + ms[1]);
    }
  }

  @Test
  void theDecoderGivesABinItsGaussianMass() {
    // an interior level at the mean: 2 Phi(h / sigma) - 1 with h = 1/255
    double sigma = 0.01;
    double h = 1.0 / 255;
    double expected = 2 * GaussianTerms.approxStandardNormalCdf(h / sigma) - 1;
    double x = 27 / 127.5 - 1;
    assertEquals(Math.log(expected), GaussianTerms.discretizedLogLikelihood(x, x, Math.log(sigma)), 1e-12);
    // the edges: far below the lowest level, all of the mass is in it; far above the highest, likewise
    assertEquals(0.0, GaussianTerms.discretizedLogLikelihood(-1, -9, Math.log(0.1)), 1e-12);
    assertEquals(0.0, GaussianTerms.discretizedLogLikelihood(1, 9, Math.log(0.1)), 1e-12);
    assertEquals(Math.log(GaussianTerms.MIN_PROBABILITY), GaussianTerms.discretizedLogLikelihood(1, -9, Math.log(0.1)), 1e-9);
  }

  @Test
  void levelsRoundTrip8BitDataAndRoundEverythingElse() {
    for (int v = 0; v < 256; v++) {
      assertEquals(v / 127.5 - 1, GaussianTerms.level(v / 255f * 2f - 1f), 0.0, "byte " + v);
    }
    assertEquals(1.0, GaussianTerms.level(1.5f), 0.0);
    assertEquals(-1.0, GaussianTerms.level(-3f), 0.0);
    // a gradient pixel 100.4 / 255 is stored as level 100, 100.6 / 255 as 101
    assertEquals(100 / 127.5 - 1, GaussianTerms.level((float) (100.4 / 255 * 2 - 1)), 0.0);
    assertEquals(101 / 127.5 - 1, GaussianTerms.level((float) (100.6 / 255 * 2 - 1)), 0.0);
  }
}
