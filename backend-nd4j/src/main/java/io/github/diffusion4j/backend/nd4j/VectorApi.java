package io.github.diffusion4j.backend.nd4j;

/**
 * Loads this backend's implementations on the JDK's incubating Vector API ({@code VectorMathSimd},
 * {@code DirectConvSimd}): classes compiled on their own with the module added and loaded by reflection only
 * where the module is present at run time. Each answers through a static {@code simd()} method, which returns
 * null where the CPU has no native 512-bit vectors (there the JIT of Java 17 may not compile the Vector API to
 * SIMD instructions, and the plain loops are faster). The system property {@value #PROPERTY} set to
 * {@code false} turns all of them off.
 */
final class VectorApi {
  /** The system property that turns the Vector API implementations off ({@code false}). */
  static final String PROPERTY = "diffusion4j.nd4j.vector";

  private VectorApi() {}

  /**
   * The implementation in class {@code className}, or null where the property turns it off, the module is
   * absent, or the implementation declines (no native 512-bit vectors).
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
