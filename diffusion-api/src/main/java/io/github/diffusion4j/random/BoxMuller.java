package io.github.diffusion4j.random;

import io.github.diffusion4j.settings.SystemSwitch;

/**
 * Noise version 2 ({@link NoiseVersion#BOX_MULLER}): standard normals by the Box-Muller transform in float32,
 * specified exactly so that every JVM, with or without SIMD, gives the same bits.
 *
 * <h2>The algorithm (the contract: changing it changes every seeded sample)</h2>
 *
 * <p>A stream with key {@code K} has the SplitMix64 words {@code w_k = mix64(K + k * 0x9E3779B97F4A7C15)},
 * {@code k = 1, 2, ...} (as in version 1). Its normals come in blocks of 16: block {@code b} uses the words
 * {@code w_{8b+1} .. w_{8b+8}}; word {@code w_{8b+1+l}} ({@code l = 0..7}) gives normal {@code 16b + l}
 * ({@code r cos θ}) and normal {@code 16b + 8 + l} ({@code r sin θ}). A fill of {@code n} values uses the
 * first {@code n} normals of the stream. Per word {@code w}, all arithmetic in float32 (IEEE 754, round to
 * nearest, no fused multiply-add), in exactly this order:
 *
 * <pre>
 *   v  = (w >>> 40) + 1                      an integer in [1, 2^24]; u1 = v / 2^24 in (0, 1]
 *   e, m: v = m 2^e with m in [1, 2);  if m > sqrt(2) (bits 0x3FB504F3): m = m / 2, e = e + 1
 *   s  = (m - 1) / (m + 1);  z = s * s
 *   p  = (((L9 z + L7) z + L5) z + L3) z + 1          L3..L9 = float(1/3), float(1/5), float(1/7), float(1/9)
 *   ln = (e - 24) LN2_HI + ((e - 24) LN2_LO + (s 2) p)         = ln(u1)
 *   r  = sqrt(ln (-2))
 *   c  = (w >>> 16) and 0xFFFFFF             the angle θ = 2 pi c / 2^24
 *   q  = c >>> 22 (the quadrant);  h = bit 21 of c;  f = c and 0x1FFFFF
 *   g  = h ? 2^21 - f : f;  phi = g PI4       PI4 = float(pi / 2^23), so phi = the angle to the nearest axis
 *   y  = phi phi
 *   sn = phi ((((S9 y + S7) y + S5) y + S3) y + 1)          S3..S9 = float(-1/3!), float(1/5!), ...
 *   cs = ((((C10 y + C8) y + C6) y + C4) y + C2) y + 1       C2..C10 = float(-1/2!), float(1/4!), ...
 *   (c0, s0) = h ? (sn, cs) : (cs, sn)
 *   (C, S) = q = 0: (c0, s0);  1: (-s0, c0);  2: (-c0, -s0);  3: (s0, -c0)
 *   normals: r C and r S
 * </pre>
 *
 * <p>The logarithm's series and the sine and cosine polynomials are accurate to a few float ulps on their
 * ranges ({@code |s| <= 0.172}, {@code phi <= pi/4}); the square root, the division and the conversions of
 * integers below 2^24 are exact or correctly rounded in float32, so the result does not depend on how a JVM
 * evaluates them. The largest value is {@code sqrt(-2 ln 2^-24) = 5.77}.
 *
 * <p>Two implementations compute it: this class's scalar loop, and {@code BoxMullerVector} (the JDK's Vector
 * API, a block at a time), used when the {@code jdk.incubator.vector} module is present and the CPU has
 * 256-bit integer vectors (AVX2) or 512-bit vectors. Tests check that they agree bit for bit, and against values computed independently with
 * NumPy ({@code docs/noise_reference.py}).
 */
