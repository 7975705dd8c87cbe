package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.ConfigException;
import io.github.diffusion4j.config.DiffusionConfig;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.model.DdpmUNetSpec;
import io.github.diffusion4j.model.DiffusersConversion;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNet2DConfig;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The weights a new run starts from when {@code training.init_from} names a model (fine-tuning): the sampling
 * weights of a checkpoint of this SDK (its EMA weights where it has them, else its weights; the latest checkpoint of
 * a run folder), or a diffusers folder's {@code UNet2DModel} weights, renamed to the configured architecture where it
 * is one of this SDK's U-Nets with a diffusers equivalent ({@link DiffusersConversion#fromDiffusers}), so that
 * {@code --bundled ddpm-cifar10} starts from google/ddpm-cifar10-32. Only the weights are taken: Adam's moments and
 * the step count start afresh, and the weight average starts as in a new run (from the weights after its first step).
 */
final class InitialWeights {
  /** The configuration key. */
  static final String KEY = "training.init_from";

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(InitialWeights.class);

  private InitialWeights() {}

  /**
   * Checks, without reading any weights, that the path names a model folder.
   *
   * @throws io.github.diffusion4j.config.ConfigException naming the key, the path and what is allowed
   */
  static void check(LoadedConfig loaded, Path from) {
    String problem = null;
    if (!Files.exists(from)) {
      problem = "no such folder";
    } else if (!Files.isDirectory(from)) {
      problem = "not a folder";
    } else if (!DiffusersFolder.isDiffusersFolder(from) && TrainedModel.checkpointFolder(from).isEmpty()) {
      problem = Files.isDirectory(from.resolve("checkpoints")) ? "a run folder with no checkpoint yet ("
          + io.github.diffusion4j.io.FolderLock.owner(from).map(o -> "the run is still training, " + o + ", and saves "
              + "its first checkpoint after training.checkpoint_every epochs; start this run then")
              .orElse("the run stopped before it saved one") + ")"
          : "holds no model (no " + Checkpoint.MODEL_FILE + ", no checkpoints/ with a checkpoint, no diffusers "
          + DiffusersFolder.CONFIG + ")";
    }
    if (problem != null) {
      throw loaded.error(KEY, from + ": " + problem + "; give a checkpoint folder, a run folder or a diffusers folder");
    }
  }

  /**
   * {@link #check(LoadedConfig, Path)}, then, from the folder's configuration alone ({@code config.json} or a
   * checkpoint's {@code config.yaml}, without its weights), that it describes the configured network: what
   * {@code diffusion config --check} and {@code train} check before anything is read or made. A configuration that
   * cannot be read is left to {@link #load}, which names it.
   */
  static void check(Diffusion diffusion, Path from) {
    check(diffusion.loadedConfig(), from);
    ModelSpec spec = diffusion.modelSpec();
    if (DiffusersFolder.isDiffusersFolder(from)) {
      Path config = DiffusersFolder.unetConfigFile(from);
      java.util.Map<String, Object> have;
      try {
        have = DiffusersFolder.readConfig(config).toMap();
      } catch (RuntimeException e) {
        return;
      }
      sameFunction(diffusion, config + ": key '", have, from, spec, DIFFUSERS_ADVICE);
      return;
    }
    Optional<Path> dir = TrainedModel.checkpointFolder(from);
    if (dir.isEmpty()) {
      return;
    }
    Path yaml = dir.get().resolve(Checkpoint.CONFIG_FILE);
    DiffusionConfig trained;
    try {
      trained = io.github.diffusion4j.config.ConfigLoader.load(yaml, List.of());
    } catch (RuntimeException e) {
      return; // pruned by a run training there, or not readable: the load reads the checkpoint and names it
    }
    sameNetwork(diffusion, yaml, trained, spec);
  }

  /**
   * What {@link #load} read: the weights file and the folder that holds exactly those weights (the checkpoint folder
   * of a run folder's latest checkpoint, or the diffusers folder), which the run records as its {@code init_from}.
   */
  record Loaded(Path file, Path folder) {}

  /**
   * Loads the weights {@code training.init_from} names into a new model, after {@link Diffusion#check()} (which runs
   * {@link #check(Diffusion, Path)}); a folder that changed since is named by its reader, with the key.
   *
   * @return the weights file read and the folder recorded as the run's start
   * @throws io.github.diffusion4j.config.ConfigException naming the key if the folder cannot be read (a damaged or
   *     truncated file, a non-finite weight) or its weights do not fit the configured model
   */
  static Loaded load(Diffusion diffusion, Path from, TrainableModel model) {
    try {
      return DiffusersFolder.isDiffusersFolder(from) ? loadDiffusers(diffusion, from, model)
          : loadCheckpoint(diffusion, from, model);
    } catch (CheckpointException e) { // a file that cannot be read: named with the key, as every other refusal
      throw diffusion.loadedConfig().error(KEY, e.getMessage());
    }
  }

  private static String fit(TrainableModel model) {
    return "does not fit the configured model (" + model.spec().kind() + " for "
        + model.spec().imageShape().toCompactString() + " images): ";
  }

