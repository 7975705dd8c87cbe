package io.github.diffusion4j.config;

import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.training.LearningRateSchedule;
import io.github.diffusion4j.training.TrainerOptions;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The training loop ({@code training:}): epochs, batches, Adam with PyTorch's semantics, the learning-rate
 * schedule, the weight average, logging and checkpoints.
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
 * @param initFrom the weights a new run starts from (fine-tuning): a checkpoint or run folder, or a diffusers
 *     folder; empty for freshly initialised weights
 * @param lrSchedule what follows the warm-up: the constant rate, a linear or a cosine decay to 0 at the last step
 *     (diffusers' {@code get_*_schedule_with_warmup}; {@link LearningRateSchedule})
 * @param lrWarmupSteps optimiser steps over which the rate rises linearly from 0, at least 0
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
    int keepCheckpoints,
    Optional<Path> initFrom,
    LearningRateSchedule.Kind lrSchedule,
    int lrWarmupSteps) {

  // ---- keys: path, type, default and description of each component; Schema assembles them ----

  static final Key<TrainingConfig, Integer> EPOCHS = Key.of("training.epochs", TrainingConfig::epochs,
      ValueType.atLeast(1), 20, "passes over the training images");
  static final Key<TrainingConfig, Integer> BATCH_SIZE = Key.of("training.batch_size",
      TrainingConfig::batchSize, ValueType.atLeast(1), 128,
      "images per training step; at most data.train_size");
  static final Key<TrainingConfig, Double> LEARNING_RATE = Key.of("training.learning_rate",
      TrainingConfig::learningRate, ValueType.positive(), 1e-3, "Adam's step size");
  static final Key<TrainingConfig, Double> ADAM_BETA1 = Key.of("training.adam_beta1",
      TrainingConfig::adamBeta1, ValueType.number(0, true, 1, false), 0.9, "Adam's first-moment decay");
  static final Key<TrainingConfig, Double> ADAM_BETA2 = Key.of("training.adam_beta2",
      TrainingConfig::adamBeta2, ValueType.number(0, true, 1, false), 0.999,
      "Adam's second-moment decay");
  static final Key<TrainingConfig, Double> ADAM_EPSILON = Key.of("training.adam_epsilon",
      TrainingConfig::adamEpsilon, ValueType.positive(), 1e-8, "Adam's denominator term");
  static final Key<TrainingConfig, Double> WEIGHT_DECAY = Key.of("training.weight_decay",
      TrainingConfig::weightDecay, ValueType.nonNegative(), 0.0, "L2 penalty added to the gradient");
  static final Key<TrainingConfig, Double> MAX_GRAD_NORM = Key.of("training.max_grad_norm",
      TrainingConfig::maxGradNorm, ValueType.nonNegative(), 0.0,
      "clip the gradient to this global L2 norm (0 = no clipping)");
  static final Key<TrainingConfig, Integer> LOG_EVERY = Key.of("training.log_every",
      TrainingConfig::logEvery, ValueType.atLeast(1), 50, "steps between metric lines");
  static final Key<TrainingConfig, Integer> IMAGE_LOG_EVERY = Key.of("training.image_log_every",
      TrainingConfig::imageLogEvery, ValueType.atLeast(0), 200,
      "steps between image logs (the tutorial's img_log_interval; 0 = none)");
  static final Key<TrainingConfig, Integer> IMAGES_TO_LOG = Key.of("training.images_to_log",
      TrainingConfig::imagesToLog, ValueType.atLeast(1), 3,
      "images in each image log; at most batch_size");
  static final Key<TrainingConfig, Integer> CHECKPOINT_EVERY = Key.of("training.checkpoint_every",
      TrainingConfig::checkpointEvery, ValueType.atLeast(1), 1, "epochs between checkpoints");
  static final Key<TrainingConfig, Integer> KEEP_CHECKPOINTS = Key.of("training.keep_checkpoints",
      TrainingConfig::keepCheckpoints, ValueType.atLeast(1), 3, "newest checkpoints kept on disk");
  static final Key<TrainingConfig, Optional<Path>> INIT_FROM = Key.of("training.init_from",
      TrainingConfig::initFrom, ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "start a new run from these weights (fine-tuning): a checkpoint or run folder of this SDK (the weights it "
          + "samples with: EMA where it has them and sampling.use_ema) or a diffusers UNet2DModel/DDPMPipeline "
          + "folder; the model section must describe the same network; Adam starts afresh; --resume continues from "
          + "the run's own checkpoint");
  static final Key<TrainingConfig, LearningRateSchedule.Kind> LR_SCHEDULE = Key.of("training.lr_schedule",
      TrainingConfig::lrSchedule,
      ValueType.enumeration(LearningRateSchedule.Kind.class, LearningRateSchedule.Kind::configName),
      LearningRateSchedule.Kind.CONSTANT,
      "the rate after the warm-up: learning_rate (with a warm-up, diffusers' lr_scheduler constant_with_warmup), "
          + "or a linear or half-cosine decay to 0 at the run's last step (linear, cosine)");
  static final Key<TrainingConfig, Integer> LR_WARMUP_STEPS = Key.of("training.lr_warmup_steps",
      TrainingConfig::lrWarmupSteps, ValueType.atLeast(0), 0,
      "steps over which the rate rises linearly from 0 to learning_rate (diffusers' lr_warmup_steps; 0 = none)");

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
   * @param initFrom the weights a new run starts from, or empty
   * @param lrSchedule what follows the warm-up
   * @param lrWarmupSteps the warm-up steps, at least 0
   * @throws ConfigException naming the key at fault
   */
  public TrainingConfig {
    EPOCHS.check(epochs);
    BATCH_SIZE.check(batchSize);
    LEARNING_RATE.check(learningRate);
    ADAM_BETA1.check(adamBeta1);
    ADAM_BETA2.check(adamBeta2);
    ADAM_EPSILON.check(adamEpsilon);
    WEIGHT_DECAY.check(weightDecay);
    MAX_GRAD_NORM.check(maxGradNorm);
    if (ema == null) {
      throw new ConfigException(EmaConfig.SECTION, "a value is required");
    }
    LOG_EVERY.check(logEvery);
    IMAGE_LOG_EVERY.check(imageLogEvery);
    IMAGES_TO_LOG.check(imagesToLog);
    CHECKPOINT_EVERY.check(checkpointEvery);
    KEEP_CHECKPOINTS.check(keepCheckpoints);
    if (initFrom == null) {
      throw new ConfigException(INIT_FROM.path(), "a value is required (Optional.empty() for none)");
    }
    if (lrSchedule == null) {
      throw new ConfigException(LR_SCHEDULE.path(), "a value is required");
    }
    LR_WARMUP_STEPS.check(lrWarmupSteps);
    if (imageLogEvery > 0 && imagesToLog > batchSize) { // with image logs off, images_to_log is not used
      throw ConfigException.either(
          new ConfigException(IMAGES_TO_LOG.path(),
              "must be at most batch_size (" + batchSize + "), got " + imagesToLog),
          new ConfigException(BATCH_SIZE.path(),
              "must be at least images_to_log (" + imagesToLog + "), got " + batchSize));
    }
  }

  /**
   * The settings without {@code training.init_from} (freshly initialised weights), as before that key existed.
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
  public TrainingConfig(int epochs, int batchSize, double learningRate, double adamBeta1, double adamBeta2,
      double adamEpsilon, double weightDecay, double maxGradNorm, EmaConfig ema, int logEvery, int imageLogEvery,
      int imagesToLog, int checkpointEvery, int keepCheckpoints) {
    this(epochs, batchSize, learningRate, adamBeta1, adamBeta2, adamEpsilon, weightDecay, maxGradNorm, ema, logEvery,
        imageLogEvery, imagesToLog, checkpointEvery, keepCheckpoints, Optional.empty());
  }

  /**
   * The settings with the constant learning rate and no warm-up, as before {@code training.lr_schedule} and
   * {@code training.lr_warmup_steps} existed.
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
   * @param initFrom the weights a new run starts from, or empty
   * @throws ConfigException naming the key at fault
   */
  public TrainingConfig(int epochs, int batchSize, double learningRate, double adamBeta1, double adamBeta2,
      double adamEpsilon, double weightDecay, double maxGradNorm, EmaConfig ema, int logEvery, int imageLogEvery,
      int imagesToLog, int checkpointEvery, int keepCheckpoints, Optional<Path> initFrom) {
    this(epochs, batchSize, learningRate, adamBeta1, adamBeta2, adamEpsilon, weightDecay, maxGradNorm, ema, logEvery,
        imageLogEvery, imagesToLog, checkpointEvery, keepCheckpoints, initFrom, LearningRateSchedule.Kind.CONSTANT, 0);
  }

  /**
   * These settings with another {@code training.init_from}.
   *
   * @param from the weights a new run starts from, or empty
   * @return the settings
   */
  public TrainingConfig withInitFrom(Optional<Path> from) {
    return new TrainingConfig(epochs, batchSize, learningRate, adamBeta1, adamBeta2, adamEpsilon, weightDecay,
        maxGradNorm, ema, logEvery, imageLogEvery, imagesToLog, checkpointEvery, keepCheckpoints, from, lrSchedule,
        lrWarmupSteps);
  }

  /**
   * These settings with another learning-rate schedule.
   *
   * @param schedule what follows the warm-up ({@code training.lr_schedule})
   * @param warmupSteps the warm-up steps ({@code training.lr_warmup_steps}), at least 0
   * @return the settings
   * @throws ConfigException naming the key at fault
   */
  public TrainingConfig withLearningRateSchedule(LearningRateSchedule.Kind schedule, int warmupSteps) {
    return new TrainingConfig(epochs, batchSize, learningRate, adamBeta1, adamBeta2, adamEpsilon, weightDecay,
        maxGradNorm, ema, logEvery, imageLogEvery, imagesToLog, checkpointEvery, keepCheckpoints, initFrom, schedule,
        warmupSteps);
  }

  /**
   * The learning-rate schedule for the trainer.
   *
   * @return {@code training.lr_schedule} with {@code training.lr_warmup_steps}
   */
  public LearningRateSchedule learningRateSchedule() {
    return new LearningRateSchedule(lrSchedule, lrWarmupSteps);
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
   * @return the trainer options, with the EMA schedule when enabled and the learning-rate schedule
   */
  public TrainerOptions trainerOptions(long seed) {
    return new TrainerOptions(epochs, batchSize, seed, logEvery, imageLogEvery, imagesToLog, ema.schedule(),
        learningRateSchedule());
  }
}
