package io.github.diffusion4j.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The portable noise: its bit generator is SplitMix64, its normals pass distribution tests, and streams
 * split independently. Statistical bounds are set at about 5 standard errors for the fixed seeds used, so
 * they cannot be flaky (the seeds are fixed) yet would catch a wrong algorithm.
 */
class NoiseTest {
  @Test
  void generatorIsSplitMix64() {
    // Vigna's splitmix64.c reference output for state 1234567
    RandomGenerator g = Noise.ofKey(1234567L).generator();
    assertEquals(6457827717110365317L, g.nextLong());
    assertEquals(3203168211198807973L, g.nextLong());
    assertEquals(Long.parseUnsignedLong("9817491932198370423"), g.nextLong());
  }

  /** Bit-exact pins of version 1, taken before version 2 existed: seeded results of old runs must not move. */
  @Test
  void versionOneIsPinned() {
    int[] first = {0x3e6da019, 0x3fb5b8b8, 0x3ff0089f, 0x401e02e9, 0xbf1a49c8, 0x3ffb79b5};
    float[] got = Noise.seeded(42).normals(first.length);
    for (int i = 0; i < first.length; i++) {
      assertEquals(first[i], Float.floatToRawIntBits(got[i]), "value " + i);
    }
    float[] all = new float[1000 * 75];
    Noise.seeded(7).split(3).fillPerItem(all, 1000, 75, 0);
    assertEquals(0xb30299a283c68e84L, digest(all));
    float[] big = new float[1 << 20];
    Noise.seeded(2024).fillNormal(big, 0, big.length);
    assertEquals(0xdef408d69c4822afL, digest(big));
    assertEquals(NoiseVersion.ZIGGURAT, Noise.seeded(1).version());
  }

  /** An order-dependent hash of the float bits (FNV-style). */
  static long digest(float[] v) {
    long h = 0;
    for (float x : v) {
      h = h * 0x100000001B3L + Float.floatToRawIntBits(x);
    }
    return h;
  }

  @Test
  void versionsShareKeysButNotNormals() {
    Noise one = Noise.seeded(9);
    Noise two = one.withVersion(NoiseVersion.BOX_MULLER);
    assertEquals(one.key(), two.key());
    assertEquals(one.split(4).key(), two.split(4).key());
    assertEquals(NoiseVersion.BOX_MULLER, two.split(4).version());
    assertNotEquals(one, two);
    assertEquals(one.generator().nextLong(), two.generator().nextLong());
    assertNotEquals(Arrays.toString(one.normals(4)), Arrays.toString(two.normals(4)));
    assertEquals(NoiseVersion.BOX_MULLER, NoiseVersion.of(2));
    assertEquals(NoiseVersion.ZIGGURAT, NoiseVersion.of(NoiseVersion.ZIGGURAT.number()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NoiseVersion.of(3));
    assertEquals("noise version 3 is unknown; this diffusion4j knows 1, 2", e.getMessage());
  }

  @Test
  void sameSeedSameNumbersAndSplitsDiffer() {
    assertArrayEquals(Noise.seeded(42).normals(1000), Noise.seeded(42).normals(1000));
    assertNotEquals(Arrays.toString(Noise.seeded(42).normals(8)), Arrays.toString(Noise.seeded(43).normals(8)));
    assertNotEquals(Noise.seeded(42).split(1).key(), Noise.seeded(42).split(2).key());
    assertNotEquals(Noise.seeded(42).split(0).key(), Noise.seeded(42).key());
    assertEquals(Noise.seeded(7).split(3).split(4), Noise.seeded(7).split(3).split(4));
  }

  @Test
  void perItemFillDoesNotDependOnBatching() {
    float[] all = new float[10 * 6];
    Noise n = Noise.seeded(5);
    n.fillPerItem(all, 10, 6, 0);
    float[] tail = new float[4 * 6];
    n.fillPerItem(tail, 4, 6, 6);
    assertArrayEquals(Arrays.copyOfRange(all, 36, 60), tail);
    assertArrayEquals(n.split(3).normals(6), Arrays.copyOfRange(all, 18, 24));
  }

  /** Both versions refuse a batch that does not fit before writing any of it; empty batches are no-ops. */
  @Test
  void perItemFillChecksTheWholeBatchFirst() {
    for (NoiseVersion v : NoiseVersion.values()) {
      Noise n = Noise.seeded(5).withVersion(v);
      float[] a = new float[10];
      assertThrows(IndexOutOfBoundsException.class, () -> n.fillPerItem(a, 3, 4, 0), v.toString());
      assertArrayEquals(new float[10], a, v + ": nothing written");
      n.fillPerItem(a, 0, 4, 0);
      n.fillPerItem(a, 3, 0, 0);
      assertArrayEquals(new float[10], a, v + ": empty batches");
      n.fillPerItem(a, 2, 5, 0);
      assertArrayEquals(n.split(1).normals(5), Arrays.copyOfRange(a, 5, 10), v + ": an exact fit");
    }
  }

  static double phi(double x) {
    return 0.5 * (1 + erf(x / Math.sqrt(2)));
  }

  /** Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7. */
  static double erf(double x) {
    double t = 1 / (1 + 0.3275911 * Math.abs(x));
    double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
        * Math.exp(-x * x);
    return x >= 0 ? y : -y;
  }

  @Test
  void normalsHaveTheRightDistribution() {
    RandomGenerator g = Noise.seeded(2024).generator();
    double[] v = new double[400_000];
    for (int i = 0; i < v.length; i++) {
      v[i] = g.nextGaussian();
    }
    assertStandardNormal(v);
  }

  /**
   * Checks the first four moments (within 5 standard errors) and the Kolmogorov-Smirnov statistic (below
   * its 0.1% critical value, {@code 1.95 / sqrt(n)}) of a sample against the standard normal; sorts it.
   *
   * @param v the sample
   */
  static void assertStandardNormal(double[] v) {
    int n = v.length;
    double sum = 0;
    double sq = 0;
    double cube = 0;
    double quad = 0;
    for (double x : v) {
      sum += x;
      sq += x * x;
      cube += x * x * x;
      quad += x * x * x * x;
    }
    double se = 1 / Math.sqrt(n);
    assertEquals(0, sum / n, 5 * se, "mean");
    assertEquals(1, sq / n, 5 * Math.sqrt(2) * se, "variance");
    assertEquals(0, cube / n, 5 * Math.sqrt(15) * se, "skewness");
    assertEquals(3, quad / n, 5 * Math.sqrt(96) * se, "kurtosis");
    Arrays.sort(v);
    double d = 0;
    for (int i = 0; i < n; i++) {
      double f = phi(v[i]);
      d = Math.max(d, Math.max(Math.abs(f - (double) i / n), Math.abs((double) (i + 1) / n - f)));
    }
    assertTrue(d < 1.95 / Math.sqrt(n), "KS statistic " + d);
  }

  @Test
  void tailBeyondTheZigguratBaseIsRight() {
    int n = 4_000_000;
    RandomGenerator g = Noise.seeded(99).generator();
    int beyond = 0;
    for (int i = 0; i < n; i++) {
      if (Math.abs(g.nextGaussian()) > 3.6541528853610088) {
        beyond++;
      }
    }
    double p = 2 * (1 - phi(3.6541528853610088));
    double expected = n * p;
    assertEquals(expected, beyond, 5 * Math.sqrt(expected), "tail count");
  }

  @Test
  void boundedIntegersAreUniformAndInRange() {
    RandomGenerator g = Noise.seeded(1).generator();
    double chi2 = chiSquare(g, 7, 70_000);
    assertTrue(chi2 < 22.5, "chi-square with 6 degrees of freedom at 0.1%: " + chi2);
    int[] perm = {0, 1, 2, 3, 4, 5, 6, 7};
    g.shuffle(perm);
    int[] sorted = perm.clone();
    Arrays.sort(sorted);
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, sorted);
  }