  private static Loaded loadDiffusers(Diffusion diffusion, Path from, TrainableModel model) {
    // its scheduler's class is the run's to replace; keys config.json has beyond UNet2DModel's: warned at the check
    DiffusersFolder f = DiffusersFolder.readModel(from);
    Path file = f.weightsFile();
    sameFunction(diffusion, f.configFile() + ": key '", f.unet().toMap(), f.directory(), model.spec(), DIFFUSERS_ADVICE);
    StateDict weights;
    try {
      weights = DiffusersConversion.fromDiffusers(model.spec(), f.weights());
    } catch (IllegalArgumentException e) {
      throw diffusion.loadedConfig().error(KEY, file + ": " + fit(model) + e.getMessage());
    }
    load(diffusion, file, weights, model);
    Path scheduler = f.directory().resolve("scheduler").resolve("scheduler_config.json");
    f.scheduler().ifPresent(s -> warnIfAnotherObjective(diffusion,
        (Files.isRegularFile(scheduler) ? scheduler : f.directory()) + ": its ", s));
    return new Loaded(file, from.toAbsolutePath().normalize());
  }

  private static Loaded loadCheckpoint(Diffusion diffusion, Path from, TrainableModel model) {
    Checkpoint c = TrainedModel.read(from);
    Path yaml = c.directory().resolve(Checkpoint.CONFIG_FILE);
    // the checkpoint's own configuration: the network its weights compute and the schedule they were trained for
    DiffusionConfig trained;
    try {
      trained = TrainedModel.readConfig(c, List.of()).config();
    } catch (ConfigException e) {
      throw diffusion.loadedConfig().error(KEY, yaml + ": not a configuration this version reads: " + e.getMessage());
    }
    // the weights it samples with: the average where it has one and samples with it (sampling.use_ema)
    boolean ema = c.content().ema().isPresent() && trained.sampling().useEma();
    Path file = c.directory().resolve(ema ? Checkpoint.EMA_FILE : Checkpoint.MODEL_FILE);
    ModelSpec trainedSpec = sameNetwork(diffusion, yaml, trained, model.spec());
    // the tutorial's schedule buffers are checked against the schedule the checkpoint was trained with: a fine-tuning
    // may change the schedule (warned below)
    StateDict weights = Checkpoints.withoutScheduleBuffers(file, ema ? c.content().ema().get() : c.content().model(),
        Schedule.of(trained.schedule().spec()));
    if (!trainedSpec.kind().equals(model.spec().kind()) && diffusersConfig(trainedSpec).isPresent()
        && diffusersConfig(model.spec()).isPresent()) { // the same U-Net in another kind's names
      try {
        weights = DiffusersConversion.fromDiffusers(model.spec(), DiffusersConversion.weights(trainedSpec, weights));
      } catch (IllegalArgumentException e) {
        throw diffusion.loadedConfig().error(KEY, file + ": " + fit(model) + e.getMessage());
      }
    }
    load(diffusion, file, weights, model);
    Path scheduler = c.directory().resolve(Checkpoint.SCHEDULER_FILE);
    warnIfAnotherObjective(diffusion, (Files.isRegularFile(scheduler) ? scheduler : yaml) + ": its ",
        c.content().scheduler().orElse(Checkpoints.schedulerConfig(trained)));
    return new Loaded(file, c.directory().toAbsolutePath().normalize());
  }

  /**
   * The network a checkpoint's {@code config.yaml} describes, refused where it is a U-Net computing another function
   * than the configured one ({@link #sameFunction}).
   */
  private static ModelSpec sameNetwork(Diffusion diffusion, Path yaml, DiffusionConfig trained, ModelSpec spec) {
    ModelSpec trainedSpec;
    try {
      Shape shape = trained.data().imageShape().orElse(spec.imageShape());
      trainedSpec = trained.model().toSpec(shape, trained.schedule().spec().numTrainTimesteps());
    } catch (ConfigException e) {
      throw diffusion.loadedConfig().error(KEY, yaml + ": not a configuration this version reads: " + e.getMessage());
    }
    Optional<UNet2DConfig> asUnet = diffusersConfig(trainedSpec);
    boolean unets = asUnet.isPresent() && diffusersConfig(spec).isPresent();
    String advice = "(the model section of its config.yaml)";
    if (unets) {
      sameFunction(diffusion, yaml + ": its model (as a diffusers UNet2DModel config.json) key '", asUnet.get().toMap(),
          yaml.getParent(), spec, advice);
    } else if (!trainedSpec.kind().equals(spec.kind())) {
      throw diffusion.loadedConfig().error(KEY, yaml + ": its model.kind is " + trainedSpec.kind() + " but the "
          + "configured model.kind is " + spec.kind() + "; the run must configure the same network " + advice);
    } else if (trainedSpec instanceof io.github.diffusion4j.model.MlpSpec a
        && spec instanceof io.github.diffusion4j.model.MlpSpec b && a.hidden() != b.hidden()) {
      throw diffusion.loadedConfig().error(KEY, yaml + ": its model.hidden is " + a.hidden() + " but the configured "
          + "model.hidden is " + b.hidden() + "; the run must configure the same network " + advice);
    } else if (trainedSpec instanceof io.github.diffusion4j.model.UNetSpec a
        && spec instanceof io.github.diffusion4j.model.UNetSpec b && a.groups() != b.groups()) {
      // a U-Net without a diffusers equivalent (channel_mult not starting with 1): the one setting its weights'
      // names and shapes do not show
      throw diffusion.loadedConfig().error(KEY, yaml + ": its model.groups is " + a.groups() + " but the configured "
          + "model.groups is " + b.groups() + "; the run must configure the same network " + advice);
    }
    return trainedSpec;
  }

