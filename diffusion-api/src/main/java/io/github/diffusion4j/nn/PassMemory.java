package io.github.diffusion4j.nn;

/**
 * The activation memory of one pass ({@link LayerBackend#passMemoryBytes}) as a backend reads it from its
 * system property ({@code diffusion4j.nd4j.passMemoryMb}, {@code diffusion4j.djl.passMemoryMb}), in MiB, with
 * one default for every backend.
 *
 * <p>The default, {@value #DEFAULT_MB} MiB, trains the default U-Net at batch 64 in one pass (about 20 MB of
 * activations per image by {@link Network#activationFloatsPerItem}) and the DDPM authors' CIFAR-10 model
 * (about 135 MB per image) at batch 16 in two passes of eight images, at batch 64 in five of 12 to 16; a larger
 * batch adds passes, not memory. A smaller budget bounds memory further and costs speed: each pass repeats
 * the work done per pass on the weights and runs the products on fewer images (ND4J trained the CIFAR-10 model
 * at batch 16 at 0.077 steps/s in sixteen passes of one image under 256 MiB, 0.116-0.125 in two passes;
 * docs/benchmarks.md).
 */
public final class PassMemory {
  /** The default activation memory of a pass, in MiB: 2 GiB. */
  public static final long DEFAULT_MB = 2048;

  private PassMemory() {}

  /**
   * The pass memory a system property sets, or the default where it is not set.
   *
   * @param property the system property's name
   * @return bytes
   * @throws IllegalArgumentException naming the property, its value and what is allowed, if the value is not a
   *     whole number of MiB from 1
   */
  public static long fromSystemProperty(String property) {
    return parse(property, System.getProperty(property));
  }

  /**
   * Reads a pass memory in MiB.
   *
   * @param property the system property's name, for the message
   * @param value the property's value (surrounding blanks allowed), or null or blank for the default
   * @return bytes
   * @throws IllegalArgumentException naming the property, its value and what is allowed, if the value is not a
   *     whole number of MiB from 1
   */
  public static long parse(String property, String value) {
    if (value == null || value.isBlank()) {
      return DEFAULT_MB << 20;
    }
    long mb;
    try {
      mb = Long.parseLong(value.strip());
    } catch (NumberFormatException e) {
      mb = -1;
    }
    if (mb < 1 || mb > (Long.MAX_VALUE >> 20)) {
      throw new io.github.diffusion4j.settings.InvalidPropertyException(
          "system property " + property + ": '" + value + "' is not a whole number of MiB from 1 "
              + "(the activation memory of one pass; default " + DEFAULT_MB + ")");
    }
    return mb << 20;
  }
}
