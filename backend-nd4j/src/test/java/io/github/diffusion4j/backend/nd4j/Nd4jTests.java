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
   * CPU: the one the backend runs here (its static {@code simd()}: the 512-bit convolution loop on AVX-512, the
   * 256-bit one on AVX2), or where the CPU has neither, the class itself (its vectors then run slowly, but
   * right). Never a second vector width beside the CPU's: with two species in one JVM every Vector API loop of
   * Java 17 ran ~15x slower (docs/benchmarks.md), which would slow the rest of the module's tests, which share
   * the JVM.
   *
   * @param type the interface, nested in the class whose name the implementation extends
   * @param <T> the interface
   * @return the implementation
   */
  static <T> T simd(Class<T> type) {
    try {
      Class<?> impl = Class.forName(type.getEnclosingClass().getName() + "Simd");
      var factory = impl.getDeclaredMethod("simd");
      factory.setAccessible(true);
      Object here = factory.invoke(null);
      if (here != null) {
        return type.cast(here);
      }
      var c = impl.getDeclaredConstructor();
      c.setAccessible(true);
      return type.cast(c.newInstance());
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("the Vector API implementation does not load (is the module added?)", e);
    }
  }

  /**
   * The system property that makes {@link #convolutionLoop} return the other vector width's loop: the pom's
   * second surefire execution sets it for {@link Nd4jLayerKindsTest}, so the layer-kind checks run both loops
   * on every CPU, each in a JVM of its own (on an AVX2 CPU the 512-bit loop's vectors are emulated, slowly but
   * right).
   */
  static final String OTHER_LOOP = "diffusion4j.test.otherConvolutionLoop";

  /**
   * The direct convolutions' inner loop for the tests: this CPU's ({@link #simd}), or with the system property
   * {@value #OTHER_LOOP} set to {@code true}, the other vector width's (256 bits where the CPU's loop is the
   * 512-bit one, else 512 bits).
   *
   * @return the loop
   */
  static DirectConv.Simd convolutionLoop() {
    DirectConv.Simd here = simd(DirectConv.Simd.class);
    if (!Boolean.getBoolean(OTHER_LOOP)) {
      return here;
    }
    return here instanceof DirectConvSimd256 ? new DirectConvSimd() : new DirectConvSimd256();
  }

  /**
   * The direct weight gradient's inner loop for the tests: the 512-bit one where the CPU has such vectors, else the
   * plain loop (the same bits, slowly), so that its grids and sums are checked on every CPU.
   *
   * @return the loop
   */
  static DirectWeightGradient.Simd weightGradientLoop() {
    return DirectWeightGradient.SIMD != null ? DirectWeightGradient.SIMD : new PlainWeightGradient();
  }
}
