package io.github.diffusion4j.cli;

import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.TrainedModel;
import io.github.diffusion4j.sampling.ImageToImage;
import io.github.diffusion4j.sampling.Resampling;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplerProvider;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffusion sample}: samples a checkpoint on any backend. */
@Command(name = "sample", mixinStandardHelpOptions = true,
    description = {"Samples images from a checkpoint (on either backend, whichever trained it).",
        "--out FILE.png writes a grid; FILE.npy or FILE.safetensors the raw samples (float32 N x C x H x W in [0, 1]).",
        "--init FILE|DIR starts from images instead of noise (SDEdit): each is noised part of the way up and sampled "
        + "back down, the last floor(steps x --strength) steps of the plan; sample i starts from image i mod the "
        + "number of images.",
        "--init FILE|DIR --mask FILE|DIR inpaints (RePaint): sampling walks the whole plan from noise and after every "
        + "step puts back the images where their masks are black; white is regenerated (--resample J,R: RePaint's "
        + "resampling)."})
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

  @Option(names = "--count", paramLabel = "N",
      description = "Number of images (default: " + DEFAULT_COUNT + ", or one per --init image).")
  Integer count;

  @Option(names = "--init", paramLabel = "FILE|DIR", split = ",",
      description = "Start from these images (PNG, JPEG, BMP, GIF; a folder: all its images), centre-cropped and "
          + "resized to the model's images; comma-separated (a file whose name has a comma: give its folder).")
  List<Path> init;

  @Option(names = "--strength", paramLabel = "S",
      description = "With --init: how far up the images are noised, in (0, 1]; 1 keeps little of them (default: "
          + DEFAULT_STRENGTH + ").")
  Double strength;

  @Option(names = "--mask", paramLabel = "FILE|DIR", split = ",",
      description = "With --init: inpaint. WHITE (gray level 128 or more) = regenerate, BLACK = keep the --init image; "
          + "gray or RGB PNG, JPEG, BMP, GIF, each its image's size (fitted as it is, then thresholded); one mask for "
          + "all --init images, or one each in the same order (a folder: all its images). Not with --strength.")
  List<Path> mask;

  @Option(names = "--resample", paramLabel = "J,R",
      description = "With --mask: RePaint's resampling, jump back J steps, walk each jumping step R times in all "
          + "(the paper: 10,10); J below the steps; steps + (R-1) x J x ceil(steps/J - 1) model calls (10,10 of 50 "
          + "steps: 410). Default: none.")
  String resample; // one J,R pair, parsed by resampling() (CommaInts)

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

  /** The images sampled when neither {@code --count} nor {@code --init} says how many. */
  static final int DEFAULT_COUNT = 64;
  /** {@code --strength}'s default, diffusers' image-to-image pipelines'. */
  static final double DEFAULT_STRENGTH = 0.8;

  @Override
  public Integer call() {
    SamplingOverrides.refuseTakenElsewhere(overrides, java.util.Map.of(
        "seed", "sample takes its noise seed from --seed (default 0), not from the configuration; give --seed VALUE",
        "sampling.count", "sample takes the number of images from --count (default " + DEFAULT_COUNT + ", or one per "
            + "--init image), not from the configuration; give --count VALUE"));
    if (count != null && count < 1) {
      throw new BadInputException("--count " + count + ": must be at least 1");
    }
    if (strength != null && init == null) {
      throw new BadInputException("--strength " + strength + ": only with --init (how far up the --init images are "
          + "noised)");
    }
    if (mask != null && init == null) {
      throw new BadInputException("--mask: only with --init (the images whose black mask region is kept; the white "
          + "region is regenerated)");
    }
    if (resample != null && mask == null) {
      throw new BadInputException("--resample: only with --mask (RePaint's resampling of an inpainting)");
    }
    Resampling resampling = resampling();
    if (mask != null && strength != null) {
      throw new BadInputException("--strength " + strength + ": not with --mask (inpainting samples the whole plan "
          + "from noise; --strength is image-to-image's, --init without --mask)");
    }
    if (strength != null && !(strength > 0 && strength <= 1)) {
      throw new BadInputException("--strength " + strength + ": must be in (0, 1] (1 noises the --init images all "
          + "the way up)");
    }
    if (frames != null && frames < 2) {
      throw new BadInputException("--frames " + frames + ": must be at least 2");
    }
    OutputFiles.format("--out", out);
    OutputFiles.checkWritable("--out", out);
    if (gif != null) {
      if (!OutputFiles.fileName("--gif", gif).toLowerCase(java.util.Locale.ROOT).endsWith(".gif")) {
        throw new BadInputException("--gif " + gif + ": the file name must end in .gif");
      }
      OutputFiles.checkWritable("--gif", gif);
    }
    if (frames != null) {
      OutputFiles.checkWritable("--frames (the strip " + sibling(out, "-frames.png").getFileName() + ")",
          sibling(out, "-frames.png"));
    }
    List<String> all = SamplingOverrides.of(overrides, backend, sampler, eta);
    // the --init images and what the output cannot hold are checked before the model is loaded, where its
    // configuration says the shape
    Optional<Shape> known = TrainedModel.imageShape(checkpoint, all);
    InputImages checked = init == null ? null : known.map(shape -> InputImages.of("--init", init, shape)).orElse(null);
    InputMasks checkedMasks = mask == null || checked == null ? null
        : InputMasks.of(mask, checked, known.orElseThrow());
    known.ifPresent(shape -> checkOutputs(shape, count(checked)));
    PrintWriter o = spec.commandLine().getOut();
    // Ctrl-C (SIGINT) or SIGTERM while the model loads says so at once (InterruptGuard.load); later it interrupts the
    // sampling, which ends before its next step; closing the output (before the guard lets the JVM go) deletes the
    // temporary the samples stream into (it can be gigabytes); once every sample is drawn, a signal waits for the
    // output's commit; a GIF or strip being written afterwards is abandoned with its temporary deleted, as the guard
    // covers them too
    Thread sampling = Thread.currentThread();
    try (InterruptGuard guard = new InterruptGuard(sampling::interrupt);
        TrainedModel m = guard.load(o, "nothing was written to " + out,
            () -> loadFor(checkpoint, all, steps, spec.commandLine().getErr()))) {
      if (m == null) {
        return DiffusionCli.FAILURE; // a signal came while it loaded: said, and the JVM is ending
      }
      Diffusion d = m.diffusion();
      Sampler s = d.sampler();
      Shape image = d.imageShape();
      InputImages inits;
      InputMasks masks;
      try { // read here where only the model says the images' shape: a signal meanwhile cuts the reading short
        inits = init != null && checked == null ? InputImages.of("--init", init, image) : checked;
        masks = mask != null && checkedMasks == null ? InputMasks.of(mask, inits, image) : checkedMasks;
      } catch (RuntimeException e) {
        return guard.said(e, o, "nothing was written to " + out); // bad input of its own is rethrown
      }
      int total = count(inits);
      checkOutputs(image, total);
      SamplingRequest request = d.request(total, seed);
      double strengthUsed = strength == null ? DEFAULT_STRENGTH : strength;
      Timesteps walked = inits == null || masks != null ? request.plan() : walked(request.plan(), strengthUsed);
      boolean trajectory = gif != null || frames != null;
      int keep = trajectory ? Math.min(Math.min(total, gif != null ? 16 : 4), d.samplingBatchSize()) : 0;
      int batches = (int) ((total + (long) d.samplingBatchSize() - 1) / d.samplingBatchSize());
      SamplingConsole progress = new SamplingConsole(s.name(), TrainingConsole.isTerminal(), keep,
          frames != null ? Math.max(frames, 50) : 50).batches(batches);
      int stepsPerBatch = modelCalls(resampling, request.plan().size());
      if (!resampling.isNone()) {
        progress.stepsPerBatch(stepsPerBatch);
      }
      try (SamplingConsole bar = progress) {
        try (OutputFiles.SampleOutput output = OutputFiles.samples("--out", out, total, image,
            metadata(d, s, request.plan(), walked, inits, masks, resampling, strengthUsed))) {
          if (inits == null) {
            d.sampleImages(m.model(), s, request, progress, output);
          } else if (masks != null) {
            inpaint(m, s, request, resampling, inits, masks, progress, output);
          } else {
            sampleFromImages(m, s, request, inits, strengthUsed, progress, output);
          }
          guard.finish(output::commit); // every sample is drawn: a signal now waits for the file
        } catch (RuntimeException e) { // the sampling's cancellation (or a failed write)
          bar.close(); // the progress line ends before the message
          return guard.said(e, o, "nothing was written to " + out); // said before the guard lets the JVM go (it was silent)
        }
        o.println("wrote " + out + " (" + total + (total == 1 ? " image, " : " images, ") + s.name() + ", "
            + (inits == null ? request.plan().size() + " steps, "
                : masks != null ? request.plan().size() + " steps" + (resampling.isNone() ? ""
                    : " resampled to " + stepsPerBatch) + ", inpainting the --init images where --mask is white, "
                : walked.size() + " of " + request.plan().size() + " steps from --init at strength " + strengthUsed
                    + ", ")
            + d.backend().name() + ")");
        // a signal while the GIF or the strip is written (after the samples are) ends that write, its temporary
        // deleted: said here, inside the guard (past it, the JVM went before the error was printed: no word at all)
        Path strip = frames != null ? sibling(out, "-frames.png") : null;
        if (gif != null) {
          try {
            OutputFiles.writeGif(gif, progress.frames(), image);
          } catch (RuntimeException e) {
            return guard.said(e, o, "nothing was written to " + gif + (strip != null ? " nor " + strip : "")
                + " (" + out + " was written)");
          }
          o.println("wrote " + gif);
        }
        if (frames != null) {
          List<float[]> f = progress.frames();
          List<float[]> firstRows = new ArrayList<>();
          for (float[] frame : f) {
            firstRows.add(java.util.Arrays.copyOf(frame, Math.min(frame.length, 4 * image.size())));
          }
          try {
            OutputFiles.writeFrames(strip, firstRows, progress.frameSteps(), image,
                resampling.isNone() ? walked.size() : stepsPerBatch, frames);
          } catch (RuntimeException e) {
            return guard.said(e, o, "nothing was written to " + strip + " (" + out + (gif != null ? " and " + gif + " were" : " was")
                + " written)");
          }
          o.println("wrote " + strip);
        }
      }
    }
    return DiffusionCli.OK;
  }

  /** {@code --resample J,R} as the api's value, or none; a bad pair is a bad-input error naming the option. */
  private Resampling resampling() {
    if (resample == null) {
      return Resampling.NONE;
    }
    int[] pair = CommaInts.parse(resample, 2);
    if (pair == null) {
      throw new BadInputException("--resample " + resample + ": give J,R, two whole numbers (jump length and "
          + "resamples, e.g. 10,10)");
    }
    int j = pair[0];
    int r = pair[1];
    if (j < 1) {
      throw new BadInputException("--resample " + j + "," + r + ": J (the jump length, in steps) must be at least 1 "
          + "(e.g. 10,10)");
    }
    if (r < 1) {
      throw new BadInputException("--resample " + j + "," + r + ": R (the walks of each jumping step) must be at "
          + "least 1 (1: no resampling; e.g. 10,10)");
    }
    return new Resampling(j, r);
  }

  /** The reverse steps of one batch's walk; a walk too long to hold is a bad-input error naming {@code --resample}. */
  private static int modelCalls(Resampling resampling, int steps) {
    try {
      return resampling.modelCalls(steps);
    } catch (IllegalArgumentException e) {
      throw new BadInputException("--resample " + resampling.jumpLength() + "," + resampling.resamples() + ": "
          + e.getMessage(), e);
    }
  }

  /** The number of images: {@code --count}, else one per {@code --init} image, else {@link #DEFAULT_COUNT}. */
  private int count(InputImages inits) {
    if (inits == null) {
      return count == null ? DEFAULT_COUNT : count;
    }
    if (count != null && count < inits.size()) {
      throw new BadInputException("--count " + count + ": fewer than the " + inits.size() + " --init images; give "
          + "at least " + inits.size() + " (sample i starts from image i mod " + inits.size() + "), or fewer images");
    }
    return count == null ? inits.size() : count;
  }

  /** The plan's positions walked from the --init images, or a bad-input error naming --strength. */
  private static Timesteps walked(Timesteps plan, double strength) {
    try {
      return ImageToImage.plan(plan, strength);
    } catch (IllegalArgumentException e) {
      throw new BadInputException("--" + e.getMessage(), e);
    }
  }

  /**
   * The output's metadata: what reproduces the samples with the same checkpoint ({@code steps} is the plan's, as
   * {@code --steps}; {@code eta} for a sampler that takes it (DDIM's draws noise where it is above 0); the backend; the {@code --set}
   * overrides as given); with --init also what was walked.
   */
  private Map<String, String> metadata(Diffusion d, Sampler s, Timesteps plan, Timesteps walked, InputImages inits,
      InputMasks masks, Resampling resampling, double strength) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put("range", "[0, 1]");
    m.put("sampler", s.name());
    m.put("seed", Long.toString(seed));
    m.put("steps", Integer.toString(plan.size()));
    SamplerProvider provider = d.samplerProviders().get(s.name());
    if (provider != null && provider.takesEta()) {
      m.put("eta", Double.toString(d.config().sampling().eta()));
    }
    m.put("backend", d.config().backend());
    if (!overrides.isEmpty()) {
      m.put("set", String.join("; ", overrides));
    }
    if (inits != null) {
      m.put("init", inits.size() == 1 ? inits.file(0).getFileName().toString() : inits.size() + " images");
    }
    if (masks != null) {
      m.put("mask", masks.size() == 1 ? masks.file(0).getFileName().toString() : masks.size() + " masks");
      m.put("inpainting", "repaint (white: regenerated, black: kept)");
      if (!resampling.isNone()) {
        m.put("resample", resampling.jumpLength() + "," + resampling.resamples());
      }
    } else if (inits != null) {
      m.put("strength", Double.toString(strength));
      m.put("walked_steps", Integer.toString(walked.size()));
    }
    return m;
  }

  /**
   * Samples from the {@code --init} images batch by batch ({@link TrainedModel#sampleFromImages}): sample i starts from
   * image i mod their number (a picture decoded again is decoded once per run of samples that share it).
   */
  private static void sampleFromImages(TrainedModel m, Sampler s, SamplingRequest request, InputImages inits,
      double strength, SamplingConsole progress, OutputFiles.SampleOutput output) {
    int[] lastIndex = {-1};
    float[][] last = {null};
    m.sampleFromImages(s, request, strength, i -> {
      int index = (int) (i % inits.size());
      if (index != lastIndex[0]) {
        last[0] = inits.read(index);
        lastIndex[0] = index;
      }
      return last[0];
    }, progress, output);
  }

  /**
   * Inpaints the {@code --init} images batch by batch ({@link TrainedModel#inpaint}): sample i takes image i mod their
   * number and that image's mask (or the one mask), the whole plan from its own noise.
   */
  private static void inpaint(TrainedModel m, Sampler s, SamplingRequest request, Resampling resampling,
      InputImages inits, InputMasks masks, SamplingConsole progress, OutputFiles.SampleOutput output) {
    int[] lastIndex = {-1, -1};
    float[][] last = {null, null};
    m.inpaint(s, request, resampling, i -> {
      int index = (int) (i % inits.size());
      if (index != lastIndex[0]) {
        last[0] = inits.read(index);
        lastIndex[0] = index;
      }
      return last[0];
    }, i -> {
      int index = (int) (i % inits.size());
      if (index != lastIndex[1]) {
        last[1] = masks.forPicture(index);
        lastIndex[1] = index;
      }
      return last[1];
    }, progress, output);
  }

  /** Refuses what the outputs asked for cannot hold for {@code count} images of {@code image}. */
  private void checkOutputs(Shape image, int count) {
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
    TrainedModel m;
    try {
      m = load(checkpoint, all, err);
    } catch (RuntimeException e) {
      throw SamplingOverrides.forSteps(steps, e);
    }
    // a --set that the rest leaves without effect (steps_offset on a trailing plan), as train and config --check
    // warn of it; not the checkpoint's config.yaml, which restates every key (it was sampled without a word)
    for (String ineffective : m.diffusion().loadedConfig().ineffectiveSettings()) {
      if (ineffective.startsWith("--set ")) {
        err.println("diffusion: warning: " + ineffective);
      }
    }
    return m;
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