  private static final String DIFFUSERS_ADVICE = "(model.kind unet2d with the folder's config.json values, or the "
      + "bundled configuration of its architecture, e.g. ddpm-cifar10 for google/ddpm-cifar10-32)";

  private static void load(Diffusion diffusion, Path file, StateDict weights, TrainableModel model) {
    try {
      model.loadStateDict(weights);
    } catch (IllegalArgumentException e) {
      throw diffusion.loadedConfig().error(KEY, file + ": " + fit(model) + e.getMessage());
    }
  }

  /** Another schedule or prediction type is the user's choice (a fine-tuning can change them), said once. */
  private static void warnIfAnotherObjective(Diffusion diffusion, String where, SchedulerConfig s) {
    try {
      TrainedModel.checkConsistent(where, "this run's configuration",
          "the run starts from weights trained for another objective", s, diffusion.config().schedule());
    } catch (CheckpointException e) {
      LOG.warn("{}: {}", KEY, e.getMessage());
    }
  }

  private static Optional<UNet2DConfig> diffusersConfig(ModelSpec spec) {
    try {
      return Optional.of(DiffusersConversion.config(spec));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * Refuses weights whose network, as a diffusers {@code config.json}, computes another function than the configured
   * model with weights of the same names and shapes (GroupNorm groups or eps, attention heads, the timestep
   * embedding's {@code flip_sin_to_cos} or {@code freq_shift}, ...): loading them would start from another model than
   * the folder's. The image size and dropout may differ: a fine-tuning may train at another size and with another
   * dropout.
   *
   * @param where the file and the start of the message, up to the key
   * @param have the {@code config.json} of the weights
   * @param folder the folder the weights are in
   * @param advice how to configure the same network, in parentheses
   */
  private static void sameFunction(Diffusion diffusion, String where, java.util.Map<String, Object> have, Path folder,
      ModelSpec spec, String advice) {
    java.util.Map<String, Object> want;
    try {
      want = DiffusersConversion.config(spec).toMap();
    } catch (IllegalArgumentException e) {
      throw diffusion.loadedConfig().error(KEY, folder + ": a diffusers folder starts only a U-Net: "
          + e.getMessage());
    }
    for (String key : want.keySet()) {
      if (!MAY_DIFFER.contains(key) && !java.util.Objects.equals(want.get(key), have.get(key))) {
        throw diffusion.loadedConfig().error(KEY, where + key + "' is " + have.get(key)
            + " but the configured model's is " + want.get(key) + "; the run must configure the same network "
            + attentionHint(key, have, spec).or(() -> channelsHint(key)).orElse(advice));
      }
    }
  }

  /**
   * For the DDPM authors' U-Net at another image size: its {@code model.attn_resolutions} are image sizes, so the
   * levels with attention move with the size, and the weights' levels are kept by giving the sizes they have here.
   */
  private static Optional<String> attentionHint(String key, java.util.Map<String, Object> have, ModelSpec spec) {
    if (!(spec instanceof DdpmUNetSpec ddpm) || !(key.equals("down_block_types")
        || key.equals("up_block_types")) || !(have.get("down_block_types") instanceof List<?> types)) {
      return Optional.empty();
    }
    int size = ddpm.imageShape().dim(1);
    List<Integer> at = new java.util.ArrayList<>();
    for (int level = 0; level < types.size(); level++) {
      if (String.valueOf(types.get(level)).startsWith("Attn")) {
        at.add(size >> level);
      }
    }
    String list = at.toString().replace(" ", "");
    return Optional.of("(model.attn_resolutions are image sizes: at " + size + "x" + size + " the weights' "
        + "attention levels are model.attn_resolutions=" + list + ", which --set model.attn_resolutions=" + list
        + " gives)");
  }

  /** The image channels are the data's, not the model section's: {@code data.image_shape} gives them. */
  private static Optional<String> channelsHint(String key) {
    return key.equals("in_channels") || key.equals("out_channels")
        ? Optional.of("(the image channels are data.image_shape's first entry)") : Optional.empty();
  }

  /** The {@code config.json} keys a fine-tuning may change. */
  private static final java.util.Set<String> MAY_DIFFER = java.util.Set.of("sample_size", "dropout",
      "_diffusers_version");
}
