package io.github.diffusion4j.runtime;

import com.google.inject.Guice;
import com.google.inject.Stage;
import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.DiffusionConfig;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.data.DataProgress;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.Normalization;
import io.github.diffusion4j.eval.Gaussian;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.NoiseVersion;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplerProvider;
import io.github.diffusion4j.sampling.SamplerSpec;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
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
  private final NoiseVersion noise;
  private final Session session;
  private volatile boolean backendCreated;
  private volatile boolean closed;
  /** Held shared by every sampling call and exclusively by {@link #close()}: a close waits for the calls in
   * progress (their tensors and the model's weights are native memory that closing frees). */
  private final java.util.concurrent.locks.ReentrantReadWriteLock inUse =
      new java.util.concurrent.locks.ReentrantReadWriteLock();
  /** The training runs in progress ({@link TrainingRun#run}), each holding {@link #inUse} shared: close stops them. */
  private final java.util.Set<TrainingRun> training = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Set first by {@link #close()}, so that no training run starts while it waits for those in progress. */
  private volatile boolean closing;

  private Diffusion(LoadedConfig loaded) {
    this(loaded, ProviderDiscovery.backends(), ProviderDiscovery.samplers());
  }

  private Diffusion(LoadedConfig loaded, ProviderDiscovery.Found<io.github.diffusion4j.spi.BackendProvider> backends,
      ProviderDiscovery.Found<io.github.diffusion4j.sampling.SamplerProvider> samplers) {
    this.loaded = loaded;
    this.noise = loaded.config().sampling().noise();
    this.backends = backends;
    this.samplers = samplers;
    DiffusionModule module = new DiffusionModule(loaded,
        DiffusionModule.BackendChoice.of(loaded.config(), System.getProperty(DiffusionModule.BACKEND_PROPERTY)),
        backends, samplers);
    this.session = Guice.createInjector(Stage.DEVELOPMENT, module).getInstance(Session.class);
  }

  private final ProviderDiscovery.Found<io.github.diffusion4j.spi.BackendProvider> backends;
  private final ProviderDiscovery.Found<io.github.diffusion4j.sampling.SamplerProvider> samplers;

  /**
   * Another configuration with the providers this one discovered: discovery runs (and logs a broken provider) once
   * where a configuration is checked before the one that is used ({@link TrainedModel#load}'s check of a
   * checkpoint's configuration before its weights are read).
   */
  Diffusion reopen(LoadedConfig other) {
    return new Diffusion(java.util.Objects.requireNonNull(other, "other must not be null"), backends, samplers);
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
    java.util.Objects.requireNonNull(yaml, "yaml: the configuration file must not be null");
    return new Diffusion(ConfigLoader.read(yaml, overrides));
  }

  /**
   * Wires a configuration built in code or loaded elsewhere.
   *
   * @param config the configuration
   * @return the wired configuration
   */
  public static Diffusion open(DiffusionConfig config) {
    java.util.Objects.requireNonNull(config, "config must not be null");
    return new Diffusion(LoadedConfig.of(config));
  }

  /**
   * Wires a loaded configuration, keeping its locations for error messages.
   *
   * @param loaded the configuration and its locations
   * @return the wired configuration
   */
  public static Diffusion open(LoadedConfig loaded) {
    java.util.Objects.requireNonNull(loaded, "loaded must not be null");
    return new Diffusion(loaded);
  }

  /**
   * The noise version of this session's sampling requests: {@code sampling.noise_version} (1 unless the
   * configuration says otherwise, so a checkpoint written before the key existed samples as it did).
   *
   * @return the version
   */
  public NoiseVersion noiseVersion() {
    return noise;
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
   * @throws IllegalStateException after {@link #close()}
   */
  public Backend backend() {
    // under the lock close() reads backendCreated with: a backend made while another thread closes (its native
    // libraries load for seconds) is then released by that close, not left open after it
    synchronized (backendLock) {
      if (closed) {
        throw new IllegalStateException(CLOSED);
      }
      Backend b = Session.get(session.backend);
      backendCreated = true;
      return b;
    }
  }

  private final Object backendLock = new Object();
  /** What a call after {@link #close()} is told. */
  private static final String CLOSED = "this Diffusion is closed (its backend is released; closing a TrainedModel "
      + "closes its Diffusion): open or load another";

  /**
   * The noise schedule.
   *
   * @return the schedule
   */
  public Schedule schedule() {
    return Session.get(session.schedule);
  }

  /**
   * The shape of one image.
   *
   * @return {@code [C, H, W]}
   */
  public Shape imageShape() {
    return Session.get(session.imageShape);
  }

  /**
   * The model architecture.
   *
   * @return the spec
   */
  public ModelSpec modelSpec() {
    return Session.get(session.modelSpec);
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
    return Session.get(session.trainingData);
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
    return Session.get(session.dataLoader).get(progress).report();
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
   * The evaluation images. Where they are a folder of their own ({@code data.eval_root}) and the training data is
   * not loaded yet, only that folder is read: a checkpoint is evaluated without its training folder.
   *
   * @return the dataset, or null when the configuration has none
   */
  public Dataset evalData() {
    return Session.get(session.dataLoader).eval(DataProgress.NONE);
  }

  /**
   * Real images to judge samples against, in {@code [0, 1]}: for gradient data, {@code count} fresh
   * images from a stream of their own ({@code Noise.seeded(seed).split(REFERENCE)}, disjoint from the
   * training and evaluation sets); for IDX files, the first {@code count} images of the evaluation set
   * (or of the training set when there is none); for folders and CIFAR-10, {@code count} images of that set
   * spread over its order (image {@code i} is {@code i * stride mod size} with a golden-ratio stride), so
   * that a folder sorted by class gives every class its share.
   *
   * @param count how many images (fewer if the file data has fewer)
   * @return {@code [n, C, H, W]} values in {@code [0, 1]}
   */
  public float[] referenceImages(int count) {
    return referenceImages(0, count);
  }

  /**
   * A slice of the real images of {@link #referenceImages(int)}: images {@code first .. first + count - 1}
   * (the same images however the range is sliced), so that many can be taken batch by batch.
   *
   * @param first the first image, at least 0
   * @param count how many images (fewer, possibly none, where the file data ends)
   * @return {@code [n, C, H, W]} values in {@code [0, 1]}
   */
  public float[] referenceImages(int first, int count) {
    if (first < 0 || count < 0) {
      throw new IllegalArgumentException("first and count must be at least 0, got " + first + " and " + count);
    }
    if (config().data().kind() == io.github.diffusion4j.config.DataConfig.Kind.GRADIENTS) {
      return io.github.diffusion4j.data.GradientImages.generate(first, count, imageShape(),
          io.github.diffusion4j.random.Noise.seeded(config().seed()).split(DataSets.REFERENCE));
    }
    Dataset source = evalData() != null ? evalData() : trainingData();
    int n = Math.max(0, Math.min(count, source.size() - first));
    boolean spread = config().data().kind() != io.github.diffusion4j.config.DataConfig.Kind.IDX;
    long stride = spread ? spreadStride(source.size()) : 1;
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) {
      idx[i] = (int) ((first + i) * stride % source.size());
    }
    float[] out = new float[n * imageShape().size()];
    source.gather(idx, out);
    return Normalization.denormalize(out);
  }

  /**
   * Where {@link #referenceImages(int)} come from, in words for a report: generated gradient images, the
   * evaluation images, or the training images where the run has no evaluation images.
   *
   * @return the description
   */
  public String referenceSource() {
    if (config().data().kind() == io.github.diffusion4j.config.DataConfig.Kind.GRADIENTS) {
      return "generated gradient images (the training data's generator, a seed of their own)";
    }
    return evalData() != null ? "the evaluation images" : "the training images (the run has no evaluation images)";
  }

  /**
   * The stride of the spread order of folder and CIFAR-10 references: image {@code i} is {@code i * stride mod
   * size}, the stride the integer nearest {@code 0.618 * size} that is coprime with the size. Every prefix
   * is spread over the whole set (the golden-ratio sequence), no image repeats before all have been taken,
   * and an image's place does not depend on how many are asked for, so slices can be taken batch by batch.
   */
  static long spreadStride(int size) {
    long s = Math.max(1, Math.round(0.6180339887498949 * size));
    while (java.math.BigInteger.valueOf(s).gcd(java.math.BigInteger.valueOf(size)).intValue() != 1) {
      s++;
    }
    return s;
  }

  /**
   * The Gaussian of {@link #referenceImages(int)}, fitted batch by batch (memory independent of
   * {@code count}): what {@link io.github.diffusion4j.eval.QualityAccumulator#report} compares samples to.
   *
   * @param count how many real images (fewer if the file data has fewer), at least 2
   * @return the fit
   * @throws java.util.concurrent.CancellationException if the calling thread is interrupted (checked between batches;
   *     the thread stays interrupted)
   */
  public Gaussian referenceGaussian(int count) {
    Gaussian.Accumulator g = new Gaussian.Accumulator(imageShape().size());
    int batch = samplingBatchSize();
    for (int first = 0; first < count; first += batch) {
      if (Thread.currentThread().isInterrupted()) {
        throw new java.util.concurrent.CancellationException("interrupted while fitting the reference images, after "
            + first + " of " + count);
      }
      float[] images = referenceImages(first, Math.min(batch, count - first));
      if (images.length == 0) {
        break;
      }
      g.add(images);
    }
    return g.fit();
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
    return create(Session.get(session.samplerProvider), samplerSpec(), true);
  }

  /**
   * A provider's sampler: a refusal of its settings is the configuration's error, located at {@code
   * sampling.options} where they are the configured ones; a provider that fails otherwise, returns no sampler or
   * one under another name is named.
   */
  private Sampler create(SamplerProvider p, SamplerSpec spec, boolean configured) {
    if (configured && !p.takesEta() && loaded.overridden("sampling.eta")) {
      // asked for now, and it would have no effect (an eta in the file is for a sampler chosen later)
      List<String> taking = samplerProviders().values().stream().filter(SamplerProvider::takesEta)
          .map(SamplerProvider::name).sorted().toList();
      throw loaded.error("sampling.eta", "the sampler '" + p.name() + "' takes no eta"
          + (p == io.github.diffusion4j.sampling.BuiltInSamplers.DDPM
              ? " (its noise is sampling.variance_type's)" : "")
          + (taking.isEmpty() ? "" : "; samplers that take it: " + String.join(", ", taking)));
    }
    Sampler s;
    try {
      s = p.create(spec);
    } catch (io.github.diffusion4j.config.ConfigException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      String refused = "sampler '" + p.name() + "' refused its settings: " + e.getMessage();
      throw configured ? loaded.error("sampling.options", refused) : new IllegalArgumentException(refused, e);
    } catch (java.util.concurrent.CancellationException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalStateException(provider(p) + " failed to make its sampler: "
          + (e.getMessage() == null ? e.getClass().getName() : e.getMessage()), e);
    }
    if (s == null) {
      throw new IllegalStateException(provider(p) + " returned no sampler");
    }
    if (!p.name().equals(s.name())) {
      throw new IllegalStateException(provider(p) + " returned a sampler named '" + s.name()
          + "'; Sampler.name() must be its provider's name");
    }
    return s;
  }

  /** A provider as errors name it: its class and its name. */
  private static String provider(SamplerProvider p) {
    return "sampler provider " + p.getClass().getName() + " ('" + p.name() + "')";
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
    java.util.Objects.requireNonNull(name, "name: the sampler's name must not be null");
    return sampler(name, samplerSpec().eta());
  }

  /** {@link #sampler(String)} with another eta than {@code sampling.eta} (deterministic DDIM: 0). */
  private Sampler sampler(String name, double eta) {
    Map<String, SamplerProvider> all = samplerProviders();
    SamplerProvider p = all.get(name);
    if (p == null) {
      throw new IllegalArgumentException(ProviderDiscovery.unknownSampler(name, samplers));
    }
    SamplerSpec spec = samplerSpec();
    boolean configured = name.equals(config().sampling().sampler());
    spec = new SamplerSpec(spec.schedule(), spec.predictionType(), spec.tensors(), eta, spec.varianceType(),
        spec.setAlphaToOne(), spec.clipping(), configured ? spec.options()
            : io.github.diffusion4j.sampling.SamplerOptions.EMPTY);
    return create(p, spec, configured);
  }

  /**
   * The sampler providers known to this configuration: the built-ins and those on the class path.
   *
   * @return the providers by name
   */
  public Map<String, SamplerProvider> samplerProviders() {
    return session.samplerProviders;
  }

  /**
   * The configured sampler settings: what a {@link SamplerProvider}'s {@code create} is given for this configuration
   * (the schedule, {@code schedule.prediction_type}, the backend's tensors, and {@code sampling:}'s eta, variance type,
   * {@code set_alpha_to_one}, clipping and {@code options}). A sampler of your own that you use without registering a
   * provider is made from it: {@code m.sample(new MySampler(d.samplerSpec()), d.request(16, 1), listener)}. Its
   * {@code options} are {@code sampling.options}, which belong to the configured sampler ({@code sampling.sampler}).
   * Loads the backend, as {@link #sampler()} does.
   *
   * @return the settings
   * @throws IllegalStateException if this is closed
   */
  public SamplerSpec samplerSpec() {
    return config().sampling().samplerSpec(schedule(), predictionType(), backend().tensors());
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
   * A request for {@code count} samples with the configured plan and this session's
   * {@link #noiseVersion()}.
   *
   * @param count the number of samples
   * @param seed the noise seed
   * @return the request
   */
  public SamplingRequest request(int count, long seed) {
    return SamplingRequest.of(count, imageShape(), seed, plan()).withNoise(noise);
  }

  /**
   * A request for {@code count} samples over {@code steps} denoising steps instead of the configured
   * {@code sampling.num_inference_steps}, laid out by the configured {@code timestep_spacing} and
   * {@code steps_offset}, as {@code diffusion sample --steps} does (an explicit {@code sampling.timesteps} list is
   * replaced, as there): a service's per-request step count, for the model it has loaded. The same request as
   * {@link #request(int, long)} of a configuration with {@code num_inference_steps: steps}.
   *
   * @param count the number of samples, at least 1
   * @param seed the noise seed
   * @param steps the number of denoising steps, in {@code [1, T]} ({@code schedule.num_train_timesteps})
   * @return the request
   * @throws IllegalArgumentException in one line naming what is out of range and what is allowed: a count below 1,
   *     {@code steps} outside {@code [1, T]}, or a {@code leading} plan that {@code steps_offset} pushes past T
   */
  public SamplingRequest request(int count, long seed, int steps) {
    io.github.diffusion4j.config.SamplingConfig s = config().sampling();
    Timesteps plan = Timesteps.create(schedule().size(), steps, s.timestepSpacing(), s.stepsOffset());
    return SamplingRequest.of(count, imageShape(), seed, plan).withNoise(noise);
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
   * @throws IllegalArgumentException if the images would take more than half of the heap
   *     ({@link io.github.diffusion4j.tensor.HeapBudget}; the method with an {@link ImageSink} takes any number)
   */
  public float[] sampleImages(NoisePredictor model, Sampler sampler, SamplingRequest request, SamplingListener listener) {
    java.util.Objects.requireNonNull(request, "request must not be null");
    long values = (long) request.count() * request.imageShape().size(); // counted: no array may hold them
    io.github.diffusion4j.tensor.HeapBudget.requireArray("request: " + request.count() + " images of "
        + request.imageShape() + " are " + values + " values", values, Float.BYTES,
        "sample them batch by batch into an ImageSink (a SampleWriter for a file), or give the JVM more heap (-Xmx)");
    int k = request.imageShape().size();
    float[] out = new float[request.batchShape().size()];
    sampleImages(model, sampler, request, listener, (first, images, n) -> System.arraycopy(images, 0, out,
        Math.toIntExact(first * k), n * k));
    return out;
  }

  /** Receives sampled images batch by batch ({@link #sampleImages(NoisePredictor, Sampler, SamplingRequest,
   * SamplingListener, ImageSink)}). */
  @FunctionalInterface
  public interface ImageSink {
    /**
     * Takes the next batch.
     *
     * @param first the index of the batch's first image in the request (0 for the first batch)
     * @param images the batch, {@code [n, C, H, W]} in {@code [0, 1]}; the array is the receiver's
     * @param n the number of images in the batch
     */
    void accept(long first, float[] images, int n);
  }

  /**
   * The most images {@link #sampleImages(NoisePredictor, Sampler, SamplingRequest, SamplingListener,
   * ImageSink)} samples at once: about {@value #SAMPLING_BATCH_VALUES} values per batch tensor, at most
   * {@value #MAX_SAMPLING_BATCH} images, at least 1.
   *
   * @return the batch size for this configuration's images
   */
  public int samplingBatchSize() {
    return Math.max(1, Math.min(MAX_SAMPLING_BATCH, SAMPLING_BATCH_VALUES / imageShape().size()));
  }

  /** The values of one sampling batch tensor {@link #samplingBatchSize()} aims at (16 MB of float32). */
  public static final int SAMPLING_BATCH_VALUES = 1 << 22;

  /** The most images in one sampling batch. */
  public static final int MAX_SAMPLING_BATCH = 1024;

  /**
   * Samples images batch by batch, handing each batch to {@code sink} as soon as it is done, in order, so
   * that memory does not grow with the number of images. The noise of image {@code i} is that of sample
   * {@code request.firstSample() + i} (see {@link SamplingRequest}), so the images are those sampled in one
   * batch up to rounding: a backend's kernels may round a row of one batch size otherwise than the same row in
   * another (the first 10 of 20 tutorial-MLP samples on ND4J differ from 10 alone by up to 3e-7), so the bits are
   * the same only for the same batches (which is why Spark shards are whole batches). A request with its own
   * initial noise is sampled in one batch.
   *
   * @param model the model
   * @param sampler the sampler
   * @param request what to sample
   * @param listener sees every step of every batch, batch after batch
   * @param sink takes the batches, in {@code [0, 1]}
   */
  public void sampleImages(NoisePredictor model, Sampler sampler, SamplingRequest request, SamplingListener listener,
      ImageSink sink) {
    java.util.Objects.requireNonNull(model, "model must not be null");
    java.util.Objects.requireNonNull(sampler, "sampler must not be null");
    java.util.Objects.requireNonNull(request, "request must not be null");
    java.util.Objects.requireNonNull(listener, "listener must not be null (SamplingListener.NONE for none)");
    java.util.Objects.requireNonNull(sink, "sink must not be null");
    schedule().checkPlan(request.plan());
    holding(model, request.imageShape(), walked -> sampleImagesInUse(walked, sampler, request, listener, sink));
  }

  /**
   * Image-to-image sampling (SDEdit, {@link io.github.diffusion4j.sampling.ImageToImage}) batch by batch, as
   * {@link #sampleImages(NoisePredictor, Sampler, SamplingRequest, SamplingListener, ImageSink)} samples: sample
   * {@code i} starts from {@code images.apply(i)} noised part of the way up the request's plan, with its own initial
   * noise, so the images are the same however they are batched, and memory does not grow with their number.
   *
   * @param model the model
   * @param sampler the sampler
   * @param request what to sample: the whole plan, the count, the seed (without initial latents)
   * @param strength how far up the images are noised, in {@code (0, 1]} (the last {@code floor(steps x strength)}
   *     positions of the plan are walked)
   * @param images the starting image of each sample ({@code i} from {@code request.firstSample()} on, as
   *     {@link #inpaint} numbers them: a shard's function is asked for the run's sample numbers): {@code [C, H, W]} in
   *     {@code [-1, 1]} (e.g. {@link io.github.diffusion4j.data.ImageFit#read}); called once per sample, in order
   * @param listener sees every step of every batch
   * @param sink takes the batches, in {@code [0, 1]}
   * @throws IllegalArgumentException if the request has initial latents, the strength walks no step of the plan, or
   *     an image is not of the shape or holds a value outside {@code [-1, 1]} (or NaN)
   */
  public void sampleFromImages(NoisePredictor model, Sampler sampler, SamplingRequest request, double strength,
      java.util.function.LongFunction<float[]> images, SamplingListener listener, ImageSink sink) {
    java.util.Objects.requireNonNull(model, "model must not be null");
    java.util.Objects.requireNonNull(sampler, "sampler must not be null");
    java.util.Objects.requireNonNull(request, "request must not be null");
    java.util.Objects.requireNonNull(images, "images must not be null");
    java.util.Objects.requireNonNull(listener, "listener must not be null (SamplingListener.NONE for none)");
    java.util.Objects.requireNonNull(sink, "sink must not be null");
    if (request.initialNoise().isPresent()) {
      throw new IllegalArgumentException("the request has initial latents of its own; image-to-image sampling batch "
          + "by batch starts each sample from its image (give a request without them, or use ImageToImage.request with "
          + "it)");
    }
    io.github.diffusion4j.sampling.ImageToImage.plan(request.plan(), strength); // refused before any image is read
    holding(model, request.imageShape(), walked -> {
      Backend b = backend();
      int k = request.imageShape().size();
      int batch = samplingBatchSize();
      for (int first = 0; first < request.count(); first += batch) {
        int n = Math.min(batch, request.count() - first);
        float[] x0 = new float[n * k];
        for (int i = 0; i < n; i++) {
          long sample = request.firstSample() + first + i;
          float[] picture = images.apply(sample);
          copy("images: sample " + sample + "'s image", picture, x0, i, k, request.imageShape());
          checkPicture("images: sample " + sample, picture, request.imageShape());
        }
        long at = first;
        try (TensorScope s = b.tensors().openScope()) {
          SamplingRequest edit = io.github.diffusion4j.sampling.ImageToImage.request(b.tensors(), schedule(),
              request.slice(request.firstSample() + first, n), x0, strength);
          sampleImagesInUse(walked, sampler, edit, listener, (f, values, c) -> sink.accept(at + f, values, c));
        }
      }
    });
  }

  /**
   * Inpainting ({@link io.github.diffusion4j.sampling.Inpainting}, RePaint without resampling) batch by batch, as
   * {@link #sampleImages(NoisePredictor, Sampler, SamplingRequest, SamplingListener, ImageSink)} samples: sample
   * {@code i} walks the whole plan from its own {@code x_T}, and after every step the region its mask keeps is put
   * back from its picture; the known region's noise is drawn per sample, so the images are the same however they are
   * batched (up to the rounding of the model's products, as plain sampling), and memory does not grow with their
   * number.
   *
   * @param model the model
   * @param sampler any sampler
   * @param request what to sample: the whole plan, the count, the seed (without initial latents)
   * @param images the picture of each sample ({@code i} from {@code request.firstSample()} on): {@code [C, H, W]} in
   *     {@code [-1, 1]} (e.g. {@link io.github.diffusion4j.data.ImageFit#read}); called once per sample, in order
   * @param masks the mask of each sample, called as {@code images}: {@code [H, W]} in {@code [0, 1]}, 1 (white)
   *     regenerate, 0 (black) keep (the opposite of diffusers' {@code RePaintScheduler}'s {@code mask_image})
   * @param listener sees every step of every batch
   * @param sink takes the batches, in {@code [0, 1]}
   * @throws IllegalArgumentException if the request has initial latents, or a picture or mask is not of the shape,
   *     a picture value is outside {@code [-1, 1]} or a mask value outside {@code [0, 1]} (or NaN)
   */
  public void inpaint(NoisePredictor model, Sampler sampler, SamplingRequest request,
      java.util.function.LongFunction<float[]> images, java.util.function.LongFunction<float[]> masks,
      SamplingListener listener, ImageSink sink) {
    inpaint(model, sampler, request, io.github.diffusion4j.sampling.Resampling.NONE, images, masks, listener, sink);
  }

  /**
   * {@link #inpaint(NoisePredictor, Sampler, SamplingRequest, java.util.function.LongFunction,
   * java.util.function.LongFunction, SamplingListener, ImageSink)} with RePaint's resampling
   * ({@link io.github.diffusion4j.sampling.Resampling}: jumps back of {@code jumpLength} positions, each jumping
   * position walked {@code resamples} times); the listener sees every reverse step, a position walked again again.
   *
   * @param model the model
   * @param sampler any sampler
   * @param request what to sample: the whole plan, the count, the seed (without initial latents)
   * @param resampling the jump length and resample count ({@code Resampling.NONE}: none)
   * @param images the picture of each sample, {@code [C, H, W]} in {@code [-1, 1]}
   * @param masks the mask of each sample, {@code [H, W]} in {@code [0, 1]}: 1 regenerate, 0 keep
   * @param listener sees every reverse step of every batch
   * @param sink takes the batches, in {@code [0, 1]}
   * @throws IllegalArgumentException as the method without resampling
   */
  public void inpaint(NoisePredictor model, Sampler sampler, SamplingRequest request,
      io.github.diffusion4j.sampling.Resampling resampling, java.util.function.LongFunction<float[]> images,
      java.util.function.LongFunction<float[]> masks, SamplingListener listener, ImageSink sink) {
    java.util.Objects.requireNonNull(resampling, "resampling must not be null (Resampling.NONE for none)");
    java.util.Objects.requireNonNull(model, "model must not be null");
    java.util.Objects.requireNonNull(sampler, "sampler must not be null");
    java.util.Objects.requireNonNull(request, "request must not be null");
    java.util.Objects.requireNonNull(images, "images must not be null");
    java.util.Objects.requireNonNull(masks, "masks must not be null");
    java.util.Objects.requireNonNull(listener, "listener must not be null (SamplingListener.NONE for none)");
    java.util.Objects.requireNonNull(sink, "sink must not be null");
    if (request.initialNoise().isPresent()) {
      throw new IllegalArgumentException("the request has initial latents of its own; inpainting batch by batch "
          + "draws each sample's (give a request without them, or use Inpainting.of with it)");
    }
    schedule().checkPlan(request.plan());
    Shape shape = request.imageShape();
    if (shape.rank() != 3) {
      throw new IllegalArgumentException("inpainting needs images [C, H, W], the request's are " + shape);
    }
    holding(model, shape, walked -> {
      Backend b = backend();
      int k = shape.size();
      int hw = shape.dim(1) * shape.dim(2);
      int batch = samplingBatchSize();
      for (int first = 0; first < request.count(); first += batch) {
        int n = Math.min(batch, request.count() - first);
        float[] x0 = new float[n * k];
        float[] m = new float[n * hw];
        for (int i = 0; i < n; i++) {
          long sample = request.firstSample() + first + i;
          float[] picture = images.apply(sample);
          copy("images: sample " + sample + "'s image", picture, x0, i, k, shape);
          checkPicture("images: sample " + sample, picture, shape);
          copy("masks: sample " + sample + "'s mask", masks.apply(sample), m, i, hw,
              Shape.of(shape.dim(1), shape.dim(2)));
        }
        SamplingRequest part = request.slice(request.firstSample() + first, n);
        io.github.diffusion4j.sampling.Inpainting fill =
            io.github.diffusion4j.sampling.Inpainting.of(schedule(), part, x0, m);
        float[] out;
        try (TensorScope s = b.tensors().openScope()) {
          out = Normalization.denormalize(fill.sample(sampler, walked, b.tensors(), listener, resampling)
              .toFloatArray());
        }
        sink.accept(first, out, n);
      }
    });
  }

  /**
   * The latents that deterministic DDIM samples back to the given pictures, approximately: DDIM inversion (Song et al.
   * 2021, {@link io.github.diffusion4j.sampling.DdimInversion}) over {@link #plan()}, as {@code diffusion interpolate
   * --images} finds its strip's ends (more steps come closer; {@link #interpolate} between two of them ends near the
   * pictures). The pictures are inverted in one batch: give a few.
   *
   * @param model the model
   * @param pictures one or more pictures, each {@code [C, H, W]} of the image shape in {@code [-1, 1]}
   *     ({@link io.github.diffusion4j.data.ImageFit#read})
   * @return one latent of {@code C * H * W} values per picture, in order
   * @throws IllegalArgumentException if no picture is given, or one is not of the image shape or holds a value
   *     outside {@code [-1, 1]} (or NaN), naming it
   * @throws java.util.concurrent.CancellationException if the calling thread is interrupted
   */
  public float[][] invert(NoisePredictor model, float[]... pictures) {
    java.util.Objects.requireNonNull(model, "model must not be null");
    java.util.Objects.requireNonNull(pictures, "pictures must not be null");
    if (pictures.length == 0) {
      throw new IllegalArgumentException("pictures: none given; give the pictures to invert");
    }
    Shape image = imageShape();
    checkShape(model, image); // before the pictures, which are the model's
    int k = image.size();
    float[] x0 = new float[Shape.batchOf(pictures.length, image).size()];
    for (int i = 0; i < pictures.length; i++) {
      copy("pictures: picture " + i, pictures[i], x0, i, k, image);
      checkPicture("pictures: picture " + i, pictures[i], image);
    }
    float[][] latents = new float[pictures.length][];
    holding(model, image, walked -> {
      TensorFactory tensors = backend().tensors();
      try (TensorScope s = tensors.openScope()) {
        float[] all = new io.github.diffusion4j.sampling.DdimInversion(schedule(), predictionType()).invert(walked,
            tensors, tensors.fromArray(x0, Shape.batchOf(pictures.length, image)), plan()).toFloatArray();
        for (int i = 0; i < latents.length; i++) {
          latents[i] = java.util.Arrays.copyOfRange(all, i * k, (i + 1) * k);
        }
      }
    });
    return latents;
  }

  /**
   * Images along a spherical path between two latents ({@link io.github.diffusion4j.sampling.Latents#interpolate}),
   * each sampled by deterministic DDIM (eta 0) over {@link #plan()} whatever {@code sampling.sampler} and
   * {@code sampling.eta} say, as {@code diffusion interpolate} draws its strip: between the latents of two pictures
   * ({@link #invert}), of two samples of a seed ({@link io.github.diffusion4j.sampling.Latents#initialLatent}: the
   * strip then ends at the images DDIM with eta 0 samples for them), or of any two draws.
   *
   * @param model the model
   * @param from the first end's latent, {@code C * H * W} values
   * @param to the last end's latent
   * @param count the images along the path, the ends included, at least 2
   * @param listener sees every step
   * @return the images {@code [count, C, H, W]} in {@code [0, 1]}, from {@code from}'s to {@code to}'s
   * @throws IllegalArgumentException if {@code count} is below 2, a latent is not of the image's size, or the images
   *     would take more than half of the heap
   * @throws java.util.concurrent.CancellationException if the calling thread is interrupted
   */
  public float[] interpolate(NoisePredictor model, float[] from, float[] to, int count, SamplingListener listener) {
    java.util.Objects.requireNonNull(model, "model must not be null");
    java.util.Objects.requireNonNull(from, "from must not be null");
    java.util.Objects.requireNonNull(to, "to must not be null");
    java.util.Objects.requireNonNull(listener, "listener must not be null (SamplingListener.NONE for none)");
    Sampler ddim = sampler("ddim", 0.0);
    TensorFactory tensors = backend().tensors();
    try (TensorScope s = tensors.openScope()) {
      Tensor latents = io.github.diffusion4j.sampling.Latents.interpolate(tensors, from, to, imageShape(), count);
      return sampleImages(model, ddim, request(count, 0).withInitialNoise(latents), listener);
    }
  }

  /**
   * Runs a sampling call with this configuration held for the whole call ({@link #close()} waits for it), on the
   * model as {@link #sampled} gives it: every method that holds the configuration while the sampling loop's threads
   * run the model goes through here, so none of them forgets to unwrap a handed-out model; a model of this SDK's is
   * first checked to take {@code images} ({@link #checkShape}).
   */
  private void holding(NoisePredictor model, Shape images, java.util.function.Consumer<NoisePredictor> call) {
    checkShape(model, images);
    java.util.concurrent.locks.Lock using = inUse.readLock();
    using.lock();
    try {
      call.accept(sampled(model));
    } finally {
      using.unlock();
    }
  }

  /**
   * Refuses images of another shape than a model of this SDK's takes (a request made with another configuration's
   * {@code Diffusion}), before a batch is drawn: the network said it in its own words at its first layer. A model
   * of one's own ({@link NoisePredictor} alone) says nothing of its shape and is not checked.
   */
  private static void checkShape(NoisePredictor model, Shape images) {
    if (model instanceof io.github.diffusion4j.model.TrainableModel m && !m.spec().imageShape().equals(images)) {
      throw new IllegalArgumentException("the model (" + m.spec().kind() + ") takes images " + m.spec().imageShape()
          + ", the request's are " + images + "; make the request with the model's own Diffusion (its request(count, "
          + "seed), or TrainedModel.diffusion())");
    }
  }

  /**
   * Copies one sample's values into place at {@code i * size}, or names them ({@code which}, e.g. {@code "images:
   * sample 5's image"}) where they are not of the shape.
   */
  private static void copy(String which, float[] values, float[] dst, int i, int size, Shape shape) {
    if (values == null || values.length != size) {
      throw new IllegalArgumentException(which + " has " + (values == null ? "no values" : values.length + " values")
          + ", expected " + size + " (" + shape + ")");
    }
    System.arraycopy(values, 0, dst, i * size, size);
  }

  /**
   * Refuses a picture value outside the model's range {@code [-1, 1]} (or NaN), naming the picture ({@code which},
   * e.g. {@code "images: sample 5"}), the value's channel and pixel:
   * another tool's {@code 0..255} or a NaN was noised and sampled, into garbage or into NaN said as a diverged model.
   */
  private static void checkPicture(String which, float[] picture, Shape shape) {
    int hw = shape.rank() == 3 ? shape.dim(1) * shape.dim(2) : shape.size();
    for (int j = 0; j < picture.length; j++) {
      if (!(picture[j] >= -1 && picture[j] <= 1)) {
        throw new IllegalArgumentException(which + ", value " + j + " (channel " + j / hw
            + ", pixel " + j % hw + ") is " + picture[j] + "; a picture's values are in [-1, 1] (level v of 255 is "
            + "v / 255 * 2 - 1, as ImageFit.read gives them)");
      }
    }
  }

  private void sampleImagesInUse(NoisePredictor model, Sampler sampler, SamplingRequest request,
      SamplingListener listener, ImageSink sink) {
    Backend b = backend();
    int batch = request.initialNoise().isPresent() ? request.count() : samplingBatchSize();
    for (int first = 0; first < request.count(); first += batch) {
      int n = Math.min(batch, request.count() - first);
      SamplingRequest part = request.initialNoise().isPresent() ? request
          : request.slice(request.firstSample() + first, n);
      float[] images;
      try (TensorScope s = b.tensors().openScope()) {
        images = Normalization.denormalize(sampler.sample(model, b.tensors(), part, listener).toFloatArray());
      }
      sink.accept(first, images, n);
    }
  }

  /**
   * Runs every check that training runs, without loading the backend, creating a model, or reading more of
   * the data than the IDX files' headers and the image folders' listings: the backend is on the class path, the
   * sampler is registered and accepts its options, the data files and folders exist and fit the configuration
   * (the batch size at most the images listed; images that do not decode are found when the training run
   * caches them, and {@code diffusion data check} lists them), every size fits the arrays it
   * multiplies into and the run's memory fits in the heap, the architecture fits the images, which are gray or
   * RGB where the run draws image logs ({@code training.image_log_every} above 0), and
   * {@code output.dir} and {@code data.cache_dir} are folders (or can be made) where files can be created, and
   * {@code training.init_from}, if set, names a model folder whose configuration ({@code config.json}, a
   * checkpoint's {@code config.yaml}) describes the configured network (its weights are read when the run
   * starts). Settings
   * given without effect ({@link LoadedConfig#ineffectiveSettings()}) are logged as warnings.
   * {@code diffusion config --check} runs it, {@code diffusion train} before it prepares the data
   * ({@link TrainingRun#check}), and {@link TrainingRun} before it creates anything; once it has passed, this
   * {@code Diffusion} does not make it again (nor log its warnings again).
   *
   * @throws io.github.diffusion4j.config.ConfigException located at the key at fault
   */
  public void check() {
    check(true);
  }

  /** {@link #check()}; {@code training.init_from} is checked only for a new run (a resumed one does not read it). */
  void check(boolean newRun) {
    if (passed.get() >= (newRun ? 2 : 1)) {
      return; // checked before (train checks before it prepares the data, the run when it starts): said once
    }
    checkBackend();
    DataSets.Plan plan = Session.get(session.dataPlan);
    DataSets.checkSizes(loaded, plan, Runtime.getRuntime().maxMemory());
    Session.get(session.dataLoader).checkListing();
    modelSpec();
    if (config().training().imageLogEvery() > 0 && !io.github.diffusion4j.io.ImageGrid.canShow(imageShape())) {
      // image logs are pictures; a run without them, and a model sampled only to .npy, may have any channels
      throw loaded.error("data.image_shape", "must have 1 (grayscale) or 3 (RGB) channels for the run's image logs "
          + "(training.image_log_every " + config().training().imageLogEvery() + "; 0 turns them off), got "
          + imageShape());
    }
    checkSampler();
    Path out = config().output().dir();
    io.github.diffusion4j.io.FileProblems.ofWritingInto(out).ifPresent(p -> {
      throw loaded.error("output.dir", out + ": " + p);
    });
    Path run = out.resolve(config().output().name());
    if (java.nio.file.Files.exists(run) && !java.nio.file.Files.isDirectory(run)) {
      throw loaded.error("output.name", run + " is a file, not a run folder");
    }
    // a cache folder the user may not write (another user's, shared) serves where it holds every cache up to date:
    // else the images were decoded and the build failed at the end (the default .data-cache of a shared output.dir)
    DataSets.cacheDirOf(loaded).ifPresent(cache -> io.github.diffusion4j.io.FileProblems.ofWritingInto(cache)
        .ifPresent(p -> {
          if (!Session.get(session.dataLoader).cachesUpToDate(cache)) {
            throw loaded.error("data.cache_dir", cache + ": " + p + "; a folder that cannot be written serves only "
                + "where it holds these images' caches, up to date: give a data.cache_dir of your own");
          }
        }));
    if (newRun) {
      config().training().initFrom().ifPresent(from -> InitialWeights.check(this, from));
    }
    passed.accumulateAndGet(newRun ? 2 : 1, Math::max);
    for (String ineffective : loaded.ineffectiveSettings()) { // once every check passed: warnings, not errors
      org.slf4j.LoggerFactory.getLogger(Diffusion.class).warn(ineffective);
    }
    if (plan.trainImages() > 0) { // else the images are counted as they are loaded: warnWarmupBeyondLoadedRun
      warmupBeyondRun(plan.trainImages()).ifPresent(org.slf4j.LoggerFactory.getLogger(Diffusion.class)::warn);
    }
  }

  /**
   * The widest check that passed: 0 none, 1 {@code check(false)}, 2 {@code check(true)} (which includes it). A check
   * that passed is not made again, nor its warnings logged again: the configuration does not change, and the files
   * it reads are read again when the run loads them.
   */
  private final java.util.concurrent.atomic.AtomicInteger passed = new java.util.concurrent.atomic.AtomicInteger();

  /**
   * Refuses a backend name that no provider on the class path registers, without loading the backend: for checks
   * before anything is loaded ({@link #check()}, a checkpoint's configuration before its weights are read).
   */
  void checkBackend() {
    Session.get(session.backendProvider);
  }

  /**
   * Makes the configured sampler once with its tensors deferred, so that an unknown name, or options its provider
   * refuses, are reported as {@link #sampler()} reports them, without loading the backend: for checks before anything
   * is loaded ({@link #check()}, a sampler named on a checkpoint's command line before its weights are read).
   */
  void checkSampler() {
    create(Session.get(session.samplerProvider),
        config().sampling().samplerSpec(schedule(), predictionType(), new DeferredTensors()), true);
  }

  /**
   * {@link #check()}'s warning of a warm-up longer than the run, for data whose training images the plan does not
   * count (a folder's and CIFAR-10's, counted as they are loaded): once the training data is loaded. Nothing where
   * {@link #check()} could count them (it warned already), so a run is warned once.
   */
  void warnWarmupBeyondLoadedRun() {
    if (config().training().lrWarmupSteps() > 0 && Session.get(session.dataPlan).trainImages() <= 0) {
      warmupBeyondRun(trainingData().size()).ifPresent(org.slf4j.LoggerFactory.getLogger(Diffusion.class)::warn);
    }
  }

  /**
   * A warning where {@code training.lr_warmup_steps} is more than the run's steps (allowed, as diffusers allows it:
   * the rate never reaches {@code training.learning_rate}).
   *
   * @param trainImages the run's training images, at least 1
   */
  private java.util.Optional<String> warmupBeyondRun(long trainImages) {
    io.github.diffusion4j.config.TrainingConfig t = config().training();
    if (t.lrWarmupSteps() == 0 || trainImages <= 0) {
      return java.util.Optional.empty();
    }
    io.github.diffusion4j.training.TrainerOptions options = t.trainerOptions(config().seed());
    long total = options.totalSteps(trainImages);
    if (t.lrWarmupSteps() <= total) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(loaded.error("training.lr_warmup_steps", "is more than the run's " + total
        + " steps (" + t.epochs() + " epochs x " + options.batchesPerEpoch(trainImages) + " batches): the warm-up "
        + "does not end, and the last step's rate is " + String.format(java.util.Locale.ROOT, "%.3g",
            t.learningRate() * t.learningRateSchedule().factor(Math.max(0, total - 1), total))
        + ", not training.learning_rate (" + t.learningRate() + ")").getMessage());
  }

  /** The backend's tensors, loaded only when a tensor is made (so that a sampler can be created to check it). */
  private final class DeferredTensors implements TensorFactory {
    @Override
    public io.github.diffusion4j.tensor.Tensor zeros(Shape shape) {
      return backend().tensors().zeros(shape);
    }

    @Override
    public io.github.diffusion4j.tensor.Tensor fromArray(float[] data, Shape shape) {
      return backend().tensors().fromArray(data, shape);
    }

    @Override
    public TensorScope openScope() {
      return backend().tensors().openScope();
    }
  }

  /**
   * Holds this configuration's backend for a training run's {@link TrainingRun#run} on the calling thread, until
   * {@link #trainingEnded}; {@link #close()} asks such runs to stop and waits for them.
   *
   * @throws IllegalStateException if this is closed or closing
   */
  void trainingStarted(TrainingRun run) {
    inUse.readLock().lock();
    // added before the check: a close that set closing after the check sees the run and asks it to stop
    training.add(run);
    if (closing || closed) {
      training.remove(run);
      inUse.readLock().unlock();
      throw new IllegalStateException(CLOSED);
    }
  }

  /**
   * Runs work on this configuration's backend as a sampling call runs: {@link #close()} waits for it to return, and
   * once closed it is refused ({@link IllegalStateException}, as sampling is). For what reads a model's native
   * memory outside a sampling call ({@code TrainedModel.exportDiffusers}, the calls of {@code TrainedModel.model()}).
   *
   * @throws IllegalStateException if this is closed
   */
  <T> T whileOpen(java.util.function.Supplier<T> work) {
    java.util.concurrent.locks.Lock using = inUse.readLock();
    using.lock();
    try {
      if (closed) { // set under the write lock: it cannot change while this holds the read lock
        throw new IllegalStateException(CLOSED);
      }
      return work.get();
    } finally {
      using.unlock();
    }
  }

  /** {@link #whileOpen} as the guard of a model this configuration hands out ({@code TrainedModel.model()}). */
  private final io.github.diffusion4j.model.GuardedModel.Guard hold = new io.github.diffusion4j.model.GuardedModel.Guard() {
    @Override
    public <T> T run(java.util.function.Supplier<T> call) {
      return whileOpen(call);
    }
  };

  /** The guard of the models this configuration hands out, held by {@link #whileOpen}. */
  io.github.diffusion4j.model.GuardedModel.Guard hold() {
    return hold;
  }

  /**
   * The model a sampling call runs, which holds this configuration for the whole call: one this configuration handed
   * out unguarded, so that the sampling loop's slice threads do not take the hold again (behind a waiting
   * {@link #close()} they would wait for it, and it for the call: a deadlock).
   */
  private NoisePredictor sampled(NoisePredictor model) {
    return model instanceof io.github.diffusion4j.model.GuardedModel g ? g.within(hold) : model;
  }

  /** The end of {@link #trainingStarted}, on the same thread. */
  void trainingEnded(TrainingRun run) {
    training.remove(run);
    inUse.readLock().unlock();
  }

  /**
   * Releases the backend. Sampling calls in progress on other threads ({@link #sampleImages}) end first: close
   * waits for them; training runs in progress ({@link TrainingRun#run}) are asked to stop, as
   * {@link TrainingRun#requestStop()} does, and close waits until they have written their final checkpoint and
   * returned. A call made after it fails with {@link IllegalStateException}.
   *
   * @throws IllegalStateException if called from within a sampling call or a training run on the same thread (a
   *     listener or sink)
   */
  @Override
  public void close() {
    closeAfter(() -> {});
  }

  /** Waits for the sampling calls in progress, then runs {@code first} and releases the backend (once). */
  void closeAfter(Runnable first) {
    if (inUse.getReadHoldCount() > 0) {
      throw new IllegalStateException("close() from within a sampling call or training run (a listener or sink) on "
          + "the same thread; close after the call returns");
    }
    closing = true;
    training.forEach(TrainingRun::requestStop);
    inUse.writeLock().lock();
    try {
      first.run();
      Backend b;
      synchronized (backendLock) {
        if (closed) {
          return;
        }
        b = backendCreated ? backend() : null;
        closed = true;
      }
      if (b != null) {
        b.close();
      }
    } finally {
      inUse.writeLock().unlock();
    }
  }
}
