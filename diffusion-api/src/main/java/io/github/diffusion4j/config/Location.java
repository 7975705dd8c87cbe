package io.github.diffusion4j.config;

/**
 * Where a value came from: a source (a file name as the user gave it, {@code --set key=value}, a
 * bundled config) and, when known, a 1-based line and column.
 *
 * @param source the name shown in messages, or null for values built in code
 * @param line the 1-based line, or 0 when the source has no lines (an override)
 * @param column the 1-based column (in code points), or 0
 */
record Location(String source, int line, int column) {

  /**
   * A location without a position, for a whole source.
   *
   * @param source the source name
   * @return the location
   */
  static Location of(String source) {
    return new Location(source, 0, 0);
  }
}
