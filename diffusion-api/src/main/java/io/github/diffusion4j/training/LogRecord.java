package io.github.diffusion4j.training;

/**
 * What the tutorial logged, every {@code log_every} steps: the loss and statistics of the current batch.
 *
 * @param step optimiser steps taken
 * @param epoch the current epoch, from 0
 * @param examplesSeen training images processed so far
 * @param trainLoss the loss of this step's batch
 * @param meanLoss the mean loss since the previous log
 * @param elapsedSeconds wall time since the run (or resumption) started
 * @param stepsPerSecond steps per second since the previous log
 * @param predictionMean mean of the model's output on this batch ({@code y_hat_mean})
 * @param predictionVariance variance of the model's output ({@code y_hat_var})
 * @param noisedMean mean of {@code x_t} ({@code noised_mean})
 * @param noisedVariance variance of {@code x_t} ({@code noised_var})
 * @param learningRate the learning rate this step was taken with (the schedule's, {@code lr}); NaN where the model
 *     does not report its optimiser
 */
public record LogRecord(
    long step,
    int epoch,
    long examplesSeen,
    double trainLoss,
    double meanLoss,
    double elapsedSeconds,
    double stepsPerSecond,
    double predictionMean,
    double predictionVariance,
    double noisedMean,
    double noisedVariance,
    double learningRate) {

  /**
   * A record without the learning rate (NaN), as before it was logged.
   *
   * @param step optimiser steps taken
   * @param epoch the current epoch, from 0
   * @param examplesSeen training images processed so far
   * @param trainLoss the loss of this step's batch
   * @param meanLoss the mean loss since the previous log
   * @param elapsedSeconds wall time since the run (or resumption) started
   * @param stepsPerSecond steps per second since the previous log
   * @param predictionMean mean of the model's output on this batch
   * @param predictionVariance variance of the model's output
   * @param noisedMean mean of {@code x_t}
   * @param noisedVariance variance of {@code x_t}
   */
  public LogRecord(long step, int epoch, long examplesSeen, double trainLoss, double meanLoss, double elapsedSeconds,
      double stepsPerSecond, double predictionMean, double predictionVariance, double noisedMean,
      double noisedVariance) {
    this(step, epoch, examplesSeen, trainLoss, meanLoss, elapsedSeconds, stepsPerSecond, predictionMean,
        predictionVariance, noisedMean, noisedVariance, Double.NaN);
  }
}
