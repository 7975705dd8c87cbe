package io.github.diffusion4j.data;

import java.nio.file.Path;

/**
 * A data file that cannot be used: missing, unreadable, or not what its format requires. The message is
 * one line, {@code <file>: <problem>}, and the problem says what was expected and what was found.
 */
public final class DataFileException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The file, as a string so that the exception stays serialisable. */
  private final String file;
  private final String problem;

  /**
   * Creates the exception.
   *
   * @param file the file at fault
   * @param problem what is wrong, and what was expected
   */
  public DataFileException(Path file, String problem) {
    this(file, problem, null);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param file the file at fault
   * @param problem what is wrong, and what was expected
   * @param cause the underlying error, or null
   */
  public DataFileException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file.toString();
    this.problem = problem;
  }

  /**
   * The file at fault.
   *
   * @return the path
   */
  public Path file() {
    return Path.of(file);
  }

  /**
   * What is wrong, without the file name.
   *
   * @return the problem
   */
  public String problem() {
    return problem;
  }
}
