package io.github.diffusion4j.config;

import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;

/**
 * A whole, validated configuration: what {@link ConfigLoader} reads from a YAML file and
 * {@link ConfigWriter} writes back. Each section is checked by its own record; this constructor checks
 * the combinations that span sections (the inference plan against {@code T}, the batch size against
 * the training set).
 *
 * @param backend the numeric backend's name, a lowercase identifier (checked against the registered
 *     {@code BackendProvider}s when the runtime starts)
 * @param seed the seed of every random stream
 * @param threads native compute threads, in [1, 1024]
 * @param data the images
 * @param model the noise predictor
 * @param schedule the noise schedule
 * @param training the training loop
 * @param sampling image generation
 * @param output where runs are written
 */
public record DiffusionConfig(
    String backend,
    long seed,
    int threads,
    DataConfig data,
    ModelConfig model,
    ScheduleConfig schedule,
    TrainingConfig training,
    SamplingConfig sampling,
    OutputConfig output) {

  // ---- keys: path, type, default and description of each component; Schema assembles them ----

  static final Key<DiffusionConfig, String> BACKEND = Key.of("backend", DiffusionConfig::backend,
      ValueType.identifier(), "nd4j",
      "numeric backend: the name of a BackendProvider on the class path (nd4j, djl)");
  static final Key<DiffusionConfig, Long> SEED = Key.of("seed", DiffusionConfig::seed,
      ValueType.anyLong(), 42L,
      "seed of every random stream (data, initial weights, training noise, sampling noise)");
  static final Key<DiffusionConfig, Integer> THREADS = Key.of("threads", DiffusionConfig::threads,
      ValueType.integer(1, 1024), 1,
      "native compute threads; sampling splits a batch into this many slices, each walked on a thread of its own "
          + "(samples equal one thread's up to rounding in the last bits), while training and a batch of one image "
          + "share each operation over them (on ND4J any count gives the same bits; on DJL libtorch's sums round "
          + "otherwise at another count, which Adam's first steps can magnify); 2 speed up the U-Nets and the "
          + "tutorial MLP's sampling (README, \"Quality and speed\")");

  /**
   * Validates the values and their combinations.
   *
   * @param backend the numeric backend's name, a lowercase identifier (checked against the registered {@code
   *     BackendProvider}s when the runtime starts)
   * @param seed the seed of every random stream
   * @param threads native compute threads, in [1, 1024]
   * @param data the images
   * @param model the noise predictor
   * @param schedule the noise schedule
   * @param training the training loop
   * @param sampling image generation
   * @param output where runs are written
   * @throws ConfigException naming the key at fault
   */
  public DiffusionConfig {
    BACKEND.check(backend);
    SEED.check(seed);
    THREADS.check(threads);
    requireSection("data", data);
    requireSection("model", model);
    requireSection("schedule", schedule);
    requireSection("training", training);
    requireSection("sampling", sampling);
    requireSection("output", output);
    checkPlan(sampling, schedule.spec().numTrainTimesteps());
    checkBatch(training.batchSize(), data);
    if (data.kind() == DataConfig.Kind.GRADIENTS) {
      Sizes.checkData(new Sizes.Model(model, schedule, training), data.imageShape().orElseThrow(),
          data.trainSize(), data.evalSize());
    }
    data.imageShape().ifPresent(image -> Sizes.checkSampleCount(sampling.count(), image));
  }

  /**
   * This configuration with other training settings.
   *
   * @param t the training settings
   * @return the configuration
   */
  public DiffusionConfig withTraining(TrainingConfig t) {
    return new DiffusionConfig(backend, seed, threads, data, model, schedule, t, sampling, output);
  }

  /**
   * Checks the sizes of the data's arrays (the training and evaluation sets, a batch, and a batch's MLP
   * activations) for images whose shape and number are known only later (IDX files); for gradient data this
   * constructor already did.
   *
   * @param imageShape {@code [C, H, W]} of the images
   * @param trainImages the number of training images that will be used
   * @param evalImages the number of evaluation images that will be used
   * @throws ConfigException at the key to change, with the largest value that fits
   */
  public void checkDataSizes(Shape imageShape, long trainImages, long evalImages) {
    Sizes.checkData(new Sizes.Model(model, schedule, training), imageShape, trainImages, evalImages);
    Sizes.checkSampleCount(sampling.count(), imageShape);
  }

  /**
   * Checks every size this configuration multiplies into, before anything is allocated: the training and
   * evaluation sets, a batch, each weight tensor and the whole parameter vector (and for a U-Net its
   * largest activation and the attention matrix) must fit in one Java array, and the memory a training run
   * needs at least must fit in {@code maxHeapBytes}. (For gradient data the data's arrays were checked when
   * this configuration was built, and {@link ModelConfig#toSpec} checks the model's; for IDX data the image
   * shape and counts come from the files.)
   *
   * @param imageShape {@code [C, H, W]} of the images
   * @param trainImages the number of training images that will be used
   * @param evalImages the number of evaluation images that will be used
   * @param maxHeapBytes the most the Java heap may grow to ({@code Runtime.getRuntime().maxMemory()}), or
   *     {@code Long.MAX_VALUE} to check the arrays only
   * @throws ConfigException at the key to change, with the largest value that fits where there is one
   */
  public void checkSizes(Shape imageShape, long trainImages, long evalImages, long maxHeapBytes) {
    Sizes.Model m = new Sizes.Model(model, schedule, training);
    Sizes.checkData(m, imageShape, trainImages, evalImages);
    Sizes.checkSampleCount(sampling.count(), imageShape);
    model.toSpec(imageShape, schedule.spec().numTrainTimesteps());
    Sizes.checkMemory(m, imageShape, trainImages, evalImages, maxHeapBytes);
  }

  private static void requireSection(String path, Object section) {
    if (section == null) {
      throw new ConfigException(path, "a value is required");
    }
  }

  private static void checkPlan(SamplingConfig s, int t) {
    if (!s.timesteps().isEmpty()) {
      for (int i = 0; i < s.timesteps().size(); i++) {
        int step = s.timesteps().get(i);
        if (step >= t) {
          throw new ConfigException(SamplingConfig.TIMESTEPS.path() + "[" + i + "]",
              "must be below schedule.num_train_timesteps (" + t + "), got " + step);
        }
      }
      return;
    }
    if (s.numInferenceSteps() > t) {
      throw ConfigException.either(
          new ConfigException(SamplingConfig.NUM_INFERENCE_STEPS.path(),
              "must be at most schedule.num_train_timesteps (" + t + "), got " + s.numInferenceSteps()),
          new ConfigException(ScheduleConfig.NUM_TRAIN_TIMESTEPS.path(),
              "must be at least sampling.num_inference_steps (" + s.numInferenceSteps() + "), got " + t));
    }
    try {
      Timesteps.check(t, s.numInferenceSteps(), s.timestepSpacing(), s.stepsOffset()); // the plan is built later
    } catch (IllegalArgumentException e) {
      throw new ConfigException(SamplingConfig.STEPS_OFFSET.path(), e.getMessage());
    }
  }

  private static void checkBatch(int batchSize, DataConfig data) {
    int n = data.trainSize();
    if (n > 0 && batchSize > n) {
      throw ConfigException.either(
          new ConfigException(TrainingConfig.BATCH_SIZE.path(),
              "must be at most data.train_size (" + n + "), got " + batchSize),
          new ConfigException(DataConfig.TRAIN_SIZE.path(),
              "must be at least training.batch_size (" + batchSize + "), got " + n));
    }
  }
}
