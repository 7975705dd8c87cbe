package io.github.diffusion4j.random;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BoxMuller}'s algorithm with the JDK's Vector API: 8 words (16 normals) per block, the float arithmetic
 * in 256-bit vectors, with the same operations in the same order as the scalar code, so the results are the
 * same bits. Two fills differ in how they make a block's words: {@link #fill} in one 512-bit long vector (for
 * AVX-512 CPUs, where SplitMix64's 64-bit multiplications are SIMD instructions), {@link #fill256} one at a
 * time in scalar code (for AVX2 CPUs: a 512-bit long vector is emulated there and ran 2.5x slower than the
 * scalar loop, 256-bit long vectors' conversions to ints were not intrinsified in JDK 17; on an AMD EPYC Zen
 * 3, 75,000 values per item of 75 in 250-290 us against 610-980 us for the scalar loop). (Variants measured
 * slower on this project's AMD EPYC Zen 5: the float arithmetic in 512-bit vectors ran at less than half the
 * rate per lane, and interleaving each word's cosine and sine in memory cost a fifth more than the block
 * layout. On the Zen 3, computing the next block's words before this block's floats gained nothing.)
 *
 * <p>A block's two integer fields pass through a small scratch array to {@link #normals}, which C2 compiles
 * as a method of its own (it is too large to inline), so that no vector is passed to a call that is not
 * inlined (such a vector is boxed on the heap).
 *
 * <p>Compiled and loaded only with the incubator module {@code jdk.incubator.vector}; {@link BoxMuller}
 * finds it by reflection and falls back to the scalar loop without it. The species are constants (C2 in JDK
 * 17 compiles Vector API code to SIMD instructions only then).
 */
final class BoxMullerVector {
  /** Words per block. */
  private static final int WORDS = 8;

  private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

  /**
   * The 512-bit long vector of {@link #fill}, made only where that fill runs: on an AVX2 CPU it would be an
   * emulated vector of a second species in the process.
   */
  private static final class Words512 {
    static final VectorSpecies<Long> L = LongVector.SPECIES_512;
    /** {@code k * gamma} for the words {@code k = 1..8} of a block. */
    static final LongVector STEPS;

    static {
      long[] s = new long[WORDS];
      for (int i = 0; i < s.length; i++) {
        s[i] = (i + 1) * Noise.GOLDEN_GAMMA;
      }
      STEPS = LongVector.fromArray(L, s, 0);
    }

    private Words512() {}
  }

  private BoxMullerVector() {}

  /**
   * The vectorised filler for this CPU: {@link #fill} with native 512-bit vectors, {@link #fill256} with
   * 256-bit integer vectors (AVX2).
   *
   * @return the filler, or null where neither is faster than the scalar loop
   */
  static BoxMuller.Filler filler() {
    if (LongVector.SPECIES_PREFERRED.vectorBitSize() >= 512) {
      return BoxMullerVector::fill;
    }
    return IntVector.SPECIES_PREFERRED.vectorBitSize() >= 256 ? BoxMullerVector::fill256 : null;
  }

  /**
   * The fill for CPUs with 512-bit vectors (AVX-512): a block's words in one 512-bit long vector. Same
   * contract as {@link BoxMuller.Filler#fill}.
   */
  static void fill(long key, float[] dst, int off, int n, int limit) {
    fill(VECTOR_WORDS, key, dst, off, n, limit);
  }

  /**
   * The fill for CPUs whose vectors have 256 bits (AVX2): SplitMix64's words one at a time (its 64-bit
   * multiplications have no SIMD instruction there). Same contract as {@link BoxMuller.Filler#fill}.
   */
  static void fill256(long key, float[] dst, int off, int n, int limit) {
    fill(SCALAR_WORDS, key, dst, off, n, limit);
  }

  /** How a block's words are made: their two fields written to a scratch block. */
  private interface Fields {
    /**
     * Writes the fields of the 8 words after state {@code st}: {@code v = (w >>> 40) + 1} to {@code fields[0,
     * 8)}, {@code c = (w >>> 16) and 0xFFFFFF} to {@code fields[8, 16)}.
     *
     * @return the state after the 8 words
     */
    long next(long st, int[] fields);
  }

  private static final Fields SCALAR_WORDS = BoxMullerVector::scalarFields;
  private static final Fields VECTOR_WORDS = BoxMullerVector::vectorFields;

  private static void fill(Fields words, long key, float[] dst, int off, int n, int limit) {
    BoxMuller.checkRange(dst, off, n, limit);
    int[] fields = new int[2 * WORDS];
    long st = key;
    int end = off + n;
    int o = off;
    for (; o < end && o + 2 * WORDS <= limit; o += 2 * WORDS) {
      st = words.next(st, fields);
      normals(fields, dst, o);
    }
    if (o < end) {
      float[] last = new float[2 * WORDS];
      words.next(st, fields);
      normals(fields, last, 0);
      System.arraycopy(last, 0, dst, o, end - o);
    }
  }