final class BoxMuller {
  static final float L3 = 1f / 3;
  static final float L5 = 1f / 5;
  static final float L7 = 1f / 7;
  static final float L9 = 1f / 9;
  /** {@code ln 2} split so that {@code k * LN2_HI} is exact for {@code |k| <= 2^11}. */
  static final float LN2_HI = 0.693145751953125f;
  static final float LN2_LO = 1.42860677e-06f;
  /** The float bits of the largest mantissa kept below {@code sqrt(2)}. */
  static final int SQRT2_BITS = 0x3FB504F3;
  static final float PI4 = (float) (Math.PI / (1 << 23));
  static final float S3 = -1f / 6;
  static final float S5 = 1f / 120;
  static final float S7 = -1f / 5040;
  static final float S9 = 1f / 362880;
  static final float C2 = -1f / 2;
  static final float C4 = 1f / 24;
  static final float C6 = -1f / 720;
  static final float C8 = 1f / 40320;
  static final float C10 = -1f / 3628800;

  /** {@code (e - 24) * LN2_HI} and {@code (e - 24) * LN2_LO} in float32 for {@code e = 0..24}. */
  private static final float[] LN_HI = new float[25];
  private static final float[] LN_LO = new float[25];

  static {
    for (int e = 0; e <= 24; e++) {
      LN_HI[e] = (float) (e - 24) * LN2_HI;
      LN_LO[e] = (float) (e - 24) * LN2_LO;
    }
  }

  /** A fill of a whole stream range, one implementation of the algorithm. */
  interface Filler {
    /**
     * Writes the first {@code n} normals of the stream with key {@code key} to {@code dst[off, off + n)}.
     *
     * @param key the stream's key (its SplitMix64 state before the first word)
     * @param dst the destination
     * @param off the first index written
     * @param n how many values
     * @param limit the end of what may be written: {@code dst[off + n, limit)} may be overwritten with
     *     other values (a caller filling consecutive ranges in order lets the last block of one range spill
     *     into the next); at least {@code off + n}
     */
    void fill(long key, float[] dst, int off, int n, int limit);
  }

  /** The scalar implementation. */
  static final Filler SCALAR = BoxMuller::fillScalar;

  /**
   * The system property that turns the Vector API implementation off ({@code false}; the same bits, slower). Any
   * value but {@code true} or {@code false} is refused by every fill ({@link io.github.diffusion4j.settings.SystemSwitch}).
   */
  static final String VECTOR_PROPERTY = "diffusion4j.noise.vector";

  /** The fastest implementation this JVM runs: the Vector API's, or the scalar one. */
  static final Filler FASTEST = fastest();

  private BoxMuller() {}

  /**
   * The implementation the property {@value #VECTOR_PROPERTY} and this JVM allow ({@link #FASTEST} is its value at
   * class initialisation; tests call it again with the property set).
   *
   * @return the Vector API's filler, the scalar one, or for a value that is not a boolean one whose every fill
   *     refuses it
   */
  static Filler fastest() {
    boolean on;
    try {
      on = SystemSwitch.read(VECTOR_PROPERTY, true);
    } catch (IllegalArgumentException e) {
      // a static initialiser must not fail (the class would be unusable, with a NoClassDefFoundError later):
      // every fill refuses the value instead, with the same one-line message
      return (key, dst, off, n, limit) -> {
        throw new IllegalArgumentException(e.getMessage());
      };
    }
    if (!on || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      return SCALAR;
    }
    try {
      Class<?> c = Class.forName(BoxMuller.class.getName() + "Vector");
      Filler f = (Filler) c.getDeclaredMethod("filler").invoke(null);
      return f != null ? f : SCALAR;
    } catch (ReflectiveOperationException | LinkageError e) {
      return SCALAR;
    }
  }

  /**
   * Whether the Vector API implementation is in use.
   *
   * @return true if SIMD fills are used
   */
  static boolean vectorised() {
    return FASTEST != SCALAR;
  }

