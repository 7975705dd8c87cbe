package io.github.diffusion4j.runtime;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.ProvisionException;
import com.google.inject.Stage;
import com.google.inject.name.Names;
import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.DiffusionConfig;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.data.DataProgress;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.Normalization;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplerProvider;
import io.github.diffusion4j.sampling.SamplerSettings;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.training.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The entry point: a configuration, wired. Open one from a YAML file, train, sample.
 *
 * <pre>{@code
 * try (Diffusion d = Diffusion.open(Path.of("run.yaml"))) {
 *   TrainableModel model = d.createModel();
 *   d.trainer(model).train(d.trainingData(), d.evalData(), TrainingProgress.START, new TrainingListener() {});
 *   float[] images = d.sampleImages(model, 16, 42, SamplingListener.NONE);   // [16, C, H, W] in [0, 1]
 * }
 * }</pre>
 *
 * <p>Everything is created on first use: opening a configuration loads no native code; the backend is
 * loaded when a model or tensor is first needed, once. Closing releases the backend.
 */
public final class Diffusion implements AutoCloseable {
  private final LoadedConfig loaded;
  private final Injector injector;
  private volatile boolean backendCreated;

  private Diffusion(LoadedConfig loaded) {
    this.loaded = loaded;
    this.injector = Guice.createInjector(Stage.DEVELOPMENT,
        new DiffusionModule(loaded, ProviderDiscovery.backends(), ProviderDiscovery.samplers()));
  }

  /**
   * Opens a YAML configuration.
   *
   * @param yaml the file
   * @return the wired configuration
   * @throws io.github.diffusion4j.config.ConfigException on any problem with the file
   */
  public static Diffusion open(Path yaml) {
    return open(yaml, List.of());
  }

  /**
   * Opens a YAML configuration with {@code key.path=value} overrides applied.
   *
   * @param yaml the file
   * @param overrides overrides such as {@code training.epochs=5}
   * @return the wired configuration
   */
  public static Diffusion open(Path yaml, List<String> overrides) {
    return new Diffusion(ConfigLoader.read(yaml, overrides));
  }

  /**
   * Wires a configuration built in code or loaded elsewhere.
   *
   * @param config the configuration
   * @return the wired configuration
   */
  public static Diffusion open(DiffusionConfig config) {
    return new Diffusion(LoadedConfig.of(config));
  }

  /**
   * Wires a loaded configuration, keeping its locations for error messages.
   *
   * @param loaded the configuration and its locations
   * @return the wired configuration
   */
  public static Diffusion open(LoadedConfig loaded) {
    return new Diffusion(loaded);
  }

  /**
   * The configuration.
   *
   * @return the records
   */
  public DiffusionConfig config() {
    return loaded.config();
  }

  /**
   * The configuration with its source locations (for errors about keys).
   *
   * @return the loaded configuration
   */
  public LoadedConfig loadedConfig() {
    return loaded;
  }

  /**
   * The backend, loaded on first call.
   *
   * @return the backend
   * @throws io.github.diffusion4j.config.ConfigException if the configured backend is not on the class path
   */
  public Backend backend() {
    Backend b = get(Key.get(Backend.class));
    backendCreated = true;
    return b;
  }

  /**
   * The noise schedule.
   *
   * @return the schedule
   */
  public Schedule schedule() {
    return get(Key.get(Schedule.class));
  }

  /**
   * The shape of one image.
   *
   * @return {@code [C, H, W]}
   */
  public Shape imageShape() {
    return get(Key.get(Shape.class));
  }

  /**
   * The model architecture.
   *
   * @return the spec
   */
  public ModelSpec modelSpec() {
    return get(Key.get(ModelSpec.class));
  }

  /**
   * The prediction type the model is trained for.
   *
   * @return the type
   */
  public PredictionType predictionType() {
    return config().schedule().predictionType();
  }

  /**
   * The training images.
   *
   * @return the dataset, in {@code [-1, 1]}
   */
  public Dataset trainingData() {
    return get(Key.get(Dataset.class, Names.named("train")));
  }

  /**
   * Loads the data now, if it is not loaded yet, showing the progress of a long preparation (decoding a
   * folder into its image cache), and says what was loaded.
   *
   * @param progress sees the preparation advance (only if this call loads the data)
   * @return what the training and evaluation sets are
   * @throws io.github.diffusion4j.data.DataFileException naming the file when the data cannot be used
   */
  public DataReport prepareData(DataProgress progress) {
    return get(Key.get(DataLoader.class)).get(progress).report();
  }

  /**
   * What the training and evaluation sets are (loading them if needed): sources, counts, skipped images,
   * caches.
   *
   * @return the report
   */
  public DataReport dataReport() {
    return prepareData(DataProgress.NONE);
  }

  /**
   * The evaluation images.
   *
   * @return the dataset, or null when the configuration has none
   */
  public Dataset evalData() {
    return get(Key.get(DataSets.class)).eval();
  }

