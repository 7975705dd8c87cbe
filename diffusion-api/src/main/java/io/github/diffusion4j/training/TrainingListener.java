package io.github.diffusion4j.training;

/**
 * Receives what a {@link Trainer} reports. All methods run on the training thread; keep them quick.
 * Arrays passed in are the listener's to keep.
 */
public interface TrainingListener {

  /**
   * Before the first step of this (possibly resumed) run.
   *
   * @param from where the run starts
   * @param totalSteps the step count at the end of the run
   */
  default void onStart(TrainingProgress from, long totalSteps) {}

  /**
   * After every step: the cheapest hook, for progress bars.
   *
   * @param step optimiser steps taken
   * @param epoch the current epoch
   * @param loss the step's loss
   */
  default void onStep(long step, int epoch, double loss) {}

  /**
   * Every {@code logEvery} steps.
   *
   * @param record the metrics
   */
  default void onLog(LogRecord record) {}

  /**
   * Every {@code imageLogEvery} steps.
   *
   * @param log the images
   */
  default void onImages(ImageLog log) {}

  /**
   * After each epoch (and its evaluation).
   *
   * @param summary the epoch's figures
   */
  default void onEpochEnd(EpochSummary summary) {}

  /**
   * After the last step, or when a stop was requested (then {@code summary.completed()} is false).
   *
   * @param summary the run's figures
   */
  default void onEnd(TrainingSummary summary) {}
}
