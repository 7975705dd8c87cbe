package io.github.diffusion4j.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * An image left out of a data set, and why.
 *
 * @param file the file at fault (for a record of a CIFAR-10 batch, the batch file)
 * @param problem what is wrong, one line (for a record, it starts with {@code record N:})
 */
public record SkippedImage(Path file, String problem) {
  /**
   * Checks the values.
   *
   * @param file the file at fault
   * @param problem what is wrong
   */
  public SkippedImage {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(problem, "problem");
  }

  /**
   * The problem as an exception, as it would be thrown had the image been required.
   *
   * @return the exception
   */
  public DataFileException toException() {
    return new DataFileException(file, problem);
  }

  @Override
  public String toString() {
    return file + ": " + problem;
  }
}
