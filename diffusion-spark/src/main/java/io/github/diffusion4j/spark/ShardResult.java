package io.github.diffusion4j.spark;

import java.io.Serializable;

/**
 * A shard as written: what an executor reports to the driver, and a row of the manifest.
 *
 * @param index the shard's number, from 0
 * @param first the number of its first sample in the run
 * @param count how many samples it holds
 * @param file its file (or, for PNG, folder) name inside the output folder
 * @param bytes its size in bytes (for PNG: the PNG files' sizes added)
 * @param sha256 lower-case hex SHA-256 of its bytes (for PNG: of the PNG files' bytes one after another in
 *     sample order)
 */
public record ShardResult(int index, long first, int count, String file, long bytes, String sha256)
    implements Serializable {
  /**
   * Validates the values.
   *
   * @param index the shard's number, from 0
   * @param first the number of its first sample in the run
   * @param count how many samples it holds
   * @param file its file (or, for PNG, folder) name inside the output folder
   * @param bytes its size in bytes
   * @param sha256 lower-case hex SHA-256 of its bytes
   */
  public ShardResult {
    if (index < 0 || first < 0 || count < 1 || bytes < 0) {
      throw new IllegalArgumentException("shard " + index + ": first " + first + ", count " + count + ", bytes " + bytes);
    }
    if (file == null || file.isEmpty() || file.contains("/") || file.contains("\\") || file.startsWith(".")) {
      throw new IllegalArgumentException("shard " + index + ": '" + file + "' is not a plain file name");
    }
    if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("shard " + index + ": sha256 must be 64 lower-case hex digits, got '"
          + sha256 + "'");
    }
  }
}
