package io.github.diffusion4j.config;

import java.nio.file.Path;

/**
 * Where runs are written ({@code output:}).
 *
 * @param dir the folder holding run folders (kept as written; relative to the working directory)
 * @param name the run folder's name: letters, digits, {@code .}, {@code _}, {@code -}; empty = a
 *     timestamp chosen when the run starts
 */
public record OutputConfig(Path dir, String name) {

  /**
   * Validates the values.
   *
   * @param dir the folder holding run folders (kept as written; relative to the working directory)
   * @param name the run folder's name: letters, digits, {@code .}, {@code _}, {@code -}; empty = a timestamp
   *     chosen when the run starts
   * @throws ConfigException naming the key at fault
   */
  public OutputConfig {
    Schema.OUTPUT_DIR.check(dir);
    Schema.OUTPUT_NAME.check(name);
  }
}
