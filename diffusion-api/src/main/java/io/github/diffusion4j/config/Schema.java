package io.github.diffusion4j.config;

import java.util.List;

/**
 * The configuration schema, the single source of truth: the sections, each the keys of one record (every
 * key's path, type, default, allowed values and description) and how to build that record from their
 * values. Binding and validation ({@code Binder} and the records' compact constructors), the default
 * configuration ({@link ConfigLoader#defaults()}), the written YAML ({@link ConfigWriter}) and the docs
 * ({@link ConfigDocs}) are all derived from it.
 *
 * <p>Each record owns its keys (e.g. {@code DataConfig.KIND}) and checks its values with them in its compact
 * constructor; this class only assembles them, so the references run one way: {@code Schema} to the
 * records, never back.
 *
 * <p>To add a key: add a component to its record, a {@code Key} in that record (and its check in the
 * record's compact constructor), and add it to its section below.
 */
final class Schema {
  private Schema() {}

  static final Section<DataConfig> DATA = new Section<>("data", "the training and evaluation images",
      DataConfig.KIND,
      v -> new DataConfig(v.get(DataConfig.KIND), v.get(DataConfig.IMAGE_SHAPE), v.get(DataConfig.TRAIN_SIZE),
          v.get(DataConfig.EVAL_SIZE), v.get(DataConfig.TRAIN_IMAGES), v.get(DataConfig.TRAIN_LABELS),
          v.get(DataConfig.EVAL_IMAGES), v.get(DataConfig.EVAL_LABELS), v.get(DataConfig.PAD_TO),
          v.get(DataConfig.ROOT), v.get(DataConfig.EVAL_ROOT), v.get(DataConfig.RESIZE),
          v.get(DataConfig.UPSCALE), v.get(DataConfig.BAD_DATA), v.get(DataConfig.CACHE_DIR),
          v.get(DataConfig.RANDOM_FLIP)),
      List.of(DataConfig.KIND, DataConfig.IMAGE_SHAPE, DataConfig.TRAIN_SIZE, DataConfig.EVAL_SIZE,
          DataConfig.TRAIN_IMAGES, DataConfig.TRAIN_LABELS, DataConfig.EVAL_IMAGES, DataConfig.EVAL_LABELS,
          DataConfig.PAD_TO, DataConfig.ROOT, DataConfig.EVAL_ROOT, DataConfig.RESIZE, DataConfig.UPSCALE,
          DataConfig.BAD_DATA, DataConfig.CACHE_DIR, DataConfig.RANDOM_FLIP));

  static final Section<ModelConfig> MODEL = new Section<>("model", "the noise predictor",
      ModelConfig.KIND,
      v -> new ModelConfig(v.get(ModelConfig.KIND), v.get(ModelConfig.HIDDEN),
          v.get(ModelConfig.BASE_CHANNELS), v.get(ModelConfig.CHANNEL_MULT),
          v.get(ModelConfig.NUM_RES_BLOCKS), v.get(ModelConfig.ATTENTION), v.get(ModelConfig.GROUPS),
          v.get(ModelConfig.DROPOUT), v.get(ModelConfig.ATTN_RESOLUTIONS), v.get(ModelConfig.UNET2D_CONFIG)),
      List.of(ModelConfig.KIND, ModelConfig.HIDDEN, ModelConfig.BASE_CHANNELS, ModelConfig.CHANNEL_MULT,
          ModelConfig.NUM_RES_BLOCKS, ModelConfig.ATTENTION, ModelConfig.GROUPS, ModelConfig.DROPOUT,
          ModelConfig.ATTN_RESOLUTIONS, ModelConfig.UNET2D_CONFIG));

