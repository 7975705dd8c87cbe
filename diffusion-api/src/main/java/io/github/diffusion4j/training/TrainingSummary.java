package io.github.diffusion4j.training;

import java.util.List;

/**
 * The outcome of {@link Trainer#train}.
 *
 * @param completed false if the run stopped early on request
 * @param progress where the run stopped (resume from here)
 * @param finalTrainLoss the mean training loss of the last epoch run
 * @param evalLosses the evaluation loss after each epoch run in this process
 * @param elapsedSeconds wall time of this process's part of the run
 * @param stepsPerSecond average optimiser steps per second
 */
public record TrainingSummary(
    boolean completed,
    TrainingProgress progress,
    double finalTrainLoss,
    List<Double> evalLosses,
    double elapsedSeconds,
    double stepsPerSecond) {

  /**
   * Copies the list.
   *
   * @param completed false if the run stopped early on request
   * @param progress where the run stopped (resume from here)
   * @param finalTrainLoss the mean training loss of the last epoch run
   * @param evalLosses the evaluation loss after each epoch run in this process
   * @param elapsedSeconds wall time of this process's part of the run
   * @param stepsPerSecond average optimiser steps per second
   */
  public TrainingSummary {
    evalLosses = List.copyOf(evalLosses);
  }
}
