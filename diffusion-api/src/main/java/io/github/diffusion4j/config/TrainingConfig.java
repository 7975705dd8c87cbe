package io.github.diffusion4j.config;

import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.training.TrainerOptions;

/**
 * The training loop ({@code training:}): epochs, batches, Adam with PyTorch's semantics, the weight
 * average, logging and checkpoints.
 *
 * @param epochs passes over the training images, at least 1
 * @param batchSize images per step, at least 1 and at most {@code data.train_size}
 * @param learningRate Adam's step size, positive
 * @param adamBeta1 the first-moment decay, in [0, 1)
 * @param adamBeta2 the second-moment decay, in [0, 1)
 * @param adamEpsilon the denominator term, positive
 * @param weightDecay the L2 penalty, at least 0
 * @param maxGradNorm the gradient-clipping norm, 0 = none
 * @param ema the weight average
 * @param logEvery steps between metric lines, at least 1
 * @param imageLogEvery steps between image logs, 0 = none
 * @param imagesToLog images per image log, in [1, batchSize]
 * @param checkpointEvery epochs between checkpoints, at least 1
 * @param keepCheckpoints the newest checkpoints kept, at least 1
 */
public record TrainingConfig(
    int epochs,
    int batchSize,
    double learningRate,
    double adamBeta1,
    double adamBeta2,
    double adamEpsilon,
    double weightDecay,
    double maxGradNorm,
    EmaConfig ema,
    int logEvery,
    int imageLogEvery,
    int imagesToLog,
    int checkpointEvery,
    int keepCheckpoints) {

  /**
   * Validates the values.
   *
   * @param epochs passes over the training images, at least 1
   * @param batchSize images per step, at least 1 and at most {@code data.train_size}
   * @param learningRate Adam's step size, positive
   * @param adamBeta1 the first-moment decay, in [0, 1)
   * @param adamBeta2 the second-moment decay, in [0, 1)
   * @param adamEpsilon the denominator term, positive
   * @param weightDecay the L2 penalty, at least 0
   * @param maxGradNorm the gradient-clipping norm, 0 = none
   * @param ema the weight average
   * @param logEvery steps between metric lines, at least 1
   * @param imageLogEvery steps between image logs, 0 = none
   * @param imagesToLog images per image log, in [1, batchSize]
   * @param checkpointEvery epochs between checkpoints, at least 1
   * @param keepCheckpoints the newest checkpoints kept, at least 1
   * @throws ConfigException naming the key at fault
   */
  public TrainingConfig {
    Schema.EPOCHS.check(epochs);
    Schema.BATCH_SIZE.check(batchSize);
    Schema.LEARNING_RATE.check(learningRate);
    Schema.ADAM_BETA1.check(adamBeta1);
    Schema.ADAM_BETA2.check(adamBeta2);
    Schema.ADAM_EPSILON.check(adamEpsilon);
    Schema.WEIGHT_DECAY.check(weightDecay);
    Schema.MAX_GRAD_NORM.check(maxGradNorm);
    if (ema == null) {
      throw new ConfigException(Schema.EMA.path(), "a value is required");
    }
    Schema.LOG_EVERY.check(logEvery);
    Schema.IMAGE_LOG_EVERY.check(imageLogEvery);
    Schema.IMAGES_TO_LOG.check(imagesToLog);
    Schema.CHECKPOINT_EVERY.check(checkpointEvery);
    Schema.KEEP_CHECKPOINTS.check(keepCheckpoints);
    if (imagesToLog > batchSize) {
      throw ConfigException.either(
          new ConfigException(Schema.IMAGES_TO_LOG.path(),
              "must be at most batch_size (" + batchSize + "), got " + imagesToLog),
          new ConfigException(Schema.BATCH_SIZE.path(),
              "must be at least images_to_log (" + imagesToLog + "), got " + batchSize));
    }
  }

  /**
   * The optimiser for the api.
   *
   * @return Adam with these settings
   */
  public OptimizerSpec optimizer() {
    return new OptimizerSpec(learningRate, adamBeta1, adamBeta2, adamEpsilon, weightDecay, maxGradNorm);
  }

  /**
   * How the trainer runs.
   *
   * @param seed the run's seed ({@code DiffusionConfig.seed})
   * @return the trainer options, with the EMA schedule when enabled
   */
  public TrainerOptions trainerOptions(long seed) {
    return new TrainerOptions(epochs, batchSize, seed, logEvery, imageLogEvery, imagesToLog, ema.schedule());
  }
}