  /**
   * Real images to judge samples against, in {@code [0, 1]}: for gradient data, {@code count} fresh
   * images from a stream of their own ({@code Noise.seeded(seed).split(REFERENCE)}, disjoint from the
   * training and evaluation sets); for IDX files, the first {@code count} images of the evaluation set
   * (or of the training set when there is none); for folders and CIFAR-10, {@code count} images of that set
   * spread evenly over its order ({@code floor(i * size / count)}), so that a folder sorted by class gives
   * every class its share.
   *
   * @param count how many images (fewer if the file data has fewer)
   * @return {@code [n, C, H, W]} values in {@code [0, 1]}
   */
  public float[] referenceImages(int count) {
    if (config().data().kind() == io.github.diffusion4j.config.DataConfig.Kind.GRADIENTS) {
      return io.github.diffusion4j.data.GradientImages.generate(count, imageShape(),
          io.github.diffusion4j.random.Noise.seeded(config().seed()).split(DataSets.REFERENCE));
    }
    Dataset source = evalData() != null ? evalData() : trainingData();
    int n = Math.min(count, source.size());
    boolean spread = config().data().kind() != io.github.diffusion4j.config.DataConfig.Kind.IDX;
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) {
      idx[i] = spread ? (int) ((long) i * source.size() / n) : i;
    }
    float[] out = new float[n * imageShape().size()];
    source.gather(idx, out);
    return Normalization.denormalize(out);
  }

  /**
   * A model with freshly initialised weights (from the configuration's seed) and the configured optimiser.
   *
   * @return the model; close it when done
   */
  public TrainableModel createModel() {
    return backend().createModel(modelSpec(), config().training().optimizer(), config().seed());
  }

  /**
   * A trainer for a model with the configured epochs, batch size, logging and EMA.
   *
   * @param model the model
   * @return the trainer
   */
  public Trainer trainer(TrainableModel model) {
    return new Trainer(model, backend().tensors(), schedule(), predictionType(),
        config().training().trainerOptions(config().seed()));
  }

  /**
   * The configured sampler ({@code sampling.sampler}).
   *
   * @return the sampler
   */
  public Sampler sampler() {
    return get(Key.get(SamplerProvider.class)).create(samplerSettings());
  }

  /**
   * A sampler by name, with the configured settings; {@code sampling.options} belong to the configured
   * sampler and are given only to it (another sampler gets none).
   *
   * @param name a built-in or registered sampler
   * @return the sampler
   * @throws IllegalArgumentException naming the known samplers if there is none of that name
   */
  public Sampler sampler(String name) {
    Map<String, SamplerProvider> all = samplerProviders();
    SamplerProvider p = all.get(name);
    if (p == null) {
      throw new IllegalArgumentException(ProviderDiscovery.unknownSampler(name, ProviderDiscovery.samplers()));
    }
    SamplerSettings settings = samplerSettings();
    if (!name.equals(config().sampling().sampler())) {
      settings = new SamplerSettings(settings.schedule(), settings.predictionType(), settings.tensors(), settings.eta(),
          settings.varianceType(), settings.setAlphaToOne(), settings.clipping(),
          io.github.diffusion4j.sampling.SamplerOptions.EMPTY);
    }
    return p.create(settings);
  }

  /**
   * The sampler providers known to this configuration: the built-ins and those on the class path.
   *
   * @return the providers by name
   */
  public Map<String, SamplerProvider> samplerProviders() {
    return get(new Key<Map<String, SamplerProvider>>() {});
  }

  private SamplerSettings samplerSettings() {
    return config().sampling().settings(schedule(), predictionType(), backend().tensors());
  }

  /**
   * The configured inference plan ({@code num_inference_steps}, {@code timestep_spacing},
   * {@code steps_offset} or an explicit {@code timesteps} list).
   *
   * @return the plan
   */
  public Timesteps plan() {
    return config().sampling().plan(schedule().size());
  }

  /**
   * A request for {@code count} samples with the configured plan.
   *
   * @param count the number of samples
   * @param seed the noise seed
   * @return the request
   */
  public SamplingRequest request(int count, long seed) {
    return SamplingRequest.of(count, imageShape(), seed, plan());
  }

  /**
   * Samples images with the configured sampler and plan.
   *
   * @param model the model (its EMA weights are not swapped in here)
   * @param count the number of images
   * @param seed the noise seed
   * @param listener sees every step
   * @return the images {@code [count, C, H, W]}, denormalised to {@code [0, 1]}
   */
  public float[] sampleImages(NoisePredictor model, int count, long seed, SamplingListener listener) {
    return sampleImages(model, sampler(), request(count, seed), listener);
  }

  /**
   * Samples images with a given sampler and request.
   *
   * @param model the model
   * @param sampler the sampler
   * @param request what to sample
   * @param listener sees every step
   * @return the images in {@code [0, 1]}
   */
  public float[] sampleImages(NoisePredictor model, Sampler sampler, SamplingRequest request, SamplingListener listener) {
    Backend b = backend();
    try (TensorScope s = b.tensors().openScope()) {
      return Normalization.denormalize(sampler.sample(model, b.tensors(), request, listener).toFloatArray());
    }
  }

  /** Gets from the injector, unwrapping Guice's exception so callers see the original error. */
  private <T> T get(Key<T> key) {
    try {
      return injector.getInstance(key);
    } catch (ProvisionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r && e.getErrorMessages().size() == 1) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  @Override
  public void close() {
    if (backendCreated) {
      backend().close();
    }
  }
}
