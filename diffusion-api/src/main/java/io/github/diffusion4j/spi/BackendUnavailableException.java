package io.github.diffusion4j.spi;

/** A backend's engine could not be loaded on this machine (missing native library, wrong platform). */
public class BackendUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what failed and what to do
   * @param cause the underlying error
   */
  public BackendUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
