package io.github.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.random.Noise;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TimestepStrataTest {

  private static void assertTiles(TimestepStrata s) {
    int t = s.numTrainTimesteps();
    assertEquals(0, s.first(0));
    assertEquals(1, s.weight(0), "the decoder term is a stratum of its own");
    int next = 0;
    for (int j = 0; j < s.size(); j++) {
      assertEquals(next, s.first(j), s + ": stratum " + j);
      assertTrue(s.weight(j) >= 1, s + ": stratum " + j + " is empty");
      next += s.weight(j);
    }
    assertEquals(t, next, s + " does not end at T");
  }

  @Test
  void strataTileTheTimestepsWithTheDecoderAlone() {
    for (int t : new int[] {2, 3, 10, 100, 1000}) {
      for (int k = 2; k <= Math.min(t, 40); k++) {
        TimestepStrata s = TimestepStrata.of(t, k);
        assertEquals(k, s.size());
        assertTiles(s);
      }
      assertTiles(TimestepStrata.of(t, t));
    }
  }

  @Test
  void kEqualToTIsEveryTimestepAlone() {
    TimestepStrata s = TimestepStrata.of(100, 100);
    assertTrue(s.isComplete());
    for (int j = 0; j < 100; j++) {
      assertEquals(j, s.first(j));
      assertEquals(1, s.weight(j));
    }
    assertEquals(s.toString(), TimestepStrata.every(100).toString());
    assertFalse(TimestepStrata.of(100, 99).isComplete());
  }

  @Test
  void strataGrowGeometrically() {
    // T = 1000, K = 10: boundaries near 1000^(j / 9) = 1, 2.2, 4.6, 10, 21.5, 46, 100, 215, 464, 1000
    assertEquals("TimestepStrata[0, 1, 2, 5, 10, 22, 46, 100, 215, 464, 1000]", TimestepStrata.of(1000, 10).toString());
  }

  /**
   * The estimate's expectation over every possible draw is the sum of all terms, exactly, for any terms:
   * enumerate the draws of all strata (each equally likely within its stratum).
   */
  @Test
  void theWeightedDrawIsUnbiasedForAnyTerms() {
    Random r = new Random(11);
    for (int[] tk : new int[][] {{12, 4}, {9, 2}, {16, 6}, {7, 7}}) {
      TimestepStrata s = TimestepStrata.of(tk[0], tk[1]);
      double[] term = new double[tk[0]];
      double sum = 0;
      for (int t = 0; t < term.length; t++) {
        term[t] = Math.exp(3 * r.nextGaussian());
        sum += term[t];
      }
      // E[sum_j w_j f(t_j)] = sum_j w_j E[f(t_j)] = sum_j w_j (1 / w_j) sum_{t in j} f(t), computed by
      // enumerating every combination of draws with its probability
      double expectation = expectation(s, term, 0, 0.0, 1.0);
      assertEquals(sum, expectation, 1e-9 * sum, s.toString());
    }
  }

  private static double expectation(TimestepStrata s, double[] term, int stratum, double partial, double p) {
    if (stratum == s.size()) {
      return p * partial;
    }
    double e = 0;
    int w = s.weight(stratum);
    for (int t = s.first(stratum); t < s.first(stratum) + w; t++) {
      e += expectation(s, term, stratum + 1, partial + w * term[t], p / w);
    }
    return e;
  }

  @Test
  void drawsAreUniformWithinEachStratum() {
    TimestepStrata s = TimestepStrata.of(100, 5);
    int[] out = new int[5];
    int j = 3;
    int[] hits = new int[s.weight(j)];
    int n = 40_000;
    for (int i = 0; i < n; i++) {
      s.draw(Noise.seeded(1).split(i).generator(), out);
      for (int k = 0; k < 5; k++) {
        assertTrue(out[k] >= s.first(k) && out[k] < s.first(k) + s.weight(k));
      }
      hits[out[j] - s.first(j)]++;
    }
    double expected = (double) n / hits.length;
    for (int h : hits) {
      // 6 binomial standard deviations
      assertEquals(expected, h, 6 * Math.sqrt(expected), "uniform within " + s);
    }
  }

  @Test
  void outOfRangeSizesAreRefused() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> TimestepStrata.of(100, 1)).getMessage()
        .contains("[2, 100]"));
    assertThrows(IllegalArgumentException.class, () -> TimestepStrata.of(100, 101));
    assertThrows(IllegalArgumentException.class, () -> TimestepStrata.of(1, 1));
  }
}
