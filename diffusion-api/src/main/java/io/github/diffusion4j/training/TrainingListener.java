package io.github.diffusion4j.training;

/**
 * Receives what a {@link Trainer} reports. All methods run on the training thread; keep them quick.
 * Arrays passed in are the listener's to keep.
 */
public interface TrainingListener {

  /** A listener that hears nothing. */
  TrainingListener NONE = new TrainingListener() {};

  /**
   * A listener of the metrics logged every {@code training.log_every} steps, written as a lambda (this interface has
   * only default methods, so it takes none itself): {@code run.run(TrainingListener.ofLogs(r ->
   * System.out.println(r.step() + " " + r.meanLoss())))}.
   *
   * @param log called with each record, on the training thread
   * @return the listener
   */
  static TrainingListener ofLogs(java.util.function.Consumer<LogRecord> log) {
    java.util.Objects.requireNonNull(log, "log must not be null");
    return new TrainingListener() {
      @Override
      public void onLog(LogRecord record) {
        log.accept(record);
      }
    };
  }

  /**
   * A listener of each epoch's figures (its evaluation loss among them), written as a lambda.
   *
   * @param epochs called after each epoch, on the training thread
   * @return the listener
   */
  static TrainingListener ofEpochs(java.util.function.Consumer<EpochSummary> epochs) {
    java.util.Objects.requireNonNull(epochs, "epochs must not be null");
    return new TrainingListener() {
      @Override
      public void onEpochEnd(EpochSummary summary) {
        epochs.accept(summary);
      }
    };
  }

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
