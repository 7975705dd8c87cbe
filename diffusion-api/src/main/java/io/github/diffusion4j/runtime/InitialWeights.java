package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.io.CheckpointStore;
import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.model.DiffusersConversion;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainableModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The weights a new run starts from when {@code training.init_from} names a model (fine-tuning): the sampling
 * weights of a checkpoint of this SDK (its EMA weights where it has them, else its weights; the latest checkpoint of
 * a run folder), or a diffusers folder's {@code UNet2DModel} weights, renamed to the configured architecture where it
 * is one of this SDK's U-Nets with a diffusers equivalent ({@link DiffusersConversion#fromDiffusers}), so that
 * {@code --bundled ddpm-cifar10} starts from google/ddpm-cifar10-32. Only the weights are taken: Adam's moments and
 * the step count start afresh, and the weight average starts from the loaded weights.
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
    } else if (!DiffusersFolder.isDiffusersFolder(from) && !Files.exists(from.resolve(Checkpoint.MODEL_FILE))
        && CheckpointStore.listIn(Files.isDirectory(from.resolve("checkpoints")) ? from.resolve("checkpoints") : from)
            .isEmpty()) {
      problem = "holds no model (no " + Checkpoint.MODEL_FILE + ", no checkpoints/ with a checkpoint, no diffusers "
          + DiffusersFolder.CONFIG + ")";
    }
    if (problem != null) {
      throw loaded.error(KEY, from + ": " + problem + "; give a checkpoint folder, a run folder or a diffusers folder");
    }
  }

  /**
   * Loads the weights {@code training.init_from} names into a new model, after {@link #check}.
   *
   * @return the weights file read
   * @throws io.github.diffusion4j.config.ConfigException if the weights do not fit the configured model
   * @throws CheckpointException if the folder cannot be read
   */
  static Path load(Diffusion diffusion, Path from, TrainableModel model) {
    check(diffusion.loadedConfig(), from);
    StateDict weights;
    Path file;
    Optional<SchedulerConfig> scheduler;
    String fit = "does not fit the configured model (" + model.spec().kind() + " for "
        + model.spec().imageShape().toCompactString() + " images): ";
    if (DiffusersFolder.isDiffusersFolder(from)) {
      DiffusersFolder f = DiffusersFolder.read(from);
      file = f.weightsFile();
      scheduler = f.scheduler();
      sameFunction(diffusion, f, model);
      try {
        weights = DiffusersConversion.fromDiffusers(model.spec(), f.weights());
      } catch (IllegalArgumentException e) {
        throw diffusion.loadedConfig().error(KEY, file + ": " + fit + e.getMessage());
      }
    } else {
      Checkpoint c = TrainedModel.read(from);
      boolean ema = c.content().ema().isPresent();
      file = c.directory().resolve(ema ? Checkpoint.EMA_FILE : Checkpoint.MODEL_FILE);
      scheduler = c.content().scheduler();
      weights = Checkpoints.withoutScheduleBuffers(file, ema ? c.content().ema().get() : c.content().model(),
          diffusion.schedule());
    }
    try {
      model.loadStateDict(weights);
    } catch (IllegalArgumentException e) {
      throw diffusion.loadedConfig().error(KEY, file + ": " + fit + e.getMessage());
    }
    // another schedule or prediction type is the user's choice (a fine-tuning can change them), said once
    scheduler.ifPresent(s -> {
      try {
        TrainedModel.checkConsistent(file.getParent() + ": its scheduler's ", "this run's configuration",
            "the run starts from weights trained for another objective", s, diffusion.config().schedule());
      } catch (CheckpointException e) {
        LOG.warn("{}: {}", KEY, e.getMessage());
      }
    });
    return file;
  }

  /**
   * Refuses a diffusers folder whose {@code config.json} computes another function than the configured model with
   * weights of the same names and shapes (GroupNorm groups or eps, attention heads, the timestep embedding's
   * {@code flip_sin_to_cos} or {@code freq_shift}, ...): loading them would start from another model than the folder's.
   * The image size and dropout may differ: a fine-tuning may train at another size and with another dropout.
   */
  private static void sameFunction(Diffusion diffusion, DiffusersFolder f, TrainableModel model) {
    java.util.Map<String, Object> want;
    try {
      want = DiffusersConversion.config(model.spec()).toMap();
    } catch (IllegalArgumentException e) {
      throw diffusion.loadedConfig().error(KEY, f.directory() + ": a diffusers folder starts only a U-Net: "
          + e.getMessage());
    }
    java.util.Map<String, Object> have = f.unet().toMap();
    for (String key : want.keySet()) {
      if (!MAY_DIFFER.contains(key) && !java.util.Objects.equals(want.get(key), have.get(key))) {
        throw diffusion.loadedConfig().error(KEY, f.configFile() + ": key '" + key + "' is " + have.get(key)
            + " but the configured model's is " + want.get(key) + "; the run must configure the same network "
            + "(model.kind unet2d with the folder's config.json values, or the bundled configuration of its "
            + "architecture, e.g. ddpm-cifar10 for google/ddpm-cifar10-32)");
      }
    }
  }

  /** The {@code config.json} keys a fine-tuning may change. */
  private static final java.util.Set<String> MAY_DIFFER = java.util.Set.of("sample_size", "dropout",
      "_diffusers_version");
}
