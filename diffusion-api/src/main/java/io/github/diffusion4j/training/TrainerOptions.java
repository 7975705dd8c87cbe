package io.github.diffusion4j.training;

import java.util.Optional;

/**
 * How the {@link Trainer} runs.
 *
 * @param epochs passes over the training set, positive
 * @param batchSize images per step, positive (the last batch of an epoch may be smaller, as with
 *     PyTorch's {@code DataLoader})
 * @param seed the seed of every random draw (shuffling, timesteps, noise)
 * @param logEvery steps between {@link TrainingListener#onLog} calls, positive
 * @param imageLogEvery steps between {@link TrainingListener#onImages} calls, 0 for none
 * @param imagesToLog images per image log, at least 0
 * @param ema the moving average of the weights, if any
 * @param learningRateSchedule the rate of each step ({@link LearningRateSchedule#CONSTANT}: the optimiser's own)
 */
public record TrainerOptions(
    int epochs,
    int batchSize,
    long seed,
    int logEvery,
    int imageLogEvery,
    int imagesToLog,
    Optional<EmaSchedule> ema,
    LearningRateSchedule learningRateSchedule) {

  /**
   * Validates the values.
   *
   * @param epochs passes over the training set, positive
   * @param batchSize images per step, positive (the last batch of an epoch may be smaller, as with PyTorch's
   *     {@code DataLoader})
   * @param seed the seed of every random draw (shuffling, timesteps, noise)
   * @param logEvery steps between {@link TrainingListener#onLog} calls, positive
   * @param imageLogEvery steps between {@link TrainingListener#onImages} calls, 0 for none
   * @param imagesToLog images per image log, at least 0
   * @param ema the moving average of the weights, if any
   * @param learningRateSchedule the rate of each step ({@link LearningRateSchedule#CONSTANT}: the optimiser's own)
   */
  public TrainerOptions {
    if (epochs < 1) {
      throw new IllegalArgumentException("epochs must be at least 1, got " + epochs);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    if (logEvery < 1) {
      throw new IllegalArgumentException("log interval must be at least 1, got " + logEvery);
    }
    if (imageLogEvery < 0 || imagesToLog < 0) {
      throw new IllegalArgumentException("image log interval and count must be at least 0");
    }
    if (ema == null) {
      throw new IllegalArgumentException("ema must not be null (use Optional.empty())");
    }
    if (learningRateSchedule == null) {
      throw new IllegalArgumentException(
          "learningRateSchedule must not be null (use LearningRateSchedule.CONSTANT for the optimiser's own rate)");
    }
  }

  /**
   * The options with the optimiser's own rate at every step ({@link LearningRateSchedule#CONSTANT}), as before
   * learning-rate schedules existed.
   *
   * @param epochs passes over the training set, positive
   * @param batchSize images per step, positive
   * @param seed the seed of every random draw (shuffling, timesteps, noise)
   * @param logEvery steps between {@link TrainingListener#onLog} calls, positive
   * @param imageLogEvery steps between {@link TrainingListener#onImages} calls, 0 for none
   * @param imagesToLog images per image log, at least 0
   * @param ema the moving average of the weights, if any
   */
  public TrainerOptions(int epochs, int batchSize, long seed, int logEvery, int imageLogEvery, int imagesToLog,
      Optional<EmaSchedule> ema) {
    this(epochs, batchSize, seed, logEvery, imageLogEvery, imagesToLog, ema, LearningRateSchedule.CONSTANT);
  }

  /**
   * The batches of an epoch over {@code images} training images: {@code ceil(images / batchSize)} (only an epoch's
   * last batch is short).
   *
   * @param images the training images, at least 0
   * @return the batches per epoch
   */
  public long batchesPerEpoch(long images) {
    return (images + batchSize - 1) / batchSize;
  }

  /**
   * The run's optimiser steps over {@code images} training images: {@code epochs x batchesPerEpoch(images)}, the
   * {@code N} of the learning-rate schedule.
   *
   * @param images the training images, at least 0
   * @return the steps
   */
  public long totalSteps(long images) {
    return epochs * batchesPerEpoch(images);
  }

  /**
   * These options with another learning-rate schedule.
   *
   * @param schedule the rate of each step
   * @return the options
   */
  public TrainerOptions withLearningRateSchedule(LearningRateSchedule schedule) {
    return new TrainerOptions(epochs, batchSize, seed, logEvery, imageLogEvery, imagesToLog, ema, schedule);
  }
}