  private static long scalarFields(long st, int[] fields) {
    for (int l = 0; l < WORDS; l++) {
      long w = Noise.mix64(st += Noise.GOLDEN_GAMMA);
      fields[l] = (int) (w >>> 40) + 1;
      fields[WORDS + l] = (int) (w >>> 16) & 0xFFFFFF;
    }
    return st;
  }

  private static long vectorFields(long st, int[] fields) {
    LongVector w = mix(Words512.STEPS.add(st));
    ((IntVector) w.lanewise(VectorOperators.LSHR, 40).add(1L).convertShape(VectorOperators.L2I, I, 0))
        .intoArray(fields, 0);
    ((IntVector) w.lanewise(VectorOperators.LSHR, 16).convertShape(VectorOperators.L2I, I, 0)).and(0xFFFFFF)
        .intoArray(fields, WORDS);
    return st + WORDS * Noise.GOLDEN_GAMMA;
  }

  /**
   * The 16 normals of 8 words from their two fields: {@code v = (w >>> 40) + 1} and {@code c = (w >>> 16) and
   * 0xFFFFFF}; cosines to {@code dst[o, o + 8)}, sines after.
   */
  private static void normals(int[] fields, float[] dst, int o) {
    IntVector v = IntVector.fromArray(I, fields, 0);
    IntVector c = IntVector.fromArray(I, fields, WORDS);
    // r = sqrt(-2 ln u1): v as a float (exact below 2^24), its exponent and mantissa
    IntVector bits = ((FloatVector) v.convertShape(VectorOperators.I2F, F, 0)).reinterpretAsInts();
    IntVector mb = bits.and(0x7FFFFF).or(0x3F800000);
    VectorMask<Integer> big = mb.compare(VectorOperators.GT, BoxMuller.SQRT2_BITS);
    mb = mb.sub(0x00800000, big);
    IntVector e = bits.lanewise(VectorOperators.LSHR, 23).sub(127).add(1, big);
    FloatVector m = mb.reinterpretAsFloats();
    FloatVector s = m.sub(1f).div(m.add(1f));
    FloatVector y = s.mul(s);
    FloatVector p = y.mul(BoxMuller.L9).add(BoxMuller.L7).mul(y).add(BoxMuller.L5).mul(y).add(BoxMuller.L3).mul(y)
        .add(1f);
    FloatVector ef = (FloatVector) e.sub(24).convertShape(VectorOperators.I2F, F, 0);
    FloatVector ln = ef.mul(BoxMuller.LN2_HI).add(ef.mul(BoxMuller.LN2_LO).add(s.mul(2f).mul(p)));
    FloatVector r = ln.mul(-2f).sqrt();

    // the angle: quadrant, half quadrant, and the angle to the nearest axis
    VectorMask<Integer> h = c.and(1 << 21).compare(VectorOperators.NE, 0);
    IntVector f = c.and(0x1FFFFF);
    IntVector g = f.blend(f.neg().add(1 << 21), h);
    FloatVector phi = ((FloatVector) g.convertShape(VectorOperators.I2F, F, 0)).mul(BoxMuller.PI4);
    FloatVector q = phi.mul(phi);
    FloatVector sn = phi.mul(q.mul(BoxMuller.S9).add(BoxMuller.S7).mul(q).add(BoxMuller.S5).mul(q)
        .add(BoxMuller.S3).mul(q).add(1f));
    FloatVector cs = q.mul(BoxMuller.C10).add(BoxMuller.C8).mul(q).add(BoxMuller.C6).mul(q).add(BoxMuller.C4).mul(q)
        .add(BoxMuller.C2).mul(q).add(1f);
    IntVector ci = cs.reinterpretAsInts();
    IntVector si = sn.reinterpretAsInts();
    IntVector c0 = ci.blend(si, h);
    IntVector s0 = si.blend(ci, h);
    VectorMask<Integer> odd = c.and(1 << 22).compare(VectorOperators.NE, 0);
    IntVector neg = c.lanewise(VectorOperators.LSHR, 23).lanewise(VectorOperators.LSHL, 31);
    IntVector cc = c0.blend(s0.lanewise(VectorOperators.XOR, 0x80000000), odd).lanewise(VectorOperators.XOR, neg);
    IntVector ss = s0.blend(c0, odd).lanewise(VectorOperators.XOR, neg);
    r.mul(cc.reinterpretAsFloats()).intoArray(dst, o);
    r.mul(ss.reinterpretAsFloats()).intoArray(dst, o + WORDS);
  }

  /** SplitMix64's finaliser on every lane. */
  private static LongVector mix(LongVector z) {
    z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xBF58476D1CE4E5B9L);
    z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(0x94D049BB133111EBL);
    return z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
  }
}
