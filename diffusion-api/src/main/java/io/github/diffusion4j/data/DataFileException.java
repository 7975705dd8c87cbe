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
  /**
   * The file as given (not serialised): a name the platform encoding cannot show as a string (LANG=C and
   * {@code bild-ü.png}, or bytes that are not UTF-8) has replacement characters there, and names no path.
   */
  private final transient Path path;
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
    this.path = file;
    this.problem = problem;
  }

  /**
   * The file at fault.
   *
   * @return the path given, or after deserialisation the path its name reads as
   */
  public Path file() {
    return path != null ? path : Path.of(file);
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
