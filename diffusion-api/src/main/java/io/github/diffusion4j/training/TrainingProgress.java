package io.github.diffusion4j.training;

/**
 * Where a run is: the position to resume from. Every random draw is keyed by these numbers, so a run
 * resumed from a progress continues exactly as the uninterrupted run would; the losses summed so far in the
 * current epoch and log interval come along, so that it also logs the means the uninterrupted run logs.
 *
 * @param epoch the current epoch, from 0
 * @param batchInEpoch the next batch of that epoch, from 0
 * @param step optimiser steps taken so far
 * @param losses the training losses summed so far in the current epoch and log interval
 */
public record TrainingProgress(int epoch, int batchInEpoch, long step, Losses losses) {

  /** The start of a run. */
  public static final TrainingProgress START = new TrainingProgress(0, 0, 0);

  /**
   * Validates the values.
   *
   * @param epoch the current epoch, from 0
   * @param batchInEpoch the next batch of that epoch, from 0
   * @param step optimiser steps taken so far
   * @param losses the training losses summed so far in the current epoch and log interval
   */
  public TrainingProgress {
    if (epoch < 0 || batchInEpoch < 0 || step < 0) {
      throw new IllegalArgumentException("training progress must not be negative: " + epoch + "/" + batchInEpoch + "/" + step);
    }
    if (losses == null) {
      throw new IllegalArgumentException("losses must not be null (Losses.NONE for none)");
    }
  }

  /**
   * A position with no losses summed (a run resumed from it logs means over its own steps only).
   *
   * @param epoch the current epoch, from 0
   * @param batchInEpoch the next batch of that epoch, from 0
   * @param step optimiser steps taken so far
   */
  public TrainingProgress(int epoch, int batchInEpoch, long step) {
    this(epoch, batchInEpoch, step, Losses.NONE);
  }

  /**
   * The training losses of the steps taken so far in the current epoch and in the current log interval, which the
   * epoch's {@code train_loss} and the interval's {@code mean_loss} average.
   *
   * @param epochSum the sum of the epoch's step losses so far
   * @param epochSteps the epoch's steps so far
   * @param intervalSum the sum of the log interval's step losses so far
   * @param intervalSteps the log interval's steps so far
   */
  public record Losses(double epochSum, int epochSteps, double intervalSum, int intervalSteps) {
    /** Nothing summed. */
    public static final Losses NONE = new Losses(0, 0, 0, 0);

    /**
     * Validates the values.
     *
     * @param epochSum the sum of the epoch's step losses so far, finite
     * @param epochSteps the epoch's steps so far, at least 0
     * @param intervalSum the sum of the log interval's step losses so far, finite
     * @param intervalSteps the log interval's steps so far, at least 0
     */
    public Losses {
      if (!Double.isFinite(epochSum) || !Double.isFinite(intervalSum) || epochSteps < 0 || intervalSteps < 0) {
        throw new IllegalArgumentException("loss sums must be finite and step counts not negative: " + epochSum
            + "/" + epochSteps + "/" + intervalSum + "/" + intervalSteps);
      }
    }
  }
}
