package io.github.diffusion4j.io;

/**
 * A checkpoint or model folder that could not be written: a full disk, a read-only file system, an interrupted
 * thread. Unlike its parent, it says nothing wrong about the input (the command line exits 1 for it, not 2); a
 * permission problem is still named as the input's, by its cause.
 */
public final class CheckpointWriteException extends CheckpointException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message the one-line message, naming the file
   * @param cause the I/O failure
   */
  public CheckpointWriteException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * An exception about one file that could not be written.
   *
   * @param file the file or folder
   * @param problem what failed
   * @param cause the I/O failure
   * @return the exception
   */
  static CheckpointWriteException of(Object file, String problem, Throwable cause) {
    return new CheckpointWriteException(file + ": " + oneLine(problem), cause);
  }
}