  /** Pearson's chi-square of {@code n} draws of {@code nextInt(bound)} against the uniform distribution. */
  static double chiSquare(RandomGenerator g, int bound, int n) {
    int[] counts = new int[bound];
    for (int i = 0; i < n; i++) {
      counts[g.nextInt(bound)]++;
    }
    double expected = (double) n / bound;
    double chi2 = 0;
    for (int c : counts) {
      chi2 += (c - expected) * (c - expected) / expected;
    }
    return chi2;
  }

  /**
   * An even bound: the counts of odd and even results must balance (a generator that lost its low bit would
   * give only even values, which the odd bound above cannot see), and an empty range is refused.
   */
  @Test
  void boundedIntegersCoverEvenBoundsAndRefuseEmptyRanges() {
    RandomGenerator g = Noise.seeded(11).generator();
    double chi2 = chiSquare(g, 6, 60_000);
    assertTrue(chi2 < 20.5, "chi-square with 5 degrees of freedom at 0.1%: " + chi2);
    assertThrows(IllegalArgumentException.class, () -> g.nextInt(0));
    assertThrows(IllegalArgumentException.class, () -> g.nextInt(-3));
  }

  /**
   * The documented Fisher-Yates order (last index down, {@code nextInt(i + 1)} for {@code i >= 1}), done here
   * by hand on a twin generator: the same permutation, and the same number of draws (the next word agrees),
   * so a seeded shuffle stays reproducible; 100 elements left in order would have probability 1/100!.
   */
  @Test
  void shuffleIsTheDocumentedFisherYates() {
    RandomGenerator g = Noise.seeded(8).generator();
    RandomGenerator twin = Noise.seeded(8).generator();
    int[] perm = new int[100];
    int[] expected = new int[100];
    for (int i = 0; i < perm.length; i++) {
      perm[i] = i;
      expected[i] = i;
    }
    int[] identity = perm.clone();
    g.shuffle(perm);
    for (int i = expected.length - 1; i >= 1; i--) {
      int j = twin.nextInt(i + 1);
      int t = expected[i];
      expected[i] = expected[j];
      expected[j] = t;
    }
    assertArrayEquals(expected, perm);
    assertFalse(Arrays.equals(identity, perm), "the shuffle moved something");
    assertEquals(twin.nextLong(), g.nextLong(), "shuffle drew exactly n - 1 bounded integers");
  }

  @Test
  void uniformsAreInRange() {
    RandomGenerator g = Noise.seeded(3).generator();
    for (int i = 0; i < 10_000; i++) {
      double d = g.nextDouble();
      float f = g.nextFloat();
      assertTrue(d >= 0 && d < 1);
      assertTrue(f >= 0 && f < 1);
    }
    // the float's 24 bits are the top 24 of the word whose top 53 make the double: on twin generators the
    // float is the double rounded down to a multiple of 2^-24, exactly (both are exact binary fractions)
    RandomGenerator a = Noise.seeded(4).generator();
    RandomGenerator b = Noise.seeded(4).generator();
    for (int i = 0; i < 1000; i++) {
      double d = b.nextDouble();
      assertEquals(Math.floor(d * 0x1.0p24) * 0x1.0p-24, a.nextFloat(), 0.0, "draw " + i);
    }
  }
}
