package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.config.ScheduleConfig;
import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.io.CheckpointStore;
import io.github.diffusion4j.io.FolderLock;
import io.github.diffusion4j.io.Manifest;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.random.NoiseVersion;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.sampling.SamplingRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A model loaded from a checkpoint, with the configuration it was trained with, ready to sample on any
 * backend. Only {@code model.safetensors} and {@code config.yaml} are required, so weights trained
 * elsewhere (the tutorial's PyTorch module saved with safetensors) load with a small YAML beside them.
 */
public final class TrainedModel implements AutoCloseable {
  private final Diffusion diffusion;
  private final TrainableModel model;
  private final Checkpoint checkpoint;

  private TrainedModel(Diffusion diffusion, TrainableModel model, Checkpoint checkpoint) {
    this.diffusion = diffusion;
    this.model = model;
    this.checkpoint = checkpoint;
  }

  /**
   * Loads a checkpoint folder, or the latest checkpoint of a run folder.
   *
   * @param path a checkpoint folder ({@code .../checkpoints/step-N}) or a run folder
   * @param overrides configuration overrides ({@code backend=djl}, {@code sampling.sampler=ddpm}, ...)
   * @return the loaded model
   * @throws CheckpointException if the folder is not a usable checkpoint
   */
  public static TrainedModel load(Path path, List<String> overrides) {
    Checkpoint c = read(path);
    Path dir = c.directory();
    LoadedConfig loaded = ConfigLoader.readString(c.content().configYaml(), dir.resolve(Checkpoint.CONFIG_FILE).toString(),
        overrides);
    c.content().scheduler().ifPresent(s -> checkConsistent(dir, s, loaded.config().schedule()));
    // sampled again with the noise its samples were drawn with (version 1 when the manifest does not say)
    Diffusion d = Diffusion.open(loaded, c.manifest().map(Manifest::noise).orElse(NoiseVersion.ZIGGURAT));
    TrainableModel m = null;
    try {
      m = d.createModel();
      // every weight file is checked against the model, whichever is sampled with: the model's weights
      // first, then the EMA weights (which then stay loaded when sampling with them)
      Checkpoints.loadWeights(dir, m, c.content().model(), Checkpoint.MODEL_FILE);
      if (c.content().ema().isPresent()) {
        Checkpoints.loadWeights(dir, m, c.content().ema().get(), Checkpoint.EMA_FILE);
        if (!loaded.config().sampling().useEma()) {
          m.loadStateDict(c.content().model());
        }
      }
      return new TrainedModel(d, m, c);
    } catch (RuntimeException e) {
      if (m != null) {
        m.close();
      }
      d.close();
      throw e;
    }
  }

  /**
   * Reads the checkpoint a path names. For a run folder, the newest complete checkpoint (checkpoints are
   * renamed into place when complete, and the list is read without changing anything, so a run that is
   * training at the same time is not disturbed); if the run removes it while it is being read (it keeps
   * only the newest few), the next newest is read.
   */
  private static Checkpoint read(Path path) {
    Path dir = resolve(path);
    if (dir != null) {
      return Checkpoint.read(dir);
    }
    Path checkpoints = Files.isDirectory(path.resolve("checkpoints")) ? path.resolve("checkpoints") : path;
    for (int attempt = 0; ; attempt++) {
      List<Path> all = CheckpointStore.listIn(checkpoints);
      if (all.isEmpty()) {
        throw noCheckpointYet(path, checkpoints);
      }
      Path latest = all.get(all.size() - 1);
      try {
        return Checkpoint.read(latest);
      } catch (CheckpointException e) {
        if (attempt >= 3 || Files.isDirectory(latest)) {
          throw e;
        }
        // pruned by the run while being read: take the newest again
      }
    }
  }

  /** A checkpoint folder itself, or null for a run folder (or a checkpoints/ folder). */
  private static Path resolve(Path path) {
    if (!Files.exists(path)) {
      throw new CheckpointException(path + ": no such checkpoint folder");
    }
    if (!Files.isDirectory(path)) {
      throw new CheckpointException(path + ": not a folder; pass a checkpoint folder (with model.safetensors) or a run folder");
    }
    if (Files.exists(path.resolve(Checkpoint.MODEL_FILE), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return path;
    }
    return null;
  }

  private static CheckpointException noCheckpointYet(Path path, Path checkpoints) {
    if (!Files.isDirectory(checkpoints) || path.equals(checkpoints)) {
      return new CheckpointException(path + ": missing " + Checkpoint.MODEL_FILE
          + " (not a checkpoint folder, and no checkpoints/ inside)");
    }
    return new CheckpointException(path + ": no checkpoint yet; "
        + FolderLock.owner(path).map(o -> "the run is still training (" + o + ") and saves its first checkpoint "
            + "after training.checkpoint_every epochs; sample again then")
            .orElse("the run stopped before it saved one; train it again"));
  }

  private static void checkConsistent(Path dir, SchedulerConfig s, ScheduleConfig c) {
    String where = dir.resolve(Checkpoint.SCHEDULER_FILE) + ": ";
    mismatch(where, "num_train_timesteps", s.numTrainTimesteps(), c.numTrainTimesteps());
    mismatch(where, "beta_schedule", s.betaSchedule().configName(), c.betaSchedule().configName());
    mismatch(where, "prediction_type", s.predictionType().configName(), c.predictionType().configName());
    mismatch(where, "rescale_betas_zero_snr", s.rescaleBetasZeroSnr(), c.rescaleBetasZeroSnr());
    mismatch(where, "beta_start", s.betaStart(), c.betaStart());
    mismatch(where, "beta_end", s.betaEnd(), c.betaEnd());
  }

  private static void mismatch(String where, String key, Object scheduler, Object config) {
    if (!Objects.equals(scheduler, config)) {
      throw new CheckpointException(where + key + " is " + scheduler + " but config.yaml's schedule." + key + " is "
          + config + "; the two files must describe the same schedule");
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
   * The model, holding the sampling weights (EMA if the checkpoint has them and {@code sampling.use_ema}).
   *
   * @return the model
   */
  public TrainableModel model() {
    return model;
  }

  /**
   * The checkpoint read.
   *
   * @return the checkpoint
   */
  public Checkpoint checkpoint() {
    return checkpoint;
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

  @Override
  public void close() {
    model.close();
    diffusion.close();
  }
}
