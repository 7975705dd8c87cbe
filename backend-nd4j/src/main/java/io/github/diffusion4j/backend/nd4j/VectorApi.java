package io.github.diffusion4j.backend.nd4j;

/**
 * Loads this backend's implementations on the JDK's incubating Vector API ({@code VectorMathSimd},
 * {@code ArrayMathSimd}, {@code DirectConvSimd}): classes compiled on their own with the module added and loaded
 * by reflection only where the module is present at run time. Each answers through a static {@code simd()}
 * method, which returns an implementation in the CPU's widest native vectors, 512 bits (AVX-512) or 256 (AVX2;
 * the convolutions' inner loop then in its own layout, {@code DirectConvSimd256}), and null where they are
 * narrower (there the plain loops are faster). All of them use the one preferred species: vectors of a width the
 * CPU does not have run as Java objects, and a second species in the process made every Vector API loop of Java
 * 17 ~15x slower. The system property {@value #PROPERTY} set to {@code false} turns all of them off.
 */
final class VectorApi {
  /** The system property that turns the Vector API implementations off ({@code false}). */
  static final String PROPERTY = "diffusion4j.nd4j.vector";

  private VectorApi() {}

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
    if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))
        || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      return null;
    }
    try {
      return type.cast(Class.forName(className).getDeclaredMethod("simd").invoke(null));
    } catch (ReflectiveOperationException | LinkageError e) {
      return null;
    }
  }
}
