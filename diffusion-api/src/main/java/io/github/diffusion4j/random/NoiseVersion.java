package io.github.diffusion4j.random;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Which transform turns a {@link Noise} stream's 64-bit words into standard normals. Both use the same
 * SplitMix64 words and the same {@link Noise#split(long) splits}; each gives bit-identical numbers on every
 * JVM and backend, but the two give different numbers, so a run's configuration names the version its
 * samples are drawn with ({@code sampling.noise_version}, default 1; a checkpoint's {@code config.yaml} keeps
 * it) and sampling it again uses that version.
 */
public enum NoiseVersion {
  /**
   * Version 1: Marsaglia and Tsang's 256-layer ziggurat, one normal from one or more words (see
   * {@link Noise}). The default of {@link Noise#seeded(long)}: training, weight initialisation and data use
   * it, and so does sampling unless {@code sampling.noise_version} says 2.
   */
  ZIGGURAT(1),

  /**
   * Version 2: the Box-Muller transform in float32 arithmetic with its own polynomial logarithm, sine and
   * cosine (only IEEE 754 additions, multiplications, one division and one square root, so every JVM gives
   * the same bits), two normals from each word and no rejection, so a whole block of values is computed with
   * SIMD instructions at once. Values lie within about 5.77 standard deviations (the limit of a 24-bit
   * uniform). Chosen with {@code sampling.noise_version: 2}; faster than version 1 only with the Vector API
   * on AVX-512 CPUs, and on AVX2 CPUs where ND4J's kernels do not run in the same process (docs/noise.md). The algorithm is specified on {@code BoxMuller}'s source and in docs/noise.md.
   */
  BOX_MULLER(2);

  private final int number;

  NoiseVersion(int number) {
    this.number = number;
  }

  /**
   * The version number recorded in manifests.
   *
   * @return 1 or 2
   */
  public int number() {
    return number;
  }

  /**
   * The version with a given number.
   *
   * @param number a version number
   * @return the version
   * @throws IllegalArgumentException naming the known numbers if there is none
   */
  public static NoiseVersion of(int number) {
    for (NoiseVersion v : values()) {
      if (v.number == number) {
        return v;
      }
    }
    throw new IllegalArgumentException("noise version " + number + " is unknown; this diffusion4j knows "
        + Arrays.stream(values()).map(v -> Integer.toString(v.number)).collect(Collectors.joining(", ")));
  }
}
