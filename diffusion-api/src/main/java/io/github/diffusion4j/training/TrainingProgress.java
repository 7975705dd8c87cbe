package io.github.diffusion4j.training;

/**
 * Where a run is: the position to resume from. Every random draw is keyed by these numbers, so a run
 * resumed from a progress continues exactly as the uninterrupted run would.
 *
 * @param epoch the current epoch, from 0
 * @param batchInEpoch the next batch of that epoch, from 0
 * @param step optimiser steps taken so far
 */
public record TrainingProgress(int epoch, int batchInEpoch, long step) {

  /** The start of a run. */
  public static final TrainingProgress START = new TrainingProgress(0, 0, 0);

  /**
   * Validates the values.
   *
   * @param epoch the current epoch, from 0
   * @param batchInEpoch the next batch of that epoch, from 0
   * @param step optimiser steps taken so far
   */
  public TrainingProgress {
    if (epoch < 0 || batchInEpoch < 0 || step < 0) {
      throw new IllegalArgumentException("training progress must not be negative: " + epoch + "/" + batchInEpoch + "/" + step);
    }
  }
}
