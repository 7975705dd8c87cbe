package io.github.diffusion4j.backend.nd4j;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ArrayMath}'s reductions with the JDK's (incubating) Vector API: each run of {@value ArrayMath#RUN}
 * elements in one vector of float chains, in the CPU's widest native vectors (sixteen chains in 512 bits, eight
 * in 256), with fused multiply-adds for the products, the chains then added lane by lane, in lane order, and the
 * rest of the run after them, the runs added in double as in the scalar loops. The sums round differently from
 * the scalar loops' eight chains (other groups, or the same chains added in another order, and one rounding per
 * product), so the results differ from a JVM without the module in the last bits (as {@link DirectConv}'s do); on
 * one configuration they are the same bits whatever the threads and whether the JIT has compiled the loop (each sum
 * is computed by one lane). One vector of
 * accumulators runs at 0.05-0.06 ns an element on the Zen 5 this was measured on, the scalar chains at
 * 0.17-0.37: a third of a group norm's time (docs/benchmarks.md); a sum on a Zen 3 with AVX2 0.085 ns an element
 * against 0.20. Running 256-bit vectors beside 512-bit ones on a Zen 5 made every Vector API loop of Java 17
 * ~15x slower, so every implementation takes the one preferred species. Compiled on its own with the module
 * added and loaded by reflection ({@link VectorApi}).
 */
final class ArrayMathSimd implements ArrayMath.Simd {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = F.length();

  private ArrayMathSimd() {}

  /**
   * The implementation, if this CPU has native vectors of 256 bits or more, in its widest ones.
   *
   * @return the implementation, or null
   */
  static ArrayMath.Simd simd() {
    return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256 ? new ArrayMathSimd() : null;
  }

  @Override
  public float sumRun(float[] x, int from, int to) {
    FloatVector acc = FloatVector.zero(F);
    int i = from;
    for (int end = to - LANES; i <= end; i += LANES) {
      acc = acc.add(FloatVector.fromArray(F, x, i));
    }
    float s = addLanes(acc);
    for (; i < to; i++) {
      s += x[i];
    }
    return s;
  }

  @Override
  public float squaredDeviationsRun(float[] x, int from, int to, float mean) {
    FloatVector acc = FloatVector.zero(F);
    int i = from;
    for (int end = to - LANES; i <= end; i += LANES) {
      FloatVector d = FloatVector.fromArray(F, x, i).sub(mean);
      acc = d.fma(d, acc);
    }
    float s = addLanes(acc);
    for (; i < to; i++) {
      float d = x[i] - mean;
      s += d * d;
    }
    return s;
  }

  @Override
  public float dotRun(float[] a, float[] b, float c, int from, int to) {
    FloatVector acc = FloatVector.zero(F);
    int i = from;
    for (int end = to - LANES; i <= end; i += LANES) {
      acc = FloatVector.fromArray(F, a, i).fma(FloatVector.fromArray(F, b, i).sub(c), acc);
    }
    float s = addLanes(acc);
    for (; i < to; i++) {
      s += a[i] * (b[i] - c);
    }
    return s;
  }

  /**
   * The lanes of {@code acc} added one by one from the first, as Java 17 adds them. {@code
   * reduceLanes(VectorOperators.ADD)} leaves the order unspecified, and Java 25 adds the lanes in another order
   * once C2 has compiled the loop than before, so a sum's last bits depended on when the JIT compiled it: the same
   * group norm gave other bits later in a process, and two threads' training no longer matched one thread's bit for
   * bit ({@code Nd4jThreadsTest}).
   *
   * @param acc the chains of a run
   * @return their sum, the same bits on every JVM whether compiled or not
   */
  private static float addLanes(FloatVector acc) {
    // lane by lane, not through toArray(): no array a run (toArray made a 1,024-value sum twice as slow on a Zen 4
    // under Java 17; this form costs ~10 ns a run more than reduceLanes there, 61 against 51)
    float s = 0;
    for (int k = 0; k < LANES; k++) {
      s += acc.lane(k);
    }
    return s;
  }
}
