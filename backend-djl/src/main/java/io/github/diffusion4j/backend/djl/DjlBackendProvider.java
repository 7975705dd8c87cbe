package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The {@code djl} backend: DJL's PyTorch engine on the CPU, with the {@code linux-x86_64} libtorch
 * that this module depends on, so nothing is ever downloaded.
 *
 * <p>This class is a cheap descriptor: constructing it and calling {@link #name()},
 * {@link #description()} or {@link #artifact()} loads no DJL class and no native library. Only
 * {@link #create(BackendOptions)} loads the engine, once per process: it sets {@code ai.djl.offline=true}
 * (unless the user set that property), sets PyTorch's intra-op and inter-op thread counts to
 * {@link BackendOptions#threads()}, and loads libtorch.
 */
public final class DjlBackendProvider implements BackendProvider {

  /** The configuration name, {@code "djl"}. */
  public static final String NAME = "djl";

  /** The Maven coordinates of this backend. */
  public static final String ARTIFACT = "io.github.diffusion4j:backend-djl";

  private static final String VERSIONS = "versions.properties";

  /** Creates the descriptor; loads nothing. */
  public DjlBackendProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    Properties v = versions();
    return "DJL " + v.getProperty("djl", "?") + " (PyTorch " + v.getProperty("pytorch", "?")
        + " engine, CPU, linux-x86_64 natives bundled)";
  }

  @Override
  public String artifact() {
    return ARTIFACT;
  }

  /**
   * Loads the PyTorch engine (once per process) and creates a backend on it.
   *
   * @param options the number of native threads
   * @return the backend
   * @throws io.github.diffusion4j.spi.BackendUnavailableException if libtorch cannot be loaded here
   */
  @Override
  public Backend create(BackendOptions options) {
    return DjlBackend.load(options);
  }

  /**
   * The DJL and libtorch versions this module was built against, from a resource that Maven filters.
   *
   * @return the versions ({@code djl}, {@code pytorch})
   */
  static Properties versions() {
    Properties p = new Properties();
    try (InputStream in = DjlBackendProvider.class.getResourceAsStream(VERSIONS)) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + VERSIONS + " of backend-djl", e);
    }
    return p;
  }
}
