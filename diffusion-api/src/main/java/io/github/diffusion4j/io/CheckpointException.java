package io.github.diffusion4j.io;

/**
 * A checkpoint or tensor file that cannot be read or written: a missing or malformed file, a violation
 * of the safetensors format, a checksum mismatch, or an I/O failure.
 *
 * <p>The message is one line that names the file and says what is wrong, e.g. {@code
 * "run/checkpoints/step-00001000/model.safetensors: header length 9000 exceeds the 120 bytes that follow
 * it"}.
 */
public class CheckpointException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message the one-line message, naming the file
   */
  public CheckpointException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message the one-line message, naming the file
   * @param cause the underlying failure
   */
  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * An exception about one file.
   *
   * @param file the file (or in-memory source name)
   * @param problem what is wrong
   * @return the exception
   */
  static CheckpointException of(Object file, String problem) {
    return new CheckpointException(file + ": " + oneLine(problem));
  }

  /**
   * An exception about one file, caused by another.
   *
   * @param file the file
   * @param problem what is wrong
   * @param cause the cause
   * @return the exception
   */
  static CheckpointException of(Object file, String problem, Throwable cause) {
    return new CheckpointException(file + ": " + oneLine(problem), cause);
  }

  /** Collapses line breaks so that messages stay on one line. */
  static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
  }
}
