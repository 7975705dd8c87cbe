package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.ConfigWriter;
import io.github.diffusion4j.config.DiffusionConfig;
import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.CheckpointContent;
import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.io.Provenance;
import io.github.diffusion4j.io.SchedulerConfig;
import io.github.diffusion4j.io.TorchCheckpoint;
import io.github.diffusion4j.model.DdpmUNetSpec;
import io.github.diffusion4j.model.DiffusersConversion;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.TimestepSpacing;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The DDPM and DDIM authors' checkpoints in one step: a {@code torch.save} file of their PyTorch {@code Model}'s
 * state dict (pesser/pytorch_diffusion's conversions of Ho et al.'s CIFAR-10, LSUN and CelebA-HQ models;
 * ermongroup/ddim's {@code ckpt.pth}, a list {@code [model, optimizer, epoch, step, ema]}), read without Python
 * ({@link TorchCheckpoint}), written as a diffusion4j checkpoint folder ({@code model.kind: ddpm}: the same tensor
 * names) or as a diffusers {@code DDPMPipeline} folder.
 *
 * <p>The architecture follows from the tensors' names and shapes ({@link DdpmUNetSpec#fromLayout}); the image size
 * is not in a state dict: it is given, or taken from the published shapes ({@code ch_mult} [1, 2, 2, 2]: 32,
 * [1, 2, 2, 2, 4]: 64, [1, 1, 2, 2, 4, 4]: 256). The schedule is the authors' (linear from 1e-4 to 0.02 over
 * T = 1000, predicting the noise); the sampler DDIM with 50 steps, the predicted {@code x0} clipped to [-1, 1] as
 * the authors sample. A DataParallel {@code module.} prefix is removed. In a DDIM list the last state dict of the
 * model's layout (the EMA weights, which the authors sample with) is taken unless an entry is named.
 */
public final class DdpmImport {
  private DdpmImport() {}

  /** What to write. */
  public enum Format {
    /** A diffusion4j checkpoint folder ({@code model.safetensors} in the authors' names, {@code config.yaml}). */
    DIFFUSION4J,
    /** A diffusers {@code DDPMPipeline} folder. */
    DIFFUSERS
  }

  /**
   * How to convert.
   *
   * @param imageSize the image size, or empty to take it from the published shapes
   * @param entry where in the file the state dict is ({@code ""}, {@code "[0]"}, {@code "ema"}, ...), or empty to
   *     choose
   * @param format what to write
   */
  public record Options(OptionalInt imageSize, Optional<String> entry, Format format) {
    /**
     * Checks for nulls.
     *
     * @param imageSize the image size, or empty
     * @param entry the entry, or empty
     * @param format what to write
     */
    public Options {
      if (imageSize == null || entry == null || format == null) {
        throw new IllegalArgumentException("imageSize, entry and format must not be null (use empty)");
      }
    }

    /**
     * The defaults: the image size from the published shapes, the state dict chosen, a diffusion4j folder.
     *
     * @return the options
     */
    public static Options defaults() {
      return new Options(OptionalInt.empty(), Optional.empty(), Format.DIFFUSION4J);
    }
  }

  /**
   * What was converted.
   *
   * @param directory the folder written
   * @param spec the architecture found
   * @param entry where the state dict was in the file
   * @param imageSizeGuessed whether the image size was taken from the published shapes
   */
  public record Result(Path directory, DdpmUNetSpec spec, String entry, boolean imageSizeGuessed) {}

  /** The image size of each published channel layout. */
  private static final Map<List<Integer>, Integer> PUBLISHED = Map.of(List.of(1, 2, 2, 2), 32,
      List.of(1, 2, 2, 2, 4), 64, List.of(1, 1, 2, 2, 4, 4), 256);

