package io.github.diffusion4j.config;

import io.github.diffusion4j.data.BadDataPolicy;
import io.github.diffusion4j.data.ImageFit;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.TimestepSpacing;
import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The configuration schema, the single source of truth: every key's path, type, default, allowed values
 * and description, and the records they fill. Binding and validation ({@code Binder} and the records'
 * compact constructors), the default configuration ({@link ConfigLoader#defaults()}), the written YAML
 * ({@link ConfigWriter}) and the docs ({@link ConfigDocs}) are all derived from it.
 *
 * <p>To add a key: add a component to its record, a {@code Key} here (and its check in the record's
 * compact constructor), and add it to its section below.
 */
final class Schema {
  private Schema() {}

  private static final String GRADIENTS = DataConfig.Kind.GRADIENTS.configName();
  private static final String IDX = DataConfig.Kind.IDX.configName();
  private static final String FOLDER = DataConfig.Kind.FOLDER.configName();
  private static final String CIFAR10 = DataConfig.Kind.CIFAR10.configName();
  private static final String MLP = ModelConfig.Kind.MLP.configName();
  private static final String UNET = ModelConfig.Kind.UNET.configName();
  private static final String DDPM = ModelConfig.Kind.DDPM.configName();
  private static final String UNET2D = ModelConfig.Kind.UNET2D.configName();

  // ---- top level --------------------------------------------------------------------------------

  static final Key<DiffusionConfig, String> BACKEND = Key.of("backend", DiffusionConfig::backend,
      ValueType.identifier(), "nd4j",
      "numeric backend: the name of a BackendProvider on the class path (nd4j, djl)");
  static final Key<DiffusionConfig, Long> SEED = Key.of("seed", DiffusionConfig::seed,
      ValueType.anyLong(), 42L,
      "seed of every random stream (data, initial weights, training noise, sampling noise)");
  static final Key<DiffusionConfig, Integer> THREADS = Key.of("threads", DiffusionConfig::threads,
      ValueType.integer(1, 1024), 1,
      "native compute threads (intra-op); 1 is fastest for small models on few cores");

  // ---- data -------------------------------------------------------------------------------------

  static final Key<DataConfig, DataConfig.Kind> DATA_KIND = Key.of("data.kind", DataConfig::kind,
      ValueType.enumeration(DataConfig.Kind.class, DataConfig.Kind::configName), DataConfig.Kind.GRADIENTS,
      "where images come from: gradients (generated colour gradients, as in the tutorial), idx "
          + "(MNIST-style IDX files), folder (a folder of PNG, JPEG, BMP and GIF images) or cifar10 (the "
          + "CIFAR-10 binary batches)");
  static final Key<DataConfig, Optional<Shape>> IMAGE_SHAPE = Key.of("data.image_shape",
      DataConfig::imageShape, ValueType.optional(ValueType.shape()), Optional.of(Shape.of(3, 5, 5)),
      "image shape [C, H, W]; for idx it is read from the files (give it only to assert it); for folder "
          + "and cifar10 every image is resized to it, C = 1 for grayscale, 3 for RGB")
      .defaultFor(IDX, Optional.empty()).defaultFor(FOLDER, Optional.empty())
      .defaultFor(CIFAR10, Optional.of(Shape.of(3, 32, 32)));
  static final Key<DataConfig, Integer> TRAIN_SIZE = Key.of("data.train_size", DataConfig::trainSize,
      ValueType.atLeast(0), 50_000,
      "gradients: number of generated training images (at least 1); idx, folder, cifar10: use at most "
          + "this many (0 = all; folder, cifar10: spread evenly over the order)")
      .defaultFor(IDX, 0).defaultFor(FOLDER, 0).defaultFor(CIFAR10, 0);
  static final Key<DataConfig, Integer> EVAL_SIZE = Key.of("data.eval_size", DataConfig::evalSize,
      ValueType.atLeast(0), 1_000,
      "gradients: number of generated evaluation images (0 = no evaluation); idx, folder, cifar10: use "
          + "at most this many (0 = all; folder, cifar10: spread evenly over the order)")
      .defaultFor(IDX, 0).defaultFor(FOLDER, 0).defaultFor(CIFAR10, 0);
  static final Key<DataConfig, Optional<Path>> TRAIN_IMAGES = Key.of("data.train_images",
      DataConfig::trainImages, ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "IDX file of the training images (required)").onlyFor(IDX);
  static final Key<DataConfig, Optional<Path>> TRAIN_LABELS = Key.of("data.train_labels",
      DataConfig::trainLabels, ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "IDX file of the training labels (optional)").onlyFor(IDX);
  static final Key<DataConfig, Optional<Path>> EVAL_IMAGES = Key.of("data.eval_images",
      DataConfig::evalImages, ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "IDX file of the evaluation images (required)").onlyFor(IDX);
  static final Key<DataConfig, Optional<Path>> EVAL_LABELS = Key.of("data.eval_labels",
      DataConfig::evalLabels, ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "IDX file of the evaluation labels (optional)").onlyFor(IDX);
  static final Key<DataConfig, Integer> PAD_TO = Key.of("data.pad_to", DataConfig::padTo,
      ValueType.oneOf(0, 32), 0,
      "pad images with zeros to pad_to x pad_to (0 = no padding; 32 pads MNIST's 28x28)").onlyFor(IDX);
  static final Key<DataConfig, Optional<Path>> DATA_ROOT = Key.of("data.root", DataConfig::root,
      ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "folder: the folder of training images, searched recursively (a sub-folder per class is recorded as "
          + "its label); cifar10: the folder of data_batch_1.bin ... test_batch.bin (required)")
      .onlyFor(FOLDER, CIFAR10);
  static final Key<DataConfig, Optional<Path>> EVAL_ROOT = Key.of("data.eval_root", DataConfig::evalRoot,
      ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "folder of evaluation images (optional; none = no evaluation)").onlyFor(FOLDER);
  static final Key<DataConfig, ImageFit.Resize> RESIZE = Key.of("data.resize", DataConfig::resize,
      ValueType.enumeration(ImageFit.Resize.class, ImageFit.Resize::configName), ImageFit.Resize.CROP,
      "crop: scale the shorter side to the target and cut out the centre; pad: scale the longer side to "
          + "the target and pad with black, centred").onlyFor(FOLDER, CIFAR10);
  static final Key<DataConfig, Boolean> UPSCALE = Key.of("data.upscale", DataConfig::upscale,
      ValueType.bool(), false,
      "enlarge images smaller than the target (else, with crop, such an image is bad data)")
      .onlyFor(FOLDER, CIFAR10);
  static final Key<DataConfig, BadDataPolicy> BAD_DATA = Key.of("data.bad_data", DataConfig::badData,
      ValueType.enumeration(BadDataPolicy.class, BadDataPolicy::configName), BadDataPolicy.STOP,
      "an unreadable, truncated, empty or too small image: stop (naming the file) or skip (count it and "
          + "name it in the run's report)").onlyFor(FOLDER, CIFAR10);
  static final Key<DataConfig, Optional<Path>> CACHE_DIR = Key.of("data.cache_dir", DataConfig::cacheDir,
      ValueType.optional(ValueType.path(false)), Optional.<Path>empty(),
      "folder of the decoded-image cache, built once and memory-mapped (relative to the working "
          + "directory; none = output.dir/.data-cache)").onlyFor(FOLDER, CIFAR10);
  static final Key<DataConfig, Boolean> RANDOM_FLIP = Key.of("data.random_flip", DataConfig::randomFlip,
      ValueType.bool(), false,
      "flip training images left to right at random, drawn per epoch and image from the seed (DDPM's "
          + "CIFAR-10 augmentation)");

  // ---- model ------------------------------------------------------------------------------------

  static final Key<ModelConfig, ModelConfig.Kind> MODEL_KIND = Key.of("model.kind", ModelConfig::kind,
      ValueType.enumeration(ModelConfig.Kind.class, ModelConfig.Kind::configName), ModelConfig.Kind.MLP,
      "architecture of the noise predictor: mlp (the tutorial's two-layer MLP), unet (the DDPM U-Net in "
          + "miniature, docs/unet.md), ddpm (the DDPM authors' U-Net family, docs/ddpm.md) or unet2d (diffusers' "
          + "UNet2DModel, docs/diffusers.md)");
  static final Key<ModelConfig, Integer> HIDDEN = Key.of("model.hidden", ModelConfig::hidden,
      ValueType.atLeast(1), 128, "hidden width of the MLP").onlyFor(MLP);
  static final Key<ModelConfig, Integer> BASE_CHANNELS = Key.of("model.base_channels",
      ModelConfig::baseChannels, ValueType.atLeast(1), 32, "channels of the first UNet level (the DDPM authors' ch)")
      .onlyFor(UNET, DDPM).defaultFor(DDPM, 128);
  static final Key<ModelConfig, List<Integer>> CHANNEL_MULT = Key.of("model.channel_mult",
      ModelConfig::channelMult, ValueType.intList(1, true), List.of(1, 2, 2),
      "channel multiplier of each UNet level (one level per entry; the DDPM authors' ch_mult)").onlyFor(UNET, DDPM)
      .defaultFor(DDPM, List.of(1, 2, 2, 2));
  static final Key<ModelConfig, Integer> NUM_RES_BLOCKS = Key.of("model.num_res_blocks",
      ModelConfig::numResBlocks, ValueType.atLeast(1), 1, "residual blocks per UNet level on the way down")
      .onlyFor(UNET, DDPM).defaultFor(DDPM, 2);
  static final Key<ModelConfig, Boolean> ATTENTION = Key.of("model.attention", ModelConfig::attention,
      ValueType.bool(), true, "self-attention at the lowest UNet resolution").onlyFor(UNET);
  static final Key<ModelConfig, Integer> GROUPS = Key.of("model.groups", ModelConfig::groups,
      ValueType.atLeast(1), 8, "GroupNorm groups; must divide the channels of every UNet level")
      .onlyFor(UNET);
  static final Key<ModelConfig, Double> DROPOUT = Key.of("model.dropout", ModelConfig::dropout,
      ValueType.number(0, true, 1, false), 0.0, "dropout probability in the UNet's residual blocks")
      .onlyFor(UNET, DDPM).defaultFor(DDPM, 0.1);
  static final Key<ModelConfig, List<Integer>> ATTN_RESOLUTIONS = Key.of("model.attn_resolutions",
      ModelConfig::attnResolutions, ValueType.intList(1, false), List.of(16),
      "image sizes (height) of the levels with self-attention after every residual block, down and up; the "
          + "middle always has it").onlyFor(DDPM);

  static final Key<ModelConfig, ConfigSection> UNET2D_CONFIG = Key.of("model.unet2d", ModelConfig::unet2d,
      ValueType.section(), ConfigSection.empty("model.unet2d"),
      "diffusers' UNet2DModel config: the keys of its config.json, verbatim (absent keys take diffusers' defaults)")
      .onlyFor(UNET2D);

  // ---- schedule ---------------------------------------------------------------------------------

  static final Key<ScheduleConfig, Integer> NUM_TRAIN_TIMESTEPS = Key.of("schedule.num_train_timesteps",
      (ScheduleConfig c) -> c.spec().numTrainTimesteps(), ValueType.atLeast(2), 100,
      "T, the number of diffusion steps in training");
  static final Key<ScheduleConfig, Double> BETA_START = Key.of("schedule.beta_start",
      (ScheduleConfig c) -> c.spec().betaStart(), ValueType.number(0, false, 1, false), 1e-4,
      "first beta (linear, scaled_linear, sigmoid)");
  static final Key<ScheduleConfig, Double> BETA_END = Key.of("schedule.beta_end",
      (ScheduleConfig c) -> c.spec().betaEnd(), ValueType.number(0, false, 1, false), 0.02,
      "last beta; greater than beta_start");
  static final Key<ScheduleConfig, BetaSchedule> BETA_SCHEDULE = Key.of("schedule.beta_schedule",
      (ScheduleConfig c) -> c.spec().betaSchedule(),
      ValueType.enumeration(BetaSchedule.class, BetaSchedule::configName), BetaSchedule.LINEAR, "curve of the betas; squaredcos_cap_v2 is the cosine schedule");
  static final Key<ScheduleConfig, PredictionType> PREDICTION_TYPE = Key.of("schedule.prediction_type",
      ScheduleConfig::predictionType,
      ValueType.enumeration(PredictionType.class, PredictionType::configName), PredictionType.EPSILON,
      "what the model predicts: epsilon (the noise), sample (x0) or v_prediction (v)");
  static final Key<ScheduleConfig, Boolean> RESCALE_BETAS_ZERO_SNR = Key.of(
      "schedule.rescale_betas_zero_snr", (ScheduleConfig c) -> c.spec().rescaleBetasZeroSnr(), ValueType.bool(),
      false,
      "rescale the betas to zero terminal SNR (Lin et al. 2024); needs v_prediction or sample");

  // ---- training ---------------------------------------------------------------------------------

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

  static final Key<EmaConfig, Boolean> EMA_ENABLED = Key.of("training.ema.enabled", EmaConfig::enabled,
      ValueType.bool(), false, "keep an exponential moving average of the weights (diffusers EMAModel)");
  static final Key<EmaConfig, Double> EMA_DECAY = Key.of("training.ema.decay", EmaConfig::decay,
      ValueType.number(0, true, 1, true), 0.9999, "the largest decay");
  static final Key<EmaConfig, Integer> EMA_UPDATE_AFTER_STEP = Key.of("training.ema.update_after_step",
      EmaConfig::updateAfterStep, ValueType.atLeast(0), 0, "steps before the average starts");
  static final Key<EmaConfig, Boolean> EMA_USE_WARMUP = Key.of("training.ema.use_warmup",
      EmaConfig::useWarmup, ValueType.bool(), false,
      "warm up the decay as 1 - (1 + step / inv_gamma)^-power (else (1 + step) / (10 + step))");
  static final Key<EmaConfig, Double> EMA_INV_GAMMA = Key.of("training.ema.inv_gamma",
      EmaConfig::invGamma, ValueType.positive(), 1.0, "warm-up inverse multiplicative factor");
  static final Key<EmaConfig, Double> EMA_POWER = Key.of("training.ema.power", EmaConfig::power,
      ValueType.positive(), 2.0 / 3.0, "warm-up exponential factor");
  static final Key<EmaConfig, Double> EMA_MIN_DECAY = Key.of("training.ema.min_decay",
      EmaConfig::minDecay, ValueType.number(0, true, 1, true), 0.0,
      "the smallest decay; at most decay");

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

  // ---- sampling ---------------------------------------------------------------------------------

  static final Key<SamplingConfig, String> SAMPLER = Key.of("sampling.sampler", SamplingConfig::sampler,
      ValueType.identifier(), "ddim", "ddpm, ddim or the name of any registered SamplerProvider");
  static final Key<SamplingConfig, Integer> NUM_INFERENCE_STEPS = Key.of("sampling.num_inference_steps",
      SamplingConfig::numInferenceSteps, ValueType.atLeast(1), 20,
      "denoising steps; at most schedule.num_train_timesteps");
  static final Key<SamplingConfig, TimestepSpacing> TIMESTEP_SPACING = Key.of("sampling.timestep_spacing",
      SamplingConfig::timestepSpacing,
      ValueType.enumeration(TimestepSpacing.class, TimestepSpacing::configName), TimestepSpacing.TRAILING,
      "how the steps are laid over [0, T)");
  static final Key<SamplingConfig, Integer> STEPS_OFFSET = Key.of("sampling.steps_offset",
      SamplingConfig::stepsOffset, ValueType.atLeast(0), 0, "added to every step of a leading plan");
  static final Key<SamplingConfig, List<Integer>> TIMESTEPS = Key.of("sampling.timesteps",
      SamplingConfig::timesteps, ValueType.intList(0, false), List.of(),
      "explicit plan, strictly descending in [0, T); overrides num_inference_steps and "
          + "timestep_spacing when not empty");
  static final Key<SamplingConfig, Double> ETA = Key.of("sampling.eta", SamplingConfig::eta,
      ValueType.nonNegative(), 0.0, "DDIM noise: 0 = deterministic, 1 = DDPM-like");
  static final Key<SamplingConfig, VarianceType> VARIANCE_TYPE = Key.of("sampling.variance_type",
      SamplingConfig::varianceType, ValueType.enumeration(VarianceType.class, VarianceType::configName),
      VarianceType.FIXED_SMALL,
      "DDPM step variance: fixed_small (posterior), fixed_large (beta) or tutorial (beta^2)");
  static final Key<SamplingConfig, Boolean> CLIP_SAMPLE = Key.of("sampling.clip_sample",
      SamplingConfig::clipSample, ValueType.bool(), false,
      "clamp the predicted x0 to [-clip_sample_range, clip_sample_range]");
  static final Key<SamplingConfig, Double> CLIP_SAMPLE_RANGE = Key.of("sampling.clip_sample_range",
      SamplingConfig::clipSampleRange, ValueType.positive(), 1.0, "the clamp bound");
  static final Key<SamplingConfig, Boolean> THRESHOLDING = Key.of("sampling.thresholding",
      SamplingConfig::thresholding, ValueType.bool(), false,
      "dynamic thresholding of the predicted x0 (Saharia et al. 2022); overrides clip_sample");
  static final Key<SamplingConfig, Double> DYNAMIC_THRESHOLDING_RATIO = Key.of(
      "sampling.dynamic_thresholding_ratio", SamplingConfig::dynamicThresholdingRatio,
      ValueType.number(0, false, 1, true), 0.995, "quantile of |x0| used as the threshold");
  static final Key<SamplingConfig, Double> SAMPLE_MAX_VALUE = Key.of("sampling.sample_max_value",
      SamplingConfig::sampleMaxValue, ValueType.number(1, true, Double.POSITIVE_INFINITY, false), 1.0,
      "the largest threshold");
  static final Key<SamplingConfig, Boolean> SET_ALPHA_TO_ONE = Key.of("sampling.set_alpha_to_one",
      SamplingConfig::setAlphaToOne, ValueType.bool(), true,
      "DDIM: alpha-bar after the last step is 1 (else alpha-bar of step 0)");
  static final Key<SamplingConfig, Integer> COUNT = Key.of("sampling.count", SamplingConfig::count,
      ValueType.atLeast(1), 64, "images to generate");
  static final Key<SamplingConfig, Boolean> USE_EMA = Key.of("sampling.use_ema", SamplingConfig::useEma,
      ValueType.bool(), true, "sample with the EMA weights when the checkpoint has them");
  static final Key<SamplingConfig, Integer> NOISE_VERSION = Key.of("sampling.noise_version",
      SamplingConfig::noiseVersion, ValueType.oneOf(1, 2), 1,
      "how sampling noise becomes normals: 1 ziggurat (every release's samples), 2 float32 Box-Muller "
          + "(faster with the Vector API on AVX-512; docs/noise.md)");
  static final Key<SamplingConfig, ConfigSection> OPTIONS = Key.of("sampling.options",
      SamplingConfig::options, ValueType.section(), ConfigSection.empty("sampling.options"),
      "sampler-specific options, read by a custom sampler's provider");

  // ---- output -----------------------------------------------------------------------------------

  static final Key<OutputConfig, Path> OUTPUT_DIR = Key.of("output.dir", OutputConfig::dir,
      ValueType.path(false), Path.of("runs"),
      "folder that holds the run folders (relative to the working directory)");
  static final Key<OutputConfig, String> OUTPUT_NAME = Key.of("output.name", OutputConfig::name,
      ValueType.folderName(), "", "run folder name; empty = a timestamp");

  // ---- sections ---------------------------------------------------------------------------------

  static final Section<DataConfig> DATA = new Section<>("data", "the training and evaluation images",
      DATA_KIND, v -> new DataConfig(v.get(DATA_KIND), v.get(IMAGE_SHAPE), v.get(TRAIN_SIZE),
          v.get(EVAL_SIZE), v.get(TRAIN_IMAGES), v.get(TRAIN_LABELS), v.get(EVAL_IMAGES),
          v.get(EVAL_LABELS), v.get(PAD_TO), v.get(DATA_ROOT), v.get(EVAL_ROOT), v.get(RESIZE),
          v.get(UPSCALE), v.get(BAD_DATA), v.get(CACHE_DIR), v.get(RANDOM_FLIP)),
      List.of(DATA_KIND, IMAGE_SHAPE, TRAIN_SIZE, EVAL_SIZE, TRAIN_IMAGES, TRAIN_LABELS, EVAL_IMAGES,
          EVAL_LABELS, PAD_TO, DATA_ROOT, EVAL_ROOT, RESIZE, UPSCALE, BAD_DATA, CACHE_DIR, RANDOM_FLIP));

  static final Section<ModelConfig> MODEL = new Section<>("model", "the noise predictor", MODEL_KIND,
      v -> new ModelConfig(v.get(MODEL_KIND), v.get(HIDDEN), v.get(BASE_CHANNELS), v.get(CHANNEL_MULT),
          v.get(NUM_RES_BLOCKS), v.get(ATTENTION), v.get(GROUPS), v.get(DROPOUT), v.get(ATTN_RESOLUTIONS),
          v.get(UNET2D_CONFIG)),
      List.of(MODEL_KIND, HIDDEN, BASE_CHANNELS, CHANNEL_MULT, NUM_RES_BLOCKS, ATTENTION, GROUPS,
          DROPOUT, ATTN_RESOLUTIONS, UNET2D_CONFIG));

  static final Section<ScheduleConfig> SCHEDULE = new Section<>("schedule",
      "the noise schedule (diffusers DDPMScheduler/DDIMScheduler names)", null,
      v -> ScheduleConfig.of(v.get(NUM_TRAIN_TIMESTEPS), v.get(BETA_START), v.get(BETA_END),
          v.get(BETA_SCHEDULE), v.get(PREDICTION_TYPE), v.get(RESCALE_BETAS_ZERO_SNR)),
      List.of(NUM_TRAIN_TIMESTEPS, BETA_START, BETA_END, BETA_SCHEDULE, PREDICTION_TYPE,
          RESCALE_BETAS_ZERO_SNR));

  static final Section<EmaConfig> EMA = new Section<>("training.ema",
      "exponential moving average of the weights", null,
      v -> new EmaConfig(v.get(EMA_ENABLED), v.get(EMA_DECAY), v.get(EMA_UPDATE_AFTER_STEP),
          v.get(EMA_USE_WARMUP), v.get(EMA_INV_GAMMA), v.get(EMA_POWER), v.get(EMA_MIN_DECAY)),
      List.of(EMA_ENABLED, EMA_DECAY, EMA_UPDATE_AFTER_STEP, EMA_USE_WARMUP, EMA_INV_GAMMA, EMA_POWER,
          EMA_MIN_DECAY));

  static final Section.Sub<TrainingConfig, EmaConfig> TRAINING_EMA =
      new Section.Sub<>(EMA, TrainingConfig::ema);

  static final Section<TrainingConfig> TRAINING = new Section<>("training",
      "the training loop and Adam (PyTorch semantics)", null,
      v -> new TrainingConfig(v.get(EPOCHS), v.get(BATCH_SIZE), v.get(LEARNING_RATE), v.get(ADAM_BETA1),
          v.get(ADAM_BETA2), v.get(ADAM_EPSILON), v.get(WEIGHT_DECAY), v.get(MAX_GRAD_NORM),
          v.get(TRAINING_EMA), v.get(LOG_EVERY), v.get(IMAGE_LOG_EVERY), v.get(IMAGES_TO_LOG),
          v.get(CHECKPOINT_EVERY), v.get(KEEP_CHECKPOINTS)),
      List.of(EPOCHS, BATCH_SIZE, LEARNING_RATE, ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, WEIGHT_DECAY,
          MAX_GRAD_NORM, TRAINING_EMA, LOG_EVERY, IMAGE_LOG_EVERY, IMAGES_TO_LOG, CHECKPOINT_EVERY,
          KEEP_CHECKPOINTS));

  static final Section<SamplingConfig> SAMPLING = new Section<>("sampling",
      "generating images (diffusers DDPMScheduler/DDIMScheduler names)", null,
      v -> new SamplingConfig(v.get(SAMPLER), v.get(NUM_INFERENCE_STEPS), v.get(TIMESTEP_SPACING),
          v.get(STEPS_OFFSET), v.get(TIMESTEPS), v.get(ETA), v.get(VARIANCE_TYPE), v.get(CLIP_SAMPLE),
          v.get(CLIP_SAMPLE_RANGE), v.get(THRESHOLDING), v.get(DYNAMIC_THRESHOLDING_RATIO),
          v.get(SAMPLE_MAX_VALUE), v.get(SET_ALPHA_TO_ONE), v.get(COUNT), v.get(USE_EMA),
          v.get(NOISE_VERSION), v.get(OPTIONS)),
      List.of(SAMPLER, NUM_INFERENCE_STEPS, TIMESTEP_SPACING, STEPS_OFFSET, TIMESTEPS, ETA, VARIANCE_TYPE,
          CLIP_SAMPLE, CLIP_SAMPLE_RANGE, THRESHOLDING, DYNAMIC_THRESHOLDING_RATIO, SAMPLE_MAX_VALUE,
          SET_ALPHA_TO_ONE, COUNT, USE_EMA, NOISE_VERSION, OPTIONS));

  static final Section<OutputConfig> OUTPUT = new Section<>("output", "where runs are written", null,
      v -> new OutputConfig(v.get(OUTPUT_DIR), v.get(OUTPUT_NAME)), List.of(OUTPUT_DIR, OUTPUT_NAME));

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
      v -> new DiffusionConfig(v.get(BACKEND), v.get(SEED), v.get(THREADS), v.get(ROOT_DATA),
          v.get(ROOT_MODEL), v.get(ROOT_SCHEDULE), v.get(ROOT_TRAINING), v.get(ROOT_SAMPLING),
          v.get(ROOT_OUTPUT)),
      List.of(BACKEND, SEED, THREADS, ROOT_DATA, ROOT_MODEL, ROOT_SCHEDULE, ROOT_TRAINING, ROOT_SAMPLING,
          ROOT_OUTPUT));

  /**
   * Every key, depth first in the order they are written.
   *
   * @return the keys
   */
  static List<Key<?, ?>> keys() {
    return ROOT.allKeys();
  }
}
