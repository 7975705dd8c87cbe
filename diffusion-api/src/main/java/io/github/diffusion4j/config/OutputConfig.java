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

  // ---- keys: path, type, default and description of each component; Schema assembles them ----

  static final Key<OutputConfig, Path> DIR = Key.of("output.dir", OutputConfig::dir,
      ValueType.path(false), Path.of("runs"),
      "folder that holds the run folders (relative to the working directory)");
  static final Key<OutputConfig, String> NAME = Key.of("output.name", OutputConfig::name,
      ValueType.folderName(), "", "run folder name; empty = a timestamp");

  /**
   * Validates the values.
   *
   * @param dir the folder holding run folders (kept as written; relative to the working directory)
   * @param name the run folder's name: letters, digits, {@code .}, {@code _}, {@code -}; empty = a timestamp
   *     chosen when the run starts
   * @throws ConfigException naming the key at fault
   */
  public OutputConfig {
    DIR.check(dir);
    NAME.check(name);
    if (name.length() > MAX_NAME) { // the name is ASCII (NAME's pattern): characters are bytes
      throw new ConfigException(NAME.path(), "must be at most " + MAX_NAME + " characters (the file systems' limit "
          + "for a folder name), got " + name.length());
    }
  }

  /** The longest file name ext4, XFS, APFS and NTFS take, in bytes. */
  static final int MAX_NAME = 255;
}
