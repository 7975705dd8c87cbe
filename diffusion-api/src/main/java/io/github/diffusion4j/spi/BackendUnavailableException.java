package io.github.diffusion4j.spi;

/**
 * A backend's engine could not be loaded on this machine (missing native library, wrong platform): what
 * {@link BackendProvider#create} throws then. The message is shown to the user as one line (the command line
 * prints it without a stack trace), so it says what failed and what to do; where it does not start with {@code
 * backend 'NAME'} or {@code NAME:}, the SDK puts {@code backend 'NAME' (ARTIFACT) cannot be loaded here: } before
 * it. Other exceptions from {@code create} reach the caller as they are.
 */
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
