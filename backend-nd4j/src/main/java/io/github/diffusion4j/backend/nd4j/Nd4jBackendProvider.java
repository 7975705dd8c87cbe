package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.PassMemory;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import io.github.diffusion4j.spi.BackendUnavailableException;

/**
 * The {@code nd4j} backend: ND4J 1.0.0-M2.1 ({@code nd4j-native}, OpenBLAS) on the CPU.
 *
 * <p>This class is a cheap descriptor: constructing it and calling {@link #name()},
 * {@link #description()} or {@link #artifact()} loads no ND4J class and no native library. Only
 * {@link #create(BackendOptions)} does, once per process, and sets the native thread counts (OpenMP,
 * ND4J's own pool and OpenBLAS) to {@link BackendOptions#threads()}; each backend also starts that many
 * lanes minus one daemon threads of its own for its kernels' Java loops, stopped when it closes.
 *
 * <p>It is registered in {@code META-INF/services/io.github.diffusion4j.spi.BackendProvider}, so
 * {@link java.util.ServiceLoader} finds it when {@code io.github.diffusion4j:backend-nd4j} is on the
 * class path.
 */
public final class Nd4jBackendProvider implements BackendProvider {

  /** The configuration name, {@code "nd4j"}. */
  public static final String NAME = "nd4j";

  /** The Maven coordinates of this backend, {@code "io.github.diffusion4j:backend-nd4j"}. */
  public static final String ARTIFACT = "io.github.diffusion4j:backend-nd4j";

  /** Creates the provider; loads nothing. */
  public Nd4jBackendProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "ND4J 1.0.0-M2.1 (nd4j-native, OpenBLAS), CPU";
  }

  @Override
  public String artifact() {
    return ARTIFACT;
  }

  /**
   * Loads ND4J's native libraries (the first time), sets the native thread counts and creates a backend.
   *
   * @param options the number of native threads
   * @return a new backend
   * @throws BackendUnavailableException with a one-line reason if the native libraries cannot be loaded
   * @throws IllegalArgumentException naming the property if {@value Nd4jLayers#PASS_MEMORY_PROPERTY} is not a
   *     whole number of MiB from 1, or {@value VectorApi#PROPERTY}, {@value WinogradConv#PROPERTY} or {@value
   *     Winograd4Conv#PROPERTY} is not a boolean (checked before anything is loaded)
   */
  @Override
  public Backend create(BackendOptions options) {
    long passBytes = PassMemory.fromSystemProperty(Nd4jLayers.PASS_MEMORY_PROPERTY);
    VectorApi.enabled();
    WinogradConv.enabled();
    Winograd4Conv.enabled();
    NativeRuntime runtime = NativeRuntime.load(options.threads());
    return new Nd4jBackend(runtime, passBytes, options.threads());
  }

  @Override
  public String toString() {
    return "Nd4jBackendProvider[" + NAME + "]";
  }
}
