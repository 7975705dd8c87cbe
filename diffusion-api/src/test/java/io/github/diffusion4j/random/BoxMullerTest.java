package io.github.diffusion4j.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Noise version 2: both implementations equal an independent NumPy implementation bit for bit, equal each
 * other on every length, offset and batch layout, never write outside their range, and produce standard
 * normals. The api's tests run with the {@code jdk.incubator.vector} module (see the pom), so the Vector API
 * code is loaded and checked here; the other modules' tests run without it, on the scalar code.
 *
 * <p>Statistical bounds are about 5 standard errors for fixed seeds, as in {@link NoiseTest}.
 */
class BoxMullerTest {
  /**
   * The Vector API fills, whatever the CPU (elsewhere the 512-bit one is used only with AVX-512 and the
   * 256-bit one only with AVX2, for speed): the words in 512-bit long vectors, and the words one at a time.
   */
  private static final BoxMuller.Filler[] VECTOR = vectorFillers();

  private static BoxMuller.Filler[] vectorFillers() {
    assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
        "the api's tests run with --add-modules jdk.incubator.vector (diffusion-api/pom.xml)");
    return new BoxMuller.Filler[] {BoxMullerVector::fill, BoxMullerVector::fill256};
  }

  private static float[] fill(BoxMuller.Filler f, long key, int n) {
    float[] out = new float[n];
    f.fill(key, out, 0, n, n);
    return out;
  }

  @Test
  void matchesTheNumPyReferenceBitForBit() throws IOException {
    String text;
    try (InputStream in = BoxMullerTest.class.getResourceAsStream("/noise/box_muller_v2.txt")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    int streams = 0;
    for (String line : text.split("\n")) {
      String[] p = line.trim().split(" ");
      long key = Long.parseUnsignedLong(p[0], 16);
      int n = Integer.parseInt(p[1]);
      int[] want = new int[n];
      for (int i = 0; i < n; i++) {
        want[i] = Integer.parseUnsignedInt(p[2 + i], 16);
      }
      assertArrayEquals(want, bits(fill(BoxMuller.SCALAR, key, n)), "scalar, key " + p[0]);
      for (int f = 0; f < VECTOR.length; f++) {
        assertArrayEquals(want, bits(fill(VECTOR[f], key, n)), "vector fill " + f + ", key " + p[0]);
      }
      assertArrayEquals(want, bits(Noise.ofKey(key).withVersion(NoiseVersion.BOX_MULLER).normals(n)),
          "Noise.normals, key " + p[0]);
      streams++;
    }
    assertEquals(16, streams);
  }

  private static int[] bits(float[] v) {
    int[] b = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = Float.floatToRawIntBits(v[i]);
    }
    return b;
  }

  @Test
  void scalarAndVectorAgreeOnEveryLayout() {
    for (BoxMuller.Filler vector : VECTOR) {
      scalarAndVectorAgreeOnEveryLayout(vector);
    }
  }

  private static void scalarAndVectorAgreeOnEveryLayout(BoxMuller.Filler vector) {
    for (int n = 0; n <= 70; n++) {
      for (int off : new int[] {0, 3}) {
        long key = 0x5DEECE66DL * (n + 1) + off;
        float[] s = new float[off + n + 40];
        float[] v = new float[off + n + 40];
        Arrays.fill(s, 7f);
        Arrays.fill(v, 7f);
        BoxMuller.SCALAR.fill(key, s, off, n, off + n);
        vector.fill(key, v, off, n, off + n);
        assertArrayEquals(s, v, "n " + n + " off " + off);
        for (int i = 0; i < s.length; i++) {
          if (i < off || i >= off + n) {
            assertEquals(7f, v[i], "vector wrote outside its range at " + i + " (n " + n + ")");
            assertEquals(7f, s[i], "scalar wrote outside its range at " + i + " (n " + n + ")");
          }
        }
      }
    }
  }

  /**
   * The fills as the JIT compiles them give the scalar loop's bits: the tests above fill at most 70 values, which
   * run the Vector API's Java fallbacks (interpreted), not the CPU's SIMD instructions; here one long fill (C2
   * compiles its loop on the stack) and thousands of short ones (C2 compiles the per-block method) run the compiled
   * code, which differs between CPUs (512-bit, 256-bit or emulated vectors: run with {@code -Pisa-avx2} or
   * {@code -XX:MaxVectorSize=16} to check the others, docs/reliability.md). The scalar results are compiled too,
   * and must be the same bits (docs/noise.md: no fused multiply-add, exact or correctly rounded operations).
   */
  @Test
  void compiledFillsGiveTheScalarBits() {
    int n = 1 << 20;
    long key = 0x243F6A8885A308D3L;
    int[] want = bits(fill(BoxMuller.SCALAR, key, n));
    int items = 5000;
    int itemSize = 75;
    float[] scalarItems = new float[items * itemSize];
    for (int i = 0; i < items; i++) {
      BoxMuller.SCALAR.fill(key + i, scalarItems, i * itemSize, itemSize, items * itemSize);
    }
    BoxMuller.Filler[] fillers = Arrays.copyOf(VECTOR, VECTOR.length + 1);
    fillers[VECTOR.length] = BoxMuller.FASTEST;
    for (int f = 0; f < fillers.length; f++) {
      assertArrayEquals(want, bits(fill(fillers[f], key, n)), "fill " + f + " of " + n + " values");
      float[] got = new float[items * itemSize];
      for (int i = 0; i < items; i++) {
        fillers[f].fill(key + i, got, i * itemSize, itemSize, items * itemSize);
      }
      assertArrayEquals(bits(scalarItems), bits(got), "fill " + f + ", " + items + " items of " + itemSize);
    }
  }

  @Test
  void perItemFillsSpillOnlyIntoTheirBatch() {
    for (int itemSize : new int[] {1, 5, 16, 17, 75}) {
      int items = 13;
      Noise noise = Noise.seeded(itemSize).withVersion(NoiseVersion.BOX_MULLER);
      float[] batch = new float[items * itemSize + 20];
      Arrays.fill(batch, 7f);
      noise.fillPerItem(batch, items, itemSize, 100);
      for (int i = items * itemSize; i < batch.length; i++) {
        assertEquals(7f, batch[i], "wrote past the batch at " + i);
      }
      for (int i = 0; i < items; i++) {
        assertArrayEquals(fill(BoxMuller.SCALAR, noise.split(100 + i).key(), itemSize),
            Arrays.copyOfRange(batch, i * itemSize, (i + 1) * itemSize), "item " + i + " of size " + itemSize);
      }
    }
  }

  @Test
  void rangesAreChecked() {
    float[] a = new float[10];
    BoxMuller.Filler[] all = Arrays.copyOf(VECTOR, VECTOR.length + 1);
    all[VECTOR.length] = BoxMuller.SCALAR;
    for (BoxMuller.Filler f : all) {
      assertThrows(IndexOutOfBoundsException.class, () -> f.fill(1, a, 5, 6, 11));
      assertThrows(IndexOutOfBoundsException.class, () -> f.fill(1, a, 0, 6, 5));
      assertThrows(IndexOutOfBoundsException.class, () -> f.fill(1, a, 0, -1, 10));
      // off + n overflows to a negative end, which no later comparison with the limit would notice
      assertThrows(IndexOutOfBoundsException.class, () -> f.fill(1, a, 20, Integer.MAX_VALUE - 15, 10));
    }
    assertThrows(IndexOutOfBoundsException.class,
        () -> Noise.seeded(1).withVersion(NoiseVersion.BOX_MULLER).fillPerItem(a, 3, 4, 0));
  }

  @Test
  void normalsHaveTheRightDistribution() {
    float[] v = Noise.seeded(2024).withVersion(NoiseVersion.BOX_MULLER).normals(400_000);
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    NoiseTest.assertStandardNormal(d);
    assertTrue(d[0] >= -5.7686 && d[d.length - 1] <= 5.7686,
        "the largest value is sqrt(-2 ln 2^-24) = 5.7685; got " + d[0] + " and " + d[d.length - 1]);
  }

  @Test
  void cosineAndSineHalvesAreUncorrelatedAndTailsAreRight() {
    int n = 4_000_000;
    float[] v = Noise.seeded(99).withVersion(NoiseVersion.BOX_MULLER).normals(n);
    // the two normals of one word (positions l and l + 8 of a block) are independent in theory
    double xy = 0;
    int beyond3 = 0;
    int beyond4 = 0;
    for (int b = 0; b < n; b += 16) {
      for (int l = 0; l < 8; l++) {
        xy += (double) v[b + l] * v[b + 8 + l];
      }
    }
    for (float f : v) {
      beyond3 += Math.abs(f) > 3 ? 1 : 0;
      beyond4 += Math.abs(f) > 4 ? 1 : 0;
    }
    int pairs = n / 2;
    assertEquals(0, xy / pairs, 5 / Math.sqrt(pairs), "correlation of a word's cosine and sine normals");
    double p3 = 2 * (1 - NoiseTest.phi(3));
    double p4 = 2 * (1 - NoiseTest.phi(4));
    assertEquals(n * p3, beyond3, 5 * Math.sqrt(n * p3), "count beyond 3 sigma");
    assertEquals(n * p4, beyond4, 5 * Math.sqrt(n * p4), "count beyond 4 sigma");
  }

  @Test
  void aVectorSwitchThatIsNotABooleanIsRefusedByEveryFillNotSilentlyTurnedOff() {
    String before = System.getProperty(BoxMuller.VECTOR_PROPERTY);
    try {
      System.setProperty(BoxMuller.VECTOR_PROPERTY, "ture");
      BoxMuller.Filler f = BoxMuller.fastest();
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> f.fill(1, new float[16], 0, 16, 16));
      assertEquals("system property diffusion4j.noise.vector: 'ture' is not a boolean (allowed: true, false)",
          e.getMessage());
      System.setProperty(BoxMuller.VECTOR_PROPERTY, "FALSE");
      assertTrue(BoxMuller.fastest() == BoxMuller.SCALAR);
    } finally {
      if (before == null) {
        System.clearProperty(BoxMuller.VECTOR_PROPERTY);
      } else {
        System.setProperty(BoxMuller.VECTOR_PROPERTY, before);
      }
    }
  }
}
