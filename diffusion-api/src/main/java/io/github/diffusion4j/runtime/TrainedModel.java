package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.ConfigException;
import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.ConfigWriter;
import io.github.diffusion4j.config.DiffusionConfig;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.config.ScheduleConfig;
import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.CheckpointContent;
import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.io.CheckpointStore;
import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.io.FolderLock;
import io.github.diffusion4j.io.Manifest;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.model.DiffusersConversion;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNet2DConfig;
import io.github.diffusion4j.model.UNet2DSpec;
import io.github.diffusion4j.random.NoiseVersion;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model loaded from a checkpoint, with the configuration it was trained with, ready to sample on any
 * backend. Only {@code model.safetensors} and {@code config.yaml} are required, so weights trained
 * elsewhere (the tutorial's PyTorch module saved with safetensors) load with a small YAML beside them.
 *
 * <p>A diffusers folder loads too ({@link DiffusersFolder}: a {@code DDPMPipeline} folder such as a clone of
 * google/ddpm-cifar10-32, or a {@code UNet2DModel} folder): the model is {@code model.kind: unet2d} with the folder's
 * {@code config.json}, the schedule and sampler settings come from its {@code scheduler_config.json}, and it samples
 * with DDIM in 50 steps unless overridden; its data and training keys are placeholders
 * ({@link #fromDiffusersFolder()}) unless the overrides give the data ({@code data.kind=...}).
 *
 * <p>Sampling ({@link #sample}) may run on several threads at once, each call with its own tensors; {@link #close}
 * waits for the calls in progress to return (sampling, {@link #exportDiffusers}, the calls of {@link #model()}), and a
 * call after it fails with {@link IllegalStateException}.
 */
public final class TrainedModel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TrainedModel.class);
  private static final String NOISE_VERSION_KEY = "sampling.noise_version";

  private final Diffusion diffusion;
  private final TrainableModel model;
  /** What {@link #model()} returns: {@link #model}, each call of it held as a sampling call is. */
  private final io.github.diffusion4j.model.GuardedModel held;
  private final Checkpoint checkpoint;
  private final boolean diffusers;

  private TrainedModel(Diffusion diffusion, TrainableModel model, Checkpoint checkpoint, boolean diffusers) {
    this.diffusion = diffusion;
    this.model = model;
    this.held = io.github.diffusion4j.model.GuardedModel.of(model, diffusion.hold(), this::close);
    this.checkpoint = checkpoint;
    this.diffusers = diffusers;
  }

  /**
   * Loads a checkpoint folder, the latest checkpoint of a run folder, or a diffusers folder.
   *
   * @param path a checkpoint folder ({@code .../checkpoints/step-N}), a run folder, or a diffusers folder
   * @param overrides configuration overrides ({@code backend=djl}, {@code sampling.sampler=ddpm}, ...)
   * @return the loaded model
   * @throws CheckpointException if the folder is not a usable checkpoint
   */
  public static TrainedModel load(Path path, List<String> overrides) {
    java.util.Objects.requireNonNull(path, "path: the checkpoint or run folder must not be null");
    java.util.Objects.requireNonNull(overrides, "overrides must not be null (List.of() for none)");
    if (DiffusersFolder.isDiffusersFolder(path)) {
      return loadDiffusers(path, overrides);
    }
    Diffusion d;
    Checkpoint c;
    LoadedConfig loaded;
    boolean checkedBefore;
    try (Diffusion checked = checkBeforeRead(path, overrides)) {
      checkedBefore = checked != null;
      c = read(path);
      loaded = withTheRunsImageCache(c, readConfig(c, overrides), overrides);
      c.content().scheduler().ifPresent(s -> {
        refuseScheduleOverride(s, loaded, overrides);
        checkConsistent(c.directory().resolve(Checkpoint.SCHEDULER_FILE) + ": ", "config.yaml",
            "the two files must describe the same schedule", s, loaded.config().schedule());
      });
      // its sampling.noise_version (absent: 1, as before the key existed); the providers the check discovered
      d = checked != null ? checked.reopen(loaded) : Diffusion.open(loaded);
    }
    Path dir = c.directory();
    TrainableModel m = null;
    try {
      if (!checkedBefore) {
        checkSamplerOverride(d, overrides); // else made before the read, from the same configuration
      }
      // a NaN or an infinity is damage, said as such (as a resume says it), not as weights that do not fit the model
      Checkpoints.requireFiniteIn(dir.resolve(Checkpoint.MODEL_FILE), c.content().model());
      c.content().ema().ifPresent(e -> Checkpoints.requireFiniteIn(dir.resolve(Checkpoint.EMA_FILE), e));
      m = d.createModel();
      // every weight file is checked against the model, whichever is sampled with: the model's weights
      // first, then the EMA weights (which then stay loaded when sampling with them)
      Checkpoints.loadWeights(dir, m, c.content().model(), Checkpoint.MODEL_FILE, d.schedule());
      if (c.content().ema().isPresent()) {
        Checkpoints.loadWeights(dir, m, c.content().ema().get(), Checkpoint.EMA_FILE, d.schedule());
        if (!loaded.config().sampling().useEma()) {
          Checkpoints.loadWeights(dir, m, c.content().model(), Checkpoint.MODEL_FILE, d.schedule());
        }
      }
      return new TrainedModel(d, m, c, false);
    } catch (RuntimeException e) {
      if (m != null) {
        m.close();
      }
      d.close();
      throw e;
    }
  }

  /**
   * A sampler that an override names ({@code --sampler}, {@code --set sampling.sampler=...}), or that an override's
   * eta is for, is made before the weights are read, so that a misspelt name, an option it refuses or an eta it
   * takes none of is reported at once, not after a load that takes a minute for a 256x256 model. The checkpoint's own sampler is left until it is used: {@code interpolate}
   * and {@code eval --bpd} do not sample with it, and it may be a custom one no longer on the class path.
   */
  private static void checkSamplerOverride(Diffusion d, List<String> overrides) {
    if (ConfigLoader.overridesTouch(overrides, "sampling.sampler")
        || ConfigLoader.overridesTouch(overrides, "sampling.eta")) {
      d.checkSampler(); // the backend is not loaded for it: damaged weights are still found before it loads
    }
  }

  /**
   * The image shape a model folder samples, read from its configuration alone ({@link #configuration}), without its
   * weights: for checks a caller makes before a load that can take a minute and gigabytes (a 256x256 model), such as
   * whether the output can hold the images asked for. Empty where the configuration alone does not say (data whose
   * shape comes from its files) or cannot be read; {@link #load} then reports what is wrong.
   *
   * @param path as for {@link #load}
   * @param overrides as for {@link #load}
   * @return {@code [C, H, W]}, or empty
   */
  public static Optional<Shape> imageShape(Path path, List<String> overrides) {
    return configuration(path, overrides).flatMap(c -> c.data().imageShape());
  }

  /**
   * The configuration a model folder samples with, with the overrides, without its weights: a checkpoint's
   * ({@code config.yaml} of the checkpoint {@link #load} would read), or a diffusers folder's (made from its
   * {@code config.json} and {@code scheduler_config.json} as {@link #load} makes it). For checks a caller makes before
   * a load that can take a minute (a 256x256 model), such as an option against the schedule's
   * {@code num_train_timesteps}. Empty where it cannot be read, neither alone nor with the overrides; {@link #load}
   * then reports what is wrong. Nothing is logged: the load warns of what it ignores, once.
   *
   * @param path as for {@link #load}
   * @param overrides as for {@link #load}
   * @return the configuration, or empty
   */
  public static Optional<DiffusionConfig> configuration(Path path, List<String> overrides) {
    try {
      if (DiffusersFolder.isDiffusersFolder(path)) {
        DiffusersFolder.Header h = DiffusersFolder.readHeaderQuietly(path);
        return Optional.of(diffusersConfig(h, schedulerOf(h, false), overrides).config());
      }
      return configFile(path).map(file -> ConfigLoader.load(file, overrides));
    } catch (RuntimeException e) {
      return Optional.empty(); // the load names it
    }
  }

  /**
   * The {@code config.yaml} that {@link #load} reads for a checkpoint or run folder (not a diffusers folder), without
   * reading it.
   */
  private static Optional<Path> configFile(Path path) {
    resolve(path); // a missing path or a file: the load names it
    return checkpointFolder(path).map(dir -> dir.resolve(Checkpoint.CONFIG_FILE));
  }

  /**
   * Refuses, from the checkpoint's configuration alone and before its weights are read and checked (seconds for a
   * large model), what the overrides get wrong (a number of steps beyond the schedule, a sampler's options) and a
   * backend or an overriding sampler that no provider registers, in the words the load would use. A configuration
   * that does not read without the overrides is left to the load, which says what is damaged.
   *
   * @return the checked configuration, whose providers the load's configuration reuses; null where it was not read
   */
  private static Diffusion checkBeforeRead(Path path, List<String> overrides) {
    Optional<Path> file;
    try {
      file = configFile(path);
      if (file.isPresent()) {
        ConfigLoader.read(file.get(), List.of()); // as a YAML file is read (a FIFO or a huge file refused)
      }
    } catch (RuntimeException e) {
      return null; // the load names it
    }
    if (file.isEmpty()) {
      return null;
    }
    // the file reads alone: what the overrides get wrong is theirs, said as the load would say it after its read
    LoadedConfig loaded = ConfigLoader.read(file.get(), overrides);
    return checked(Diffusion.open(loaded), overrides); // no backend is loaded: closing it releases nothing
  }

  /**
   * Refuses, before a model folder's weights are read, a backend or an overriding sampler that no provider registers
   * or a sampler's options (a checkpoint's and a diffusers folder's alike); closes the configuration if it does.
   *
   * @return {@code d}
   */
  private static Diffusion checked(Diffusion d, List<String> overrides) {
    try {
      d.checkBackend();
      checkSamplerOverride(d, overrides);
      return d;
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
  }

  /**
   * A folder's or CIFAR-10's images ({@code eval}'s reference images, {@code eval --bpd}'s evaluation images) are
   * read through the image cache. Without {@code data.cache_dir}, training put it in {@code output.dir/.data-cache},
   * and {@code output.dir} is the folder that holds the run folder ({@link RunFolder#under}); the recorded {@code
   * output.dir} may be relative to the folder training ran in, or the runs may have moved since, so for a checkpoint
   * inside a run folder ({@code RUN/checkpoints/step-N}) the cache is the one beside the run folder, not one built
   * anew under the working directory of the command. A cache folder of the configuration's own, or of an override,
   * is left as it is.
   */
  private static LoadedConfig withTheRunsImageCache(Checkpoint c, LoadedConfig loaded, List<String> overrides) {
    io.github.diffusion4j.config.DataConfig d = loaded.config().data();
    boolean cached = d.kind() == io.github.diffusion4j.config.DataConfig.Kind.FOLDER
        || d.kind() == io.github.diffusion4j.config.DataConfig.Kind.CIFAR10;
    Path checkpoints = c.directory().toAbsolutePath().normalize().getParent();
    if (!cached || d.cacheDir().isPresent() || checkpoints == null || checkpoints.getFileName() == null
        || !checkpoints.getFileName().toString().equals("checkpoints") || checkpoints.getParent() == null
        || checkpoints.getParent().getParent() == null) {
      return loaded;
    }
    Path outputDir = checkpoints.getParent().getParent();
    List<String> withCache = new ArrayList<>(overrides);
    withCache.add(ConfigLoader.stringOverride("data.cache_dir",
        outputDir.resolve(DataSets.DEFAULT_CACHE_DIR).toString()));
    return readConfig(c, withCache);
  }

  /**
   * The checkpoint's configuration with the overrides. A checkpoint written on 2026-12-02 before
   * {@code sampling.noise_version} existed has no such key, and its manifest records the noise version its samples
   * were drawn with (2); that version applies unless the config.yaml or an override says otherwise.
   */
  static LoadedConfig readConfig(Checkpoint c, List<String> overrides) {
    String source = c.directory().resolve(Checkpoint.CONFIG_FILE).toString();
    LoadedConfig loaded = ConfigLoader.readString(c.content().configYaml(), source, overrides);
    Optional<NoiseVersion> recorded = c.manifest().flatMap(Manifest::noiseVersion);
    if (recorded.isEmpty() || loaded.given(NOISE_VERSION_KEY)) {
      return loaded;
    }
    List<String> withRecorded = new ArrayList<>();
    withRecorded.add(NOISE_VERSION_KEY + "=" + recorded.get().number());
    withRecorded.addAll(overrides);
    return ConfigLoader.readString(c.content().configYaml(), source, withRecorded);
  }

  /**
   * Loads a diffusers folder: what its small files say first ({@link DiffusersFolder#readHeader}), the configuration
   * made of them with the overrides, and the checks a checkpoint's configuration gets before its weights are read
   * ({@link #checked}), in the same words; then the weights.
   */
  private static TrainedModel loadDiffusers(Path dir, List<String> overrides) {
    DiffusersFolder.Header h = DiffusersFolder.readHeader(dir);
    SchedulerConfig s = schedulerOf(h, true);
    Diffusion d = checked(openDiffusers(h, s, overrides), overrides);
    TrainableModel m = null;
    try {
      DiffusersFolder f = h.readWeights();
      m = d.createModel();
      try {
        m.loadStateDict(f.weights());
      } catch (IllegalArgumentException e) {
        throw new CheckpointException(f.weightsFile() + ": does not fit the configured model: " + e.getMessage());
      }
      Checkpoint c = new Checkpoint(dir, CheckpointContent.of(f.weights(), ConfigWriter.toYaml(d.config()))
          .withScheduler(s), Optional.empty());
      return new TrainedModel(d, m, c, true);
    } catch (RuntimeException e) {
      if (m != null) {
        m.close();
      }
      d.close();
      throw e;
    }
  }

  /** A diffusers folder's scheduler configuration: its {@code scheduler_config.json}, else diffusers' defaults. */
  private static SchedulerConfig schedulerOf(DiffusersFolder.Header h, boolean warn) {
    return h.scheduler().orElseGet(() -> {
      if (warn) {
        LOG.warn("{}: no scheduler_config.json; using diffusers' DDPMScheduler defaults (linear 1e-4 to 0.02, "
            + "T = 1000)", h.directory());
      }
      return SchedulerConfig.DIFFUSERS_DEFAULTS;
    });
  }

  /** The image shape of a diffusers folder's {@code sample_size}, or null where it is null. */
  private static Shape sampleShape(DiffusersFolder.Header h) {
    UNet2DConfig unet = h.unet();
    try {
      return unet.sampleSize().isEmpty() ? null
          : Shape.of(unet.inChannels(), unet.sampleSize().get(0), unet.sampleSize().get(1));
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(h.configFile() + ": key 'sample_size': " + unet.sampleSize() + " with in_channels "
          + unet.inChannels() + " makes images too large: " + e.getMessage());
    }
  }

  /**
   * The configuration a diffusers folder samples with, made from its {@code config.json} and scheduler configuration
   * with the overrides; the overrides' steps, sampler options and schedule are checked as a checkpoint's are.
   */
  private static LoadedConfig diffusersConfig(DiffusersFolder.Header h, SchedulerConfig s, List<String> overrides) {
    UNet2DConfig unet = h.unet();
    Shape shape = sampleShape(h);
    if (shape == null && !ConfigLoader.overridesTouch(overrides, "data.image_shape")) {
      throw new CheckpointException(h.configFile() + ": sample_size is null; give the image size with "
          + "data.image_shape=[" + unet.inChannels() + ", H, W] (--set on the command line)");
    }
    if (shape != null) {
      // the image size against the levels, named in the user's config.json (this surfaced from the YAML built below,
      // as "DIR (diffusers folder):8:789: model.unet2d.sample_size: ... (data.image_shape is [3, 100, 100])")
      try {
        UNet2DSpec.of(unet, s.schedule().numTrainTimesteps());
      } catch (UNet2DConfig.InvalidValue e) {
        throw new CheckpointException(h.configFile() + ": key '" + e.key() + "': " + e.detail());
      }
    }
    boolean ownData = overrides.stream().anyMatch(o -> o.startsWith("data.kind="));
    String yaml = PublishedConfigs.yaml(shape,
        List.of("kind: unet2d", "unet2d: " + PublishedConfigs.flow(unet.toMap())), s, !ownData);
    LoadedConfig loaded = ConfigLoader.readString(yaml, h.directory() + " (diffusers folder)", overrides);
    checkConsistent(h.directory() + ": the scheduler config's ", "the configuration",
        "the model was trained with the scheduler's schedule (do not override schedule.*)", s,
        loaded.config().schedule());
    return loaded;
  }

  /** {@link #diffusersConfig} opened, its image size checked against the folder's model. */
  private static Diffusion openDiffusers(DiffusersFolder.Header h, SchedulerConfig s, List<String> overrides) {
    Diffusion d = null;
    try {
      d = Diffusion.open(diffusersConfig(h, s, overrides));
      d.modelSpec(); // the image size against the folder's model, refused here rather than at createModel
      return d;
    } catch (RuntimeException e) {
      if (d != null) {
        d.close();
      }
      // the folder's model, checked above, refuses only the overridden image size: said at the override, not at a
      // line of the YAML built above, which the user never sees
      UNet2DConfig unet = h.unet();
      if (!(e instanceof ConfigException c) || unet.sampleSize().isEmpty() || c.path() == null
          || !c.path().startsWith("model.unet2d.") || ConfigLoader.overridesTouch(overrides, "model")) {
        throw e;
      }
      String given = overrides.stream().filter(o -> ConfigLoader.overridesTouch(List.of(o), "data.image_shape"))
          .reduce((a, b) -> b).orElseThrow(() -> e);
      throw new CheckpointException("--set " + given + ": the model's images are " + sampleShape(h) + " (sample_size "
          + unet.sampleSize() + " in " + h.configFile() + "); a diffusers folder samples at its sample_size: leave "
          + "data.image_shape out");
    }
  }

  /**
   * Reads the checkpoint a path names. For a run folder, the newest complete checkpoint (checkpoints are
   * renamed into place when complete, and the list is read without changing anything, so a run that is
   * training at the same time is not disturbed); if the run removes it while it is being read (it keeps
   * only the newest few), the next newest is read.
   */
  static Checkpoint read(Path path) {
    Path dir = resolve(path);
    if (dir != null) {
      return Checkpoint.readForSampling(dir);
    }
    Path checkpoints = checkpointsOf(path);
    for (int attempt = 0; ; attempt++) {
      List<Path> all = CheckpointStore.listIn(checkpoints);
      if (all.isEmpty()) {
        throw noCheckpointYet(path, checkpoints);
      }
      Path latest = all.get(all.size() - 1);
      try {
        return Checkpoint.readForSampling(latest);
      } catch (CheckpointException e) {
        if (attempt >= 3 || Files.isDirectory(latest)) {
          throw e;
        }
        // pruned by the run while being read: take the newest again
      }
    }
  }

  /**
   * The checkpoint folder a folder names, without reading it: the folder itself where it holds
   * {@code model.safetensors}, else the newest complete checkpoint of a run folder (or a checkpoints/ folder).
   *
   * @return the folder; empty where there is no checkpoint yet
   */
  static Optional<Path> checkpointFolder(Path path) {
    if (Files.exists(path.resolve(Checkpoint.MODEL_FILE), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return Optional.of(path);
    }
    List<Path> all = CheckpointStore.listIn(checkpointsOf(path));
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /** The folder a run's checkpoints are listed in: its checkpoints/, or the path itself (a checkpoints/ folder). */
  static Path checkpointsOf(Path runFolder) {
    return Files.isDirectory(runFolder.resolve("checkpoints")) ? runFolder.resolve("checkpoints") : runFolder;
  }

  /** A checkpoint folder itself, or null for a run folder (or a checkpoints/ folder). */
  private static Path resolve(Path path) {
    if (!Files.exists(path)) {
      // a folder on its path the user may not search (another user's, mode 000) hides it: said as denied
      String denied = io.github.diffusion4j.io.FileProblems.ofReading(path)
          .filter(p -> p.contains("permission denied")).orElse(null);
      throw new CheckpointException(path + (denied != null ? ": " + denied
          : ": no such checkpoint folder" + besides(path)));
    }
    if (!Files.isDirectory(path)) {
      Path parent = path.toAbsolutePath().getParent();
      boolean inModelFolder = parent != null && (DiffusersFolder.isDiffusersFolder(parent)
          || Files.isRegularFile(parent.resolve(Checkpoint.MODEL_FILE))
          && Files.isRegularFile(parent.resolve(Checkpoint.CONFIG_FILE)));
      String name = String.valueOf(path.getFileName()).toLowerCase(java.util.Locale.ROOT);
      if (!inModelFolder && (name.endsWith(".ckpt") || name.endsWith(".pth") || name.endsWith(".pt")
          || name.endsWith(".bin"))) {
        throw new CheckpointException(path + ": not a folder but a PyTorch file; the DDPM and DDIM authors' "
            + "checkpoints convert to a checkpoint folder first: diffusion convert " + path + " --out DIR");
      }
      throw new CheckpointException(path + ": not a folder; " + (inModelFolder
          ? "pass the folder that holds it (" + (path.getParent() == null ? parent : path.getParent()) + ")"
          : "pass a checkpoint folder (with " + Checkpoint.MODEL_FILE + "), a run folder or a diffusers folder (with "
              + DiffusersFolder.CONFIG + ")"));
    }
    if (Files.exists(path.resolve(Checkpoint.MODEL_FILE), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return path;
    }
    return null;
  }

  /**
   * The checkpoints beside a missing one (a step typed without its zero padding, or one no longer kept), whose names
   * are the way to spell one: all of them where they are few, else their count and range; empty where there are none.
   */
  private static String besides(Path missing) {
    Path parent = missing.toAbsolutePath().getParent();
    List<Path> there;
    try {
      there = parent == null ? List.of() : CheckpointStore.listIn(parent);
    } catch (CheckpointException e) {
      return ""; // a folder that cannot be listed adds nothing to the missing one's message
    }
    if (there.isEmpty()) {
      return "";
    }
    Path shown = missing.getParent() == null ? parent : missing.getParent();
    List<String> names = there.stream().map(p -> p.getFileName().toString()).toList();
    return "; " + shown + " holds " + (names.size() <= 4 ? String.join(", ", names)
        : names.size() + " checkpoints, " + names.get(0) + " to " + names.get(names.size() - 1));
  }

  private static CheckpointException noCheckpointYet(Path path, Path checkpoints) {
    // a run's own checkpoints/ folder, given instead of the run: as empty as the run
    Path name = path.getFileName();
    Path run = path.equals(checkpoints) && name != null && name.toString().equals("checkpoints")
        ? path.toAbsolutePath().getParent() : path;
    if (!Files.isDirectory(checkpoints) || run.equals(checkpoints)) {
      return new CheckpointException(path + ": missing " + Checkpoint.MODEL_FILE
          + " (not a checkpoint folder, and no checkpoints/ inside)");
    }
    return new CheckpointException(path + ": no checkpoint yet; "
        + FolderLock.owner(run).map(o -> "the run is still training (" + o + ") and saves its first checkpoint "
            + "after training.checkpoint_every epochs; sample again then")
            .orElse("the run stopped before it saved one; train it again"));
  }

  /**
   * Refuses an override of {@code schedule.*} that differs from the schedule the weights were trained with, at the
   * override: it was reported as the checkpoint's {@code config.yaml} disagreeing with its {@code
   * scheduler_config.json} ("config.yaml's schedule.num_train_timesteps is 7"), where config.yaml said 30.
   */
  private static void refuseScheduleOverride(SchedulerConfig s, LoadedConfig loaded, List<String> overrides) {
    ScheduleSpec a = s.schedule();
    ScheduleConfig c = loaded.config().schedule();
    ScheduleSpec b = c.spec();
    Object[][] keys = {
        {"num_train_timesteps", a.numTrainTimesteps(), b.numTrainTimesteps()},
        {"beta_schedule", a.betaSchedule().configName(), b.betaSchedule().configName()},
        {"prediction_type", s.predictionType().configName(), c.predictionType().configName()},
        {"rescale_betas_zero_snr", a.rescaleBetasZeroSnr(), b.rescaleBetasZeroSnr()},
        {"beta_start", a.betaStart(), b.betaStart()},
        {"beta_end", a.betaEnd(), b.betaEnd()}};
    for (Object[] k : keys) {
      String key = "schedule." + k[0];
      if (!Objects.equals(k[1], k[2]) && ConfigLoader.overridesTouch(overrides, key)) {
        throw loaded.error(key, "is " + k[2] + " but the checkpoint's weights were trained with " + k[1] + " ("
            + Checkpoint.SCHEDULER_FILE + "); a checkpoint samples with the schedule it was trained with (do not "
            + "override schedule.*)");
      }
    }
  }

  static void checkConsistent(String where, String config, String why, SchedulerConfig s, ScheduleConfig c) {
    if (s.schedule().equals(c.spec()) && s.predictionType() == c.predictionType()) {
      return;
    }
    // They differ: the message names the first key that does.
    ScheduleSpec a = s.schedule();
    ScheduleSpec b = c.spec();
    mismatch(where, config, why, "num_train_timesteps", a.numTrainTimesteps(), b.numTrainTimesteps());
    mismatch(where, config, why, "beta_schedule", a.betaSchedule().configName(), b.betaSchedule().configName());
    mismatch(where, config, why, "prediction_type", s.predictionType().configName(), c.predictionType().configName());
    mismatch(where, config, why, "rescale_betas_zero_snr", a.rescaleBetasZeroSnr(), b.rescaleBetasZeroSnr());
    mismatch(where, config, why, "beta_start", a.betaStart(), b.betaStart());
    mismatch(where, config, why, "beta_end", a.betaEnd(), b.betaEnd());
  }

  private static void mismatch(String where, String config, String why, String key, Object scheduler, Object value) {
    if (!Objects.equals(scheduler, value)) {
      throw new CheckpointException(where + key + " is " + scheduler + " but " + config + "'s schedule." + key + " is "
          + value + "; " + why);
    }
  }

  /**
   * The wired configuration of the checkpoint (with overrides).
   *
   * @return the configuration
   */
  public Diffusion diffusion() {
    return diffusion;
  }

  /**
   * The model, holding the sampling weights (EMA if the checkpoint has them and {@code sampling.use_ema}). Its calls
   * are held as sampling calls are ({@link #close} waits for those in progress; after it they fail with
   * {@link IllegalStateException}), and its {@code close()} closes this {@code TrainedModel}.
   *
   * @return the model
   */
  public TrainableModel model() {
    return held;
  }

  /**
   * The checkpoint read (for a diffusers folder: its weights, the configuration made from it, its scheduler);
   * without its training state, which sampling does not read ({@link Checkpoint#readForSampling}).
   *
   * @return the checkpoint
   */
  public Checkpoint checkpoint() {
    return checkpoint;
  }

  /**
   * Whether the model was loaded from a diffusers folder, whose configuration has no real data (only the image
   * shape) and no training settings.
   *
   * @return true for a diffusers folder
   */
  public boolean fromDiffusersFolder() {
    return diffusers;
  }

  /**
   * Writes the model as a diffusers {@code DDPMPipeline} folder (atomically), which diffusers'
   * {@code DDPMPipeline.from_pretrained(dir)} and {@code UNet2DModel.from_pretrained(dir, subfolder="unet")} load:
   * the weights loaded here (the EMA weights when the checkpoint has them and {@code sampling.use_ema}) under
   * diffusers' names ({@link DiffusersConversion}), and the schedule and sampler settings as a
   * {@code DDPMScheduler} config.
   *
   * <p>It may run while other threads sample; {@link #close} waits for it to return.
   *
   * @param directory the folder to write (replaced if it exists)
   * @throws IllegalArgumentException if the model has no diffusers equivalent (the tutorial's MLP)
   * @throws CheckpointException if writing fails
   * @throws IllegalStateException if this is closed
   */
  public void exportDiffusers(Path directory) {
    diffusion.whileOpen(() -> {
      DiffusersFolder.write(directory, DiffusersConversion.config(model.spec()),
          DiffusersConversion.weights(model.spec(), model.stateDict()), Checkpoints.schedulerConfig(diffusion.config()));
      return null;
    });
  }

  /**
   * Samples images.
   *
   * @param sampler the sampler
   * @param request what to sample
   * @param listener sees each step
   * @return images {@code [count, C, H, W]} in {@code [0, 1]}
   */
  public float[] sample(Sampler sampler, SamplingRequest request, SamplingListener listener) {
    return diffusion.sampleImages(model, sampler, request, listener);
  }

  /**
   * Samples images batch by batch into a sink, in memory independent of their number (see
   * {@link Diffusion#sampleImages(io.github.diffusion4j.model.NoisePredictor, Sampler, SamplingRequest,
   * SamplingListener, Diffusion.ImageSink)}); with an {@link io.github.diffusion4j.io.SampleWriter} as the sink,
   * any number of samples goes to a {@code .npy} or {@code .safetensors} file.
   *
   * @param sampler the sampler
   * @param request what to sample ({@link SamplingRequest#slice} for one shard of a larger run)
   * @param listener sees each step of each batch
   * @param sink takes the batches, in {@code [0, 1]}
   */
  public void sample(Sampler sampler, SamplingRequest request, SamplingListener listener, Diffusion.ImageSink sink) {
    diffusion.sampleImages(model, sampler, request, listener, sink);
  }

  /**
   * Image-to-image sampling (SDEdit) batch by batch into a sink: see {@link Diffusion#sampleFromImages}.
   *
   * @param sampler the sampler
   * @param request what to sample (the whole plan; without initial latents)
   * @param strength how far up the images are noised, in {@code (0, 1]}
   * @param images the starting image of each sample ({@code i} from {@code request.firstSample()} on),
   *     {@code [C, H, W]} in {@code [-1, 1]}
   * @param listener sees each step of each batch
   * @param sink takes the batches, in {@code [0, 1]}
   */
  public void sampleFromImages(Sampler sampler, SamplingRequest request, double strength,
      java.util.function.LongFunction<float[]> images, SamplingListener listener, Diffusion.ImageSink sink) {
    diffusion.sampleFromImages(model, sampler, request, strength, images, listener, sink);
  }

  /**
   * Inpainting (RePaint) batch by batch into a sink: see {@link Diffusion#inpaint}.
   *
   * @param sampler any sampler
   * @param request what to sample (the whole plan; without initial latents)
   * @param images the picture of each sample ({@code i} from {@code request.firstSample()} on), {@code [C, H, W]} in
   *     {@code [-1, 1]}
   * @param masks the mask of each sample, {@code [H, W]} in {@code [0, 1]}: 1 regenerate, 0 keep
   * @param listener sees each step of each batch
   * @param sink takes the batches, in {@code [0, 1]}
   */
  public void inpaint(Sampler sampler, SamplingRequest request, java.util.function.LongFunction<float[]> images,
      java.util.function.LongFunction<float[]> masks, SamplingListener listener, Diffusion.ImageSink sink) {
    diffusion.inpaint(model, sampler, request, images, masks, listener, sink);
  }

  /**
   * Inpainting with RePaint's resampling batch by batch into a sink: see
   * {@link Diffusion#inpaint(io.github.diffusion4j.model.NoisePredictor, Sampler, SamplingRequest,
   * io.github.diffusion4j.sampling.Resampling, java.util.function.LongFunction, java.util.function.LongFunction,
   * SamplingListener, Diffusion.ImageSink)}.
   *
   * @param sampler any sampler
   * @param request what to sample (the whole plan; without initial latents)
   * @param resampling the jump length and resample count
   * @param images the picture of each sample ({@code i} from {@code request.firstSample()} on), {@code [C, H, W]} in
   *     {@code [-1, 1]}
   * @param masks the mask of each sample, {@code [H, W]} in {@code [0, 1]}: 1 regenerate, 0 keep
   * @param listener sees each reverse step of each batch
   * @param sink takes the batches, in {@code [0, 1]}
   */
  public void inpaint(Sampler sampler, SamplingRequest request, io.github.diffusion4j.sampling.Resampling resampling,
      java.util.function.LongFunction<float[]> images, java.util.function.LongFunction<float[]> masks,
      SamplingListener listener, Diffusion.ImageSink sink) {
    diffusion.inpaint(model, sampler, request, resampling, images, masks, listener, sink);
  }

  /**
   * The latents deterministic DDIM samples back to pictures, approximately (DDIM inversion): see
   * {@link Diffusion#invert}.
   *
   * @param pictures one or more pictures, each {@code [C, H, W]} in {@code [-1, 1]}
   * @return one latent per picture
   */
  public float[][] invert(float[]... pictures) {
    return diffusion.invert(model, pictures);
  }

  /**
   * Images along a spherical path between two latents, each sampled by deterministic DDIM (eta 0), as
   * {@code diffusion interpolate} draws its strip: see {@link Diffusion#interpolate}. Between two pictures:
   * {@code float[][] ends = m.invert(a, b); m.interpolate(ends[0], ends[1], 10, SamplingListener.NONE)}.
   *
   * @param from the first end's latent
   * @param to the last end's latent
   * @param count the images along the path, the ends included, at least 2
   * @param listener sees every step
   * @return the images {@code [count, C, H, W]} in {@code [0, 1]}
   */
  public float[] interpolate(float[] from, float[] to, int count, SamplingListener listener) {
    return diffusion.interpolate(model, from, to, count, listener);
  }

  /**
   * Waits for the calls in progress (sampling, {@link #exportDiffusers}, those of {@link #model()}), then releases the
   * model and its backend. Closing twice does nothing.
   */
  @Override
  public void close() {
    diffusion.closeAfter(model::close);
  }
}