  /**
   * Checks a fill's range.
   *
   * @throws IndexOutOfBoundsException if it does not fit
   */
  static void checkRange(float[] dst, int off, int n, int limit) {
    if (n < 0 || off < 0 || off > dst.length - n || limit < off + n || limit > dst.length) {
      throw new IndexOutOfBoundsException("a fill of " + n + " values at " + off + " (limit " + limit
          + ") in an array of " + dst.length);
    }
  }

  /** The words of one block. */
  static final int WORDS_PER_BLOCK = 8;

  /** The scalar implementation; writes nothing past {@code off + n}. */
  static void fillScalar(long key, float[] dst, int off, int n, int limit) {
    checkRange(dst, off, n, limit);
    long st = key;
    int end = off + n;
    int o = off;
    for (; o + 2 * WORDS_PER_BLOCK <= end; o += 2 * WORDS_PER_BLOCK) {
      for (int l = 0; l < WORDS_PER_BLOCK; l++) {
        pair(Noise.mix64(st += Noise.GOLDEN_GAMMA), dst, o + l, o + WORDS_PER_BLOCK + l);
      }
    }
    if (o < end) {
      float[] last = new float[2 * WORDS_PER_BLOCK];
      for (int l = 0; l < WORDS_PER_BLOCK; l++) {
        pair(Noise.mix64(st += Noise.GOLDEN_GAMMA), last, l, WORDS_PER_BLOCK + l);
      }
      System.arraycopy(last, 0, dst, o, end - o);
    }
  }

  /**
   * One word's two normals, {@code r cos θ} to {@code dst[ic]} and {@code r sin θ} to {@code dst[is]}.
   * Branch-free, and without int-to-float conversions (whose false register dependencies serialise the
   * loop on x86): exact bit manipulations give the same floats. Split in two so that the JIT inlines both
   * into the loop and overlaps consecutive words.
   */
  static void pair(long w, float[] dst, int ic, int is) {
    float r = radius(w);
    int c = (int) (w >>> 16) & 0xFFFFFF;
    int hm = -((c >>> 21) & 1);
    int f = c & 0x1FFFFF;
    int g = ((f ^ hm) - hm) + (hm & (1 << 21));
    float phi = (Float.intBitsToFloat(0x4B000000 | g) - 8388608f) * PI4;
    float y = phi * phi;
    float sn = phi * ((((S9 * y + S7) * y + S5) * y + S3) * y + 1f);
    float cs = ((((C10 * y + C8) * y + C6) * y + C4) * y + C2) * y + 1f;
    int ci = Float.floatToRawIntBits(cs);
    int si = Float.floatToRawIntBits(sn);
    int c0 = (ci & ~hm) | (si & hm);
    int s0 = (si & ~hm) | (ci & hm);
    int odd = -((c >>> 22) & 1);
    int neg = (c >>> 23) << 31;
    dst[ic] = r * Float.intBitsToFloat(((c0 & ~odd) | ((s0 ^ 0x80000000) & odd)) ^ neg);
    dst[is] = r * Float.intBitsToFloat(((s0 & ~odd) | (c0 & odd)) ^ neg);
  }

  /** {@code sqrt(-2 ln u1)} of a word. */
  private static float radius(long w) {
    int v = (int) (w >>> 40) + 1;
    int e = 31 - Integer.numberOfLeadingZeros(v);
    int mb = (int) (((long) v << 23 >>> e) & 0x7FFFFF) | 0x3F800000;
    int big = (SQRT2_BITS - mb) >> 31;
    mb -= big & 0x00800000;
    e -= big;
    float m = Float.intBitsToFloat(mb);
    float s = (m - 1f) / (m + 1f);
    float z = s * s;
    float p = (((L9 * z + L7) * z + L5) * z + L3) * z + 1f;
    float ln = LN_HI[e] + (LN_LO[e] + s * 2f * p);
    return (float) Math.sqrt(ln * -2f);
  }
}
