package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;

/** Shared set-up of this module's tests. */
final class Nd4jTests {
  private Nd4jTests() {}

  /**
   * A new nd4j backend with one native thread, made through the provider as users make it.
   *
   * @return the backend
   */
  static Backend createBackend() {
    return new Nd4jBackendProvider().create(BackendOptions.defaults());
  }

  /**
   * The Vector API implementation of {@code type} (class {@code type}'s outer class name + {@code Simd}) on any
   * CPU, even where {@link VectorApi} would not load it (there vectors wider than the CPU's run slowly, but
   * right; {@code DirectConvSimd} is always the 512-bit loop, the others take the preferred species).
   *
   * @param type the interface, nested in the class whose name the implementation extends
   * @param <T> the interface
   * @return the implementation
   */
  static <T> T simd(Class<T> type) {
    try {
      var c = Class.forName(type.getEnclosingClass().getName() + "Simd").getDeclaredConstructor();
      c.setAccessible(true);
      return type.cast(c.newInstance());
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("the Vector API implementation does not load (is the module added?)", e);
    }
  }
}
