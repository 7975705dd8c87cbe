package io.github.diffusion4j.settings;

/**
 * A system property of diffusion4j ({@code -Ddiffusion4j....}) holds a value it does not allow: bad input, which
 * the command line reports as such (exit code 2). The message names the property, its value and what is allowed.
 */
public final class InvalidPropertyException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /**
   * The exception.
   *
   * @param message one line: the property, its value and what is allowed
   */
  public InvalidPropertyException(String message) {
    super(message);
  }
}