  static final Section<ScheduleConfig> SCHEDULE = new Section<>("schedule",
      "the noise schedule (diffusers DDPMScheduler/DDIMScheduler names)", null,
      v -> ScheduleConfig.of(v.get(ScheduleConfig.NUM_TRAIN_TIMESTEPS), v.get(ScheduleConfig.BETA_START),
          v.get(ScheduleConfig.BETA_END), v.get(ScheduleConfig.BETA_SCHEDULE),
          v.get(ScheduleConfig.PREDICTION_TYPE), v.get(ScheduleConfig.RESCALE_BETAS_ZERO_SNR)),
      List.of(ScheduleConfig.NUM_TRAIN_TIMESTEPS, ScheduleConfig.BETA_START, ScheduleConfig.BETA_END,
          ScheduleConfig.BETA_SCHEDULE, ScheduleConfig.PREDICTION_TYPE,
          ScheduleConfig.RESCALE_BETAS_ZERO_SNR));

  static final Section<EmaConfig> EMA = new Section<>(EmaConfig.SECTION,
      "exponential moving average of the weights", null,
      v -> new EmaConfig(v.get(EmaConfig.ENABLED), v.get(EmaConfig.DECAY), v.get(EmaConfig.UPDATE_AFTER_STEP),
          v.get(EmaConfig.USE_WARMUP), v.get(EmaConfig.INV_GAMMA), v.get(EmaConfig.POWER),
          v.get(EmaConfig.MIN_DECAY)),
      List.of(EmaConfig.ENABLED, EmaConfig.DECAY, EmaConfig.UPDATE_AFTER_STEP, EmaConfig.USE_WARMUP,
          EmaConfig.INV_GAMMA, EmaConfig.POWER, EmaConfig.MIN_DECAY));

  static final Section.Sub<TrainingConfig, EmaConfig> TRAINING_EMA =
      new Section.Sub<>(EMA, TrainingConfig::ema);

  static final Section<TrainingConfig> TRAINING = new Section<>("training",
      "the training loop and Adam (PyTorch semantics)", null,
      v -> new TrainingConfig(v.get(TrainingConfig.EPOCHS), v.get(TrainingConfig.BATCH_SIZE),
          v.get(TrainingConfig.LEARNING_RATE), v.get(TrainingConfig.ADAM_BETA1),
          v.get(TrainingConfig.ADAM_BETA2), v.get(TrainingConfig.ADAM_EPSILON),
          v.get(TrainingConfig.WEIGHT_DECAY), v.get(TrainingConfig.MAX_GRAD_NORM), v.get(TRAINING_EMA),
          v.get(TrainingConfig.LOG_EVERY), v.get(TrainingConfig.IMAGE_LOG_EVERY),
          v.get(TrainingConfig.IMAGES_TO_LOG), v.get(TrainingConfig.CHECKPOINT_EVERY),
          v.get(TrainingConfig.KEEP_CHECKPOINTS), v.get(TrainingConfig.INIT_FROM), v.get(TrainingConfig.LR_SCHEDULE),
          v.get(TrainingConfig.LR_WARMUP_STEPS)),
      List.of(TrainingConfig.EPOCHS, TrainingConfig.BATCH_SIZE, TrainingConfig.LEARNING_RATE,
          TrainingConfig.LR_SCHEDULE, TrainingConfig.LR_WARMUP_STEPS, TrainingConfig.ADAM_BETA1, TrainingConfig.ADAM_BETA2, TrainingConfig.ADAM_EPSILON,
          TrainingConfig.WEIGHT_DECAY, TrainingConfig.MAX_GRAD_NORM, TRAINING_EMA, TrainingConfig.LOG_EVERY,
          TrainingConfig.IMAGE_LOG_EVERY, TrainingConfig.IMAGES_TO_LOG, TrainingConfig.CHECKPOINT_EVERY,
          TrainingConfig.KEEP_CHECKPOINTS, TrainingConfig.INIT_FROM));

