package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.settings.SystemSwitch;

/**
 * Loads this backend's implementations on the JDK's incubating Vector API ({@code VectorMathSimd},
 * {@code ArrayMathSimd}, {@code DirectConvSimd}, {@code WinogradConvSimd}, {@code Winograd4ConvSimd},
 * {@code DirectWeightGradientSimd}): classes compiled on their own with the module added and loaded by reflection
 * only where the module is present at run time.
 * Each answers through a static {@code simd()} method, which returns an implementation in the CPU's widest native
 * vectors, 512 bits (AVX-512) or 256 (AVX2; the convolutions' inner loop then in its own layout,
 * {@code DirectConvSimd256}), and null where they are narrower (there the plain loops are faster; the direct weight
 * gradient's loop needs 512 bits). The direct loops use the 512-bit species by name, the others the preferred one,
 * which on AVX-512 is the same: vectors of a width the CPU does not have run as Java objects, and a second species in
 * the process made every Vector API loop of Java 17 ~15x slower. The system property {@value #PROPERTY} set to
 * {@code false} turns all of them off; any value but {@code true} or {@code false} is refused when the backend is
 * created ({@link #enabled}).
 */
final class VectorApi {
  /** The system property that turns the Vector API implementations off ({@code false}). */
  static final String PROPERTY = "diffusion4j.nd4j.vector";

  private VectorApi() {}

  /**
   * Whether the property allows the Vector API implementations: unset, blank or {@code true}. {@link
   * Nd4jBackendProvider#create} calls it first, so a bad value is refused before anything is loaded.
   *
   * @return whether they are allowed
   * @throws IllegalArgumentException naming the property and its value if it is not a boolean
   */
  static boolean enabled() {
    return SystemSwitch.read(PROPERTY, true);
  }

  /**
   * The implementation in class {@code className}, or null where the property turns it off, the module is
   * absent, or the implementation declines (no native vectors of 256 bits or more).
   *
   * @param type the interface it implements
   * @param className its fully qualified name
   * @param <T> the interface
   * @return the implementation, or null
   */
  static <T> T load(Class<T> type, String className) {
    boolean on;
    try {
      on = enabled();
    } catch (IllegalArgumentException e) {
      // called from static initialisers, which must not fail: the backend refuses the value when it is created
      on = true;
    }
    if (!on || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      return null;
    }
    try {
      return type.cast(Class.forName(className).getDeclaredMethod("simd").invoke(null));
    } catch (ReflectiveOperationException | LinkageError e) {
      return null;
    }
  }
}
