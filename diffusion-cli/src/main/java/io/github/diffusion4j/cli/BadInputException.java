package io.github.diffusion4j.cli;

/**
 * Bad input on the command line: printed as one line, exit code 2. The message names the argument or file
 * at fault, what was wrong and what is allowed.
 */
public final class BadInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * An error for bad input.
   *
   * @param message one line: the argument or file, what was wrong, what is allowed
   */
  public BadInputException(String message) {
    super(message);
  }
}
