package io.github.diffusion4j.io;

import java.time.Instant;

/**
 * Where a checkpoint comes from, recorded in its manifest.
 *
 * @param backend the backend that trained it (e.g. {@code "nd4j"})
 * @param seed the run's seed
 * @param created when it was written
 */
public record Provenance(String backend, long seed, Instant created) {
  /**
   * Checks for missing values.
   *
   * @param backend the backend that trained it (e.g. {@code "nd4j"})
   * @param seed the run's seed
   * @param created when it was written
   * @throws IllegalArgumentException if the backend or time is missing
   */
  public Provenance {
    if (backend == null || backend.isBlank()) {
      throw new IllegalArgumentException("backend must be a non-empty name");
    }
    if (created == null) {
      throw new IllegalArgumentException("created must not be null");
    }
  }

  /**
   * A provenance stamped with the current time.
   *
   * @param backend the backend name
   * @param seed the seed
   * @return the provenance
   */
  public static Provenance now(String backend, long seed) {
    return new Provenance(backend, seed, Instant.now());
  }
}
