package io.github.diffusion4j.cli;

import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.TrainedModel;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.tensor.Shape;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffusion sample}: samples a checkpoint on any backend. */
@Command(name = "sample", mixinStandardHelpOptions = true,
    description = {"Samples images from a checkpoint (on either backend, whichever trained it).",
        "--out FILE.png writes a grid; FILE.npy or FILE.safetensors the raw samples (float32 N x C x H x W in [0, 1])."})
final class SampleCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "A checkpoint folder or a run folder.")
  Path checkpoint;

  @Option(names = "--sampler", paramLabel = "NAME", description = "ddpm, ddim or a registered sampler (default: the config's).")
  String sampler;

  @Option(names = "--steps", paramLabel = "N", description = "Inference steps (default: the config's).")
  Integer steps;

  @Option(names = "--eta", paramLabel = "E", description = "DDIM's eta, at least 0 (0: deterministic).")
  Double eta;

  @Option(names = "--count", paramLabel = "N", defaultValue = "64", description = "Number of images (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Noise seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--backend", paramLabel = "NAME", description = "Backend to sample on (default: the config's).")
  String backend;

  @Option(names = "--out", paramLabel = "FILE", defaultValue = "samples.png", description = "Output (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--gif", paramLabel = "FILE", description = "Also write the denoising trajectory as an animated GIF.")
  Path gif;

  @Option(names = "--frames", paramLabel = "N", description = "Also write a strip of N intermediate steps (FILE-frames.png).")
  Integer frames;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a key of the checkpoint's config.")
  List<String> overrides = new ArrayList<>();

  @Override
  public Integer call() {
    if (count < 1) {
      throw new BadInputException("--count " + count + ": must be at least 1");
    }
    if (frames != null && frames < 2) {
      throw new BadInputException("--frames " + frames + ": must be at least 2");
    }
    OutputFiles.format("--out", out);
    OutputFiles.checkWritable("--out", out);
    if (gif != null) {
      if (!gif.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gif")) {
        throw new BadInputException("--gif " + gif + ": the file name must end in .gif");
      }
      OutputFiles.checkWritable("--gif", gif);
    }
    if (frames != null) {
      OutputFiles.checkWritable("--frames (the strip " + sibling(out, "-frames.png").getFileName() + ")",
          sibling(out, "-frames.png"));
    }
    List<String> all = SamplingOverrides.of(overrides, backend, sampler, eta);
    // what the output cannot hold is refused before the model is loaded, where its configuration says the shape
    TrainedModel.imageShape(checkpoint, all).ifPresent(this::checkOutputs);
    PrintWriter o = spec.commandLine().getOut();
    try (TrainedModel m = loadFor(checkpoint, all, steps, spec.commandLine().getErr())) {
      Diffusion d = m.diffusion();
      Sampler s = d.sampler();
      SamplingRequest request = d.request(count, seed);
      Shape image = d.imageShape();
      checkOutputs(image);
      boolean trajectory = gif != null || frames != null;
      int keep = trajectory ? Math.min(Math.min(count, gif != null ? 16 : 4), d.samplingBatchSize()) : 0;
      int batches = (int) ((count + (long) d.samplingBatchSize() - 1) / d.samplingBatchSize());
      SamplingConsole progress = new SamplingConsole(s.name(), TrainingConsole.isTerminal(), keep,
          frames != null ? Math.max(frames, 50) : 50).batches(batches);
      // Ctrl-C (SIGINT) or SIGTERM interrupts the sampling, which ends before its next step; closing the output
      // (before the guard lets the JVM go) deletes the temporary the samples stream into (it can be gigabytes)
      Thread sampling = Thread.currentThread();
      try (InterruptGuard guard = new InterruptGuard(sampling::interrupt);
          OutputFiles.SampleOutput output = OutputFiles.samples("--out", out, count, image, Map.of("range", "[0, 1]",
              "sampler", s.name(), "seed", Long.toString(seed), "steps", Integer.toString(request.plan().size())))) {
        d.sampleImages(m.model(), s, request, progress, output);
        output.commit();
      }
      o.println("wrote " + out + " (" + count + (count == 1 ? " image, " : " images, ") + s.name() + ", " + request.plan().size() + " steps, "
          + d.backend().name() + ")");
      if (gif != null) {
        OutputFiles.writeGif(gif, progress.frames(), image);
        o.println("wrote " + gif);
      }
      if (frames != null) {
        Path strip = sibling(out, "-frames.png");
        List<float[]> f = progress.frames();
        List<float[]> firstRows = new ArrayList<>();
        for (float[] frame : f) {
          firstRows.add(java.util.Arrays.copyOf(frame, Math.min(frame.length, 4 * image.size())));
        }
        OutputFiles.writeFrames(strip, firstRows, progress.frameSteps(), image, request.plan().size(), frames);
        o.println("wrote " + strip);
      }
    }
    return DiffusionCli.OK;
  }

  /** Refuses what the outputs asked for cannot hold for {@code count} images of {@code image}. */
  private void checkOutputs(Shape image) {
    OutputFiles.checkCapacity("--out", out, count, image);
    if (gif != null) {
      OutputFiles.checkDrawable("--gif", gif, image, "leave --gif out");
    }
    if (frames != null) {
      OutputFiles.checkDrawable("--frames (the strip " + sibling(out, "-frames.png").getFileName() + ")",
          sibling(out, "-frames.png"), image, "leave --frames out");
    }
  }

  /** Loads a checkpoint, validating {@code --steps} against its schedule, as {@link #load} says. */
  static TrainedModel loadFor(Path checkpoint, List<String> overrides, Integer steps, PrintWriter err) {
    List<String> all = SamplingOverrides.withSteps(overrides, steps);
    try {
      return load(checkpoint, all, err);
    } catch (RuntimeException e) {
      throw SamplingOverrides.forSteps(steps, e);
    }
  }

  /** Loads a checkpoint, saying so on {@code err} when the load takes longer than {@link LoadNotice#DELAY}. */
  static TrainedModel load(Path checkpoint, List<String> overrides, PrintWriter err) {
    try (LoadNotice notice = new LoadNotice(err, checkpoint, LoadNotice.DELAY)) {
      return TrainedModel.load(checkpoint, overrides);
    }
  }

  static Path sibling(Path file, String suffix) {
    String n = file.getFileName().toString();
    int dot = n.lastIndexOf('.');
    String stem = dot > 0 ? n.substring(0, dot) : n;
    return file.resolveSibling(stem + suffix);
  }
}