  /**
   * Converts a checkpoint.
   *
   * @param file the {@code torch.save} file
   * @param out the folder to write (replaced if it exists)
   * @param options how
   * @return what was converted
   * @throws CheckpointException naming the file if it holds no state dict of the authors' model, or writing fails
   */
  public static Result convert(Path file, Path out, Options options) {
    StateDict weights;
    String entry;
    DdpmUNetSpec spec;
    OptionalInt given = options.imageSize();
    try (TorchCheckpoint c = TorchCheckpoint.open(file)) {
      entry = options.entry().orElseGet(() -> choose(c, file));
      if (!c.stateDictNames().contains(entry)) {
        throw new CheckpointException(file + ": no state dict at '" + entry + "'; there are state dicts at "
            + c.stateDictNames());
      }
      // the names and shapes first: a tensor the model does not have (a BatchNorm's int64 num_batches_tracked, an
      // empty tensor) is named as any entry it does not expect, before a parameter's dtype is checked
      Map<String, int[]> shapes = stripPrefix(c.shapes(entry));
      DdpmUNetSpec probe;
      try {
        probe = DdpmUNetSpec.fromLayout(shapes, 1 << 10, 1000, 0.0);
      } catch (IllegalArgumentException e) {
        throw new CheckpointException(file + ": " + where(entry) + "is not the DDPM authors' Model: " + e.getMessage());
      }
      Integer guess = PUBLISHED.get(probe.channelMult());
      if (given.isEmpty() && guess == null) {
        throw new CheckpointException(file + ": ch_mult " + probe.channelMult() + " is none of the published models'; "
            + "give the image size (--image-size)");
      }
      int size = given.orElse(guess == null ? 0 : guess);
      try {
        spec = DdpmUNetSpec.fromLayout(shapes, size, 1000, size <= 64 ? 0.1 : 0.0);
      } catch (IllegalArgumentException e) {
        throw new CheckpointException(file + ": " + where(entry) + "with image size " + size + ": " + e.getMessage());
      }
      weights = stripPrefix(c.parameters(entry));
    }
    try {
      // before anything is written, in either format: a NaN or infinite weight (a diverged or damaged checkpoint)
      // was written to a diffusion4j folder that no command could then load, and the diffusers conversion named
      // neither the file nor the entry
      weights.requireLayout(spec.parameterShapes(), file + ": " + where(entry).trim());
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(e.getMessage());
    }
    SchedulerConfig scheduler = authorsScheduler();
    if (options.format() == Format.DIFFUSERS) {
      DiffusersFolder.write(out, DiffusersConversion.config(spec), DiffusersConversion.weights(spec, weights), scheduler);
    } else {
      String yaml = PublishedConfigs.yaml(spec.imageShape(), List.of("kind: ddpm",
          "base_channels: " + spec.baseChannels(), "channel_mult: " + spec.channelMult(),
          "num_res_blocks: " + spec.numResBlocks(), "attn_resolutions: " + spec.attnResolutions(),
          "dropout: " + spec.dropout()), scheduler);
      DiffusionConfig config = ConfigLoader.loadString(yaml, file + " (converted)");
      StateDict ordered = order(weights, spec);
      Checkpoint.write(out, CheckpointContent.of(ordered, ConfigWriter.toYaml(config)).withScheduler(scheduler),
          Provenance.now("pytorch", config.seed()));
    }
    return new Result(out, spec, entry, given.isEmpty());
  }

  private static String where(String entry) {
    return entry.isEmpty() ? "the state dict " : "the state dict at '" + entry + "' ";
  }

  /** The authors' schedule and sampling: linear betas, epsilon, fixed_large, x0 clipped, leading DDIM steps. */
  static SchedulerConfig authorsScheduler() {
    return new SchedulerConfig("DDPMScheduler", ScheduleSpec.linear(1000), PredictionType.EPSILON,
        VarianceType.FIXED_LARGE, true, 1.0, true, 0, TimestepSpacing.LEADING, false, 0.995, 1.0);
  }

  /** The model's state dict: the only one, else the last with the first one's names (the EMA of a DDIM list). */
  private static String choose(TorchCheckpoint c, Path file) {
    List<String> names = c.stateDictNames();
    if (names.isEmpty()) {
      throw new CheckpointException(file + ": holds no state dict (a dict of tensors by name); it holds "
          + c.describeRoot());
    }
    String chosen = names.get(0);
    for (String n : names) {
      if (c.shapes(n).keySet().equals(c.shapes(names.get(0)).keySet())) {
        chosen = n;
      }
    }
    return chosen;
  }

  private static boolean prefixed(java.util.Set<String> names) {
    return !names.isEmpty() && names.stream().allMatch(n -> n.startsWith("module."));
  }

  private static Map<String, int[]> stripPrefix(Map<String, int[]> shapes) {
    if (!prefixed(shapes.keySet())) {
      return shapes;
    }
    Map<String, int[]> out = new java.util.LinkedHashMap<>();
    shapes.forEach((k, v) -> out.put(k.substring("module.".length()), v));
    return out;
  }

  private static StateDict stripPrefix(StateDict weights) {
    if (!prefixed(weights.names())) {
      return weights;
    }
    StateDict.Builder b = StateDict.builder();
    weights.entries().forEach((k, v) -> b.put(k.substring("module.".length()), v));
    return b.build();
  }

  private static StateDict order(StateDict weights, DdpmUNetSpec spec) {
    StateDict.Builder b = StateDict.builder();
    for (String name : spec.parameterShapes().keySet()) {
      FloatArray a = weights.get(name);
      b.put(name, a);
    }
    return b.build();
  }
}
