package io.github.diffusion4j.cli;

/** Bad input on the command line: printed as one line, exit code 2. */
final class BadInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  BadInputException(String message) {
    super(message);
  }
}
