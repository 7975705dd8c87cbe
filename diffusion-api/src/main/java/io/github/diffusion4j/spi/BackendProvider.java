package io.github.diffusion4j.spi;

/**
 * Describes one backend and creates it on demand. Found with {@link java.util.ServiceLoader}.
 *
 * <p>Implementations must be cheap to construct and must not load native libraries until
 * {@link #create} is called, so that listing backends never loads an engine.
 */
public interface BackendProvider {

  /**
   * The name used in configuration ({@code backend: nd4j}): a lower-case letter, then lower-case letters, digits or
   * underscores ({@code [a-z][a-z0-9_]*}); a provider with another name is left out of discovery with a warning.
   *
   * @return the name
   */
  String name();

  /**
   * A one-line human description.
   *
   * @return e.g. {@code "ND4J 1.0.0-M2.1 (nd4j-native, OpenBLAS), CPU"}
   */
  String description();

  /**
   * The Maven coordinates a user adds to get this backend, for error messages.
   *
   * @return e.g. {@code "io.github.diffusion4j:backend-nd4j"}
   */
  String artifact();

  /**
   * Loads the engine and creates the backend. Called at most once per process in normal use.
   *
   * @param options threads and other settings
   * @return the backend
   * @throws BackendUnavailableException if the engine cannot be loaded here
   */
  Backend create(BackendOptions options);
}