  static final Section<SamplingConfig> SAMPLING = new Section<>("sampling",
      "generating images (diffusers DDPMScheduler/DDIMScheduler names)", null,
      v -> new SamplingConfig(v.get(SamplingConfig.SAMPLER), v.get(SamplingConfig.NUM_INFERENCE_STEPS),
          v.get(SamplingConfig.TIMESTEP_SPACING), v.get(SamplingConfig.STEPS_OFFSET),
          v.get(SamplingConfig.TIMESTEPS), v.get(SamplingConfig.ETA), v.get(SamplingConfig.VARIANCE_TYPE),
          v.get(SamplingConfig.CLIP_SAMPLE), v.get(SamplingConfig.CLIP_SAMPLE_RANGE),
          v.get(SamplingConfig.THRESHOLDING), v.get(SamplingConfig.DYNAMIC_THRESHOLDING_RATIO),
          v.get(SamplingConfig.SAMPLE_MAX_VALUE), v.get(SamplingConfig.SET_ALPHA_TO_ONE),
          v.get(SamplingConfig.COUNT), v.get(SamplingConfig.USE_EMA), v.get(SamplingConfig.NOISE_VERSION),
          v.get(SamplingConfig.OPTIONS)),
      List.of(SamplingConfig.SAMPLER, SamplingConfig.NUM_INFERENCE_STEPS, SamplingConfig.TIMESTEP_SPACING,
          SamplingConfig.STEPS_OFFSET, SamplingConfig.TIMESTEPS, SamplingConfig.ETA,
          SamplingConfig.VARIANCE_TYPE, SamplingConfig.CLIP_SAMPLE, SamplingConfig.CLIP_SAMPLE_RANGE,
          SamplingConfig.THRESHOLDING, SamplingConfig.DYNAMIC_THRESHOLDING_RATIO,
          SamplingConfig.SAMPLE_MAX_VALUE, SamplingConfig.SET_ALPHA_TO_ONE, SamplingConfig.COUNT,
          SamplingConfig.USE_EMA, SamplingConfig.NOISE_VERSION, SamplingConfig.OPTIONS));

  static final Section<OutputConfig> OUTPUT = new Section<>("output", "where runs are written", null,
      v -> new OutputConfig(v.get(OutputConfig.DIR), v.get(OutputConfig.NAME)),
      List.of(OutputConfig.DIR, OutputConfig.NAME));

  static final Section.Sub<DiffusionConfig, DataConfig> ROOT_DATA =
      new Section.Sub<>(DATA, DiffusionConfig::data);
  static final Section.Sub<DiffusionConfig, ModelConfig> ROOT_MODEL =
      new Section.Sub<>(MODEL, DiffusionConfig::model);
  static final Section.Sub<DiffusionConfig, ScheduleConfig> ROOT_SCHEDULE =
      new Section.Sub<>(SCHEDULE, DiffusionConfig::schedule);
  static final Section.Sub<DiffusionConfig, TrainingConfig> ROOT_TRAINING =
      new Section.Sub<>(TRAINING, DiffusionConfig::training);
  static final Section.Sub<DiffusionConfig, SamplingConfig> ROOT_SAMPLING =
      new Section.Sub<>(SAMPLING, DiffusionConfig::sampling);
  static final Section.Sub<DiffusionConfig, OutputConfig> ROOT_OUTPUT =
      new Section.Sub<>(OUTPUT, DiffusionConfig::output);

  /** The whole configuration. */
  static final Section<DiffusionConfig> ROOT = new Section<>("", "", null,
      v -> new DiffusionConfig(v.get(DiffusionConfig.BACKEND), v.get(DiffusionConfig.SEED),
          v.get(DiffusionConfig.THREADS), v.get(ROOT_DATA), v.get(ROOT_MODEL), v.get(ROOT_SCHEDULE),
          v.get(ROOT_TRAINING), v.get(ROOT_SAMPLING), v.get(ROOT_OUTPUT)),
      List.of(DiffusionConfig.BACKEND, DiffusionConfig.SEED, DiffusionConfig.THREADS, ROOT_DATA, ROOT_MODEL,
          ROOT_SCHEDULE, ROOT_TRAINING, ROOT_SAMPLING, ROOT_OUTPUT));

  /**
   * Every key, depth first in the order they are written.
   *
   * @return the keys
   */
  static List<Key<?, ?>> keys() {
    return ROOT.allKeys();
  }
}
