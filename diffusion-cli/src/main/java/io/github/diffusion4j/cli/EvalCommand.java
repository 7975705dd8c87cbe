package io.github.diffusion4j.cli;

import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.eval.BoundOptions;
import io.github.diffusion4j.eval.BoundReport;
import io.github.diffusion4j.eval.FrechetDistance;
import io.github.diffusion4j.eval.Gaussian;
import io.github.diffusion4j.eval.QualityAccumulator;
import io.github.diffusion4j.eval.QualityReport;
import io.github.diffusion4j.eval.VariationalBound;
import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.io.SampleReader;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.ScoringReferences;
import io.github.diffusion4j.runtime.TrainedModel;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.VarianceType;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code diffusion eval}: the sample-quality metrics of a checkpoint, or with {@code --bpd} its variational
 * bound on the negative log-likelihood of the evaluation images in bits per dimension.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = {"Samples a checkpoint and scores the samples against real images: pixel-space Frechet distance, "
        + "gradient residual and corner uniformity (KS pooled over all corners, and the mean of the per-corner-and-channel "
        + "tests); prints a table and JSON.",
        "With --samples FILE: scores the samples diffusion sample --out FILE.npy or FILE.safetensors wrote, read "
        + "batch by batch, instead of sampling (the first --count of them; default: all).",
        "With --bpd: the DDPM authors' variational bound on the negative log-likelihood of the evaluation images, in "
        + "bits per dimension (T model evaluations per image; --timesteps K for an unbiased estimate from K), written "
        + "to --out: bpd.json, bpd_terms.jsonl (one line per term) and bpd.png."})
final class EvalCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "A checkpoint folder or a run folder.")
  Path checkpoint;

  @Option(names = "--count", paramLabel = "N", defaultValue = "2000", description = "Samples and real images "
      + "(default: ${DEFAULT-VALUE}); with --bpd, the evaluation images used, from the first (default: all); with "
      + "--samples, the file's first N (default: all of them).")
  int count;

  @Option(names = "--samples", paramLabel = "FILE", description = "Score the samples in this file (the .npy or "
      + ".safetensors diffusion sample --out wrote: float32 N x C x H x W in [0, 1]) instead of sampling; not with "
      + "--sampler, --steps, --seed or --backend, which only say how samples are drawn.")
  Path samples;

  @Option(names = "--bpd", description = "Compute the variational bound in bits per dimension instead of sampling.")
  boolean bpd;

  @Option(names = "--timesteps", paramLabel = "K", description = "With --bpd: evaluate K of the T timesteps per "
      + "image (the decoder term and one from each of K - 1 strata, importance-weighted): an unbiased estimate at K/T "
      + "of the cost (default: all T, the full bound).")
  Integer timesteps;

  @Option(names = "--batch-size", paramLabel = "N", description = "With --bpd: images per model call (default: the "
      + "config's training.batch_size).")
  Integer batchSize;

  @Option(names = "--no-clip", description = "With --bpd: do not clip the predicted x0 to [-1, 1] (the DDPM authors' "
      + "evaluation clips).")
  boolean noClip;

  @Option(names = "--out", paramLabel = "DIR", description = "With --bpd: the folder for bpd.json, bpd_terms.jsonl and "
      + "bpd.png, created if missing (and removed again if the evaluation is interrupted or fails; default: bpd).")
  Path out;

  @Option(names = "--sampler", paramLabel = "NAME", description = "Sampler (default: the config's).")
  String sampler;

  @Option(names = "--steps", paramLabel = "N", description = "Inference steps (default: the config's).")
  Integer steps;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Noise seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--backend", paramLabel = "NAME", description = "Backend (default: the config's).")
  String backend;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON to this file.")
  Path json;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a key of the checkpoint's config.")
  List<String> overrides = new ArrayList<>();

  @Override
  public Integer call() throws IOException {
    // (seed is taken: it draws generated data's reference images; the noise seed is --seed)
    SamplingOverrides.refuseTakenElsewhere(overrides, java.util.Map.of("sampling.count", "eval takes the number of "
        + "samples from --count (default 2000; with --bpd the evaluation images), not from the configuration; give "
        + "--count VALUE"));
    if (bpd) {
      if (samples != null) {
        throw new BadInputException("--samples: not with --bpd (the bound is computed on the evaluation images, not "
            + "on samples)");
      }
      return bound();
    }
    for (Object[] o : new Object[][] {{"--timesteps", timesteps}, {"--batch-size", batchSize}, {"--out", out},
        {"--no-clip", noClip ? true : null}}) {
      if (o[1] != null) {
        throw new BadInputException(o[0] + " applies only to --bpd");
      }
    }
    if (count < 2) {
      throw new BadInputException("--count " + count + ": needs at least 2 samples");
    }
    if (json != null) {
      OutputFiles.checkWritable("--json", json);
    }
    if (samples != null) {
      return scoreFile();
    }
    List<String> all = SamplingOverrides.of(overrides, backend, sampler, null);
    // a count the scoring cannot hold is refused before the load, where the checkpoint's configuration says the shape
    TrainedModel.imageShape(checkpoint, all).ifPresent(shape -> checkHeap(shape, count));
    PrintWriter o = spec.commandLine().getOut();
    // Ctrl-C (SIGINT) or SIGTERM while the model loads says so at once (InterruptGuard.load); later it interrupts the
    // sampling (or the reference images' fit), which ends at its next step; said inside the guard (without one the
    // JVM ended at once without a word); once scored, the report and --json are finished
    Thread evaluating = Thread.currentThread();
    try (InterruptGuard guard = new InterruptGuard(evaluating::interrupt);
        TrainedModel m = guard.load(o, json != null ? "nothing was written to " + json : "nothing was scored",
            () -> SampleCommand.loadFor(checkpoint, all, steps, spec.commandLine().getErr()))) {
      if (m == null) {
        return DiffusionCli.FAILURE; // a signal came while it loaded: said, and the JVM is ending
      }
      Diffusion d = m.diffusion();
      checkReferences(checkpoint, m);
      checkHeap(d, count);
      Sampler s = d.sampler();
      QualityAccumulator samples = new QualityAccumulator(d.imageShape());
      Gaussian reference;
      QualityReport r;
      try (SamplingConsole progress = console(d, s, count)) {
        try {
          d.sampleImages(m.model(), s, d.request(count, seed), progress, (first, images, n) -> samples.add(images));
          reference = d.referenceGaussian(count);
          r = score(d, samples, reference);
        } catch (RuntimeException e) { // the sampling's cancellation
          progress.close(); // the progress line ends before the message
          return guard.said(e, o, json != null ? "nothing was written to " + json : "nothing was scored");
        }
      }
      QualityTable.printTable(o, s.name() + " " + d.plan().size() + " steps", r);
      QualityTable.describeReference(o, spec.commandLine().getErr(), d.referenceSource(), reference.count(), count,
          d.imageShape().size());
      java.util.Map<String, Object> drawn = new java.util.LinkedHashMap<>();
      drawn.put("sampler", s.name());
      drawn.put("steps", d.plan().size());
      drawn.put("seed", seed);
      drawn.put("checkpoint", checkpoint.toAbsolutePath().normalize()); // as given (a run folder: its latest)
      String line = QualityTable.json(r, drawn);
      o.println(line);
      if (json != null) {
        try {
          guard.finishWriting(json, line + "\n"); // a signal now waits for the file
        } catch (RuntimeException e) { // a failed write: said with a signal that came meanwhile, else rethrown
          return guard.said(e, o, "nothing was written to " + json);
        }
      }
      o.flush();
    }
    return DiffusionCli.OK;
  }

  /**
   * {@code eval --samples FILE}: the samples in the file, read batch by batch ({@link SampleReader}, the batches of
   * the sampling, so the accumulator sees what {@code eval} itself would), scored as {@code eval} scores its own.
   */
  private int scoreFile() {
    SamplingOverrides.refuseDrawingOptions(spec.commandLine().getParseResult(),
        List.of("--sampler", "--steps", "--seed", "--backend"), overrides, samples, "it says how eval draws "
            + "its own");
    boolean allSamples = !spec.commandLine().getParseResult().hasMatchedOption("--count");
    // the file's header is checked before the model loads where the configuration says the images' shape
    TrainedModel.imageShape(checkpoint, overrides).ifPresent(shape -> open(shape).close());
    PrintWriter o = spec.commandLine().getOut();
    String nothing = json != null ? "nothing was written to " + json : "nothing was scored";
    try (InterruptGuard guard = new InterruptGuard(Thread.currentThread()::interrupt);
        TrainedModel m = guard.load(o, nothing, () -> SampleCommand.load(checkpoint, overrides,
            spec.commandLine().getErr()))) {
      if (m == null) {
        return DiffusionCli.FAILURE; // a signal came while it loaded: said, and the JVM is ending
      }
      Diffusion d = m.diffusion();
      checkReferences(checkpoint, m);
      QualityReport r;
      Gaussian reference;
      int n;
      try (SampleReader file = open(d.imageShape())) {
        if (!allSamples && count > file.count()) {
          throw new BadInputException("--count " + count + ": more than the " + file.count() + " samples in "
              + samples + "; give at most " + file.count() + " (or leave --count out: all of them)");
        }
        if (file.count() < 2) {
          throw new BadInputException("--samples " + samples + ": " + file.count() + (file.count() == 1 ? " sample"
              : " samples") + "; the Frechet distance needs at least 2");
        }
        n = allSamples ? Math.toIntExact(Math.min(file.count(), Integer.MAX_VALUE)) : count;
        checkHeap(d, n);
        QualityAccumulator acc = new QualityAccumulator(d.imageShape());
        try {
          try {
            file.forEachBatch(n, d.samplingBatchSize(), batch -> {
              if (Thread.currentThread().isInterrupted()) {
                throw new java.util.concurrent.CancellationException("interrupted while scoring " + samples);
              }
              acc.add(batch);
            });
          } catch (IllegalArgumentException e) { // a value outside [0, 1]: the file's, said as bad input
            throw new BadInputException("--samples " + e.getMessage(), e);
          }
          reference = d.referenceGaussian(n);
          r = score(d, acc, reference);
        } catch (RuntimeException e) { // the scoring's cancellation (or a failed read)
          return guard.said(e, o, nothing);
        }
      }
      QualityTable.printTable(o, String.valueOf(samples.getFileName()), r);
      QualityTable.describeReference(o, spec.commandLine().getErr(), d.referenceSource(), reference.count(), n,
          d.imageShape().size());
      String line = QualityTable.json(r, java.util.Map.of("samples", samples.toAbsolutePath().normalize()));
      o.println(line);
      if (json != null) {
        try {
          guard.finishWriting(json, line + "\n");
        } catch (RuntimeException e) {
          return guard.said(e, o, "nothing was written to " + json);
        }
      }
      o.flush();
    }
    return DiffusionCli.OK;
  }

  /** The {@code --samples} file, its header checked against the model's images; a bad file is a bad-input error. */
  private SampleReader open(io.github.diffusion4j.tensor.Shape shape) {
    try {
      return SampleReader.open(samples, shape);
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      throw new BadInputException("--samples " + e.getMessage(), e);
    }
  }

  /**
   * Refuses, before anything is sampled, a model whose samples have no real images to be compared with ({@link
   * ScoringReferences#check}, which {@code diffusion spark eval} makes too), naming {@code --checkpoint}.
   */
  private static void checkReferences(Path checkpoint, TrainedModel m) {
    try {
      ScoringReferences.check(m);
    } catch (ScoringReferences.Unavailable e) {
      throw new BadInputException("--checkpoint " + checkpoint + ": " + e.getMessage(), e);
    }
  }

  /** Refuses {@code --timesteps K} (null: not given) outside {@code [2, T]} for a schedule of {@code t} steps. */
  static void checkTimesteps(Integer timesteps, int t) {
    if (timesteps != null && (timesteps < 2 || timesteps > t)) {
      throw new BadInputException("--timesteps " + timesteps + ": must be in [2, " + t + "] (the decoder term and at "
          + "least one of the " + (t - 1) + " KL terms; " + t + " = all, the full bound)");
    }
  }

  /**
   * Refuses, before anything is sampled, a count whose pixel-space scoring would not fit half of the JVM's heap
   * ({@link FrechetDistance#checkHeap}; the rest is the model's, the batches' and the JVM's).
   */
  static void checkHeap(Diffusion d, int count) {
    checkHeap(d.imageShape(), count);
  }

  /** {@link #checkHeap(Diffusion, int)} for images of a shape known before the model is loaded. */
  static void checkHeap(io.github.diffusion4j.tensor.Shape image, int count) {
    try {
      FrechetDistance.checkHeap(image, count);
    } catch (io.github.diffusion4j.eval.ScoringMemoryException e) {
      throw BadInputException.ofScoringCount(count, e);
    }
  }

  /** {@code eval --bpd}. */
  private int bound() throws IOException {
    // as --sampler and --steps (below): the bound walks no sampling plan, and clips unless --no-clip
    String noPlan = "does not apply to --bpd, which evaluates every training timestep (or --timesteps K of them), not "
        + "a sampling plan";
    String clip = "eval --bpd clips the predicted x0 to [-1, 1] whatever the configuration says; give --no-clip not to";
    SamplingOverrides.refuseTakenElsewhere(overrides, java.util.Map.of(
        "sampling.sampler", noPlan, "sampling.num_inference_steps", noPlan, "sampling.timesteps", noPlan,
        "sampling.timestep_spacing", noPlan, "sampling.steps_offset", noPlan, "sampling.eta", noPlan,
        "sampling.clip_sample", clip, "sampling.clip_sample_range", clip, "sampling.thresholding", clip));
    if (sampler != null || steps != null) {
      throw new BadInputException((sampler != null ? "--sampler" : "--steps") + " " + noPlan);
    }
    boolean allImages = !spec.commandLine().getParseResult().hasMatchedOption("--count");
    if (!allImages && count < 1) {
      throw new BadInputException("--count " + count + ": must be at least 1");
    }
    if (batchSize != null && batchSize < 1) {
      throw new BadInputException("--batch-size " + batchSize + ": must be at least 1");
    }
    Path dir = out != null ? out : Path.of("bpd");
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new BadInputException("--out " + dir + ": is a file; give a folder");
    }
    if (json != null) {
      OutputFiles.checkWritable("--json", json);
    }
    List<String> all = new ArrayList<>(overrides);
    if (backend != null) {
      all.add(ConfigLoader.stringOverride("backend", backend));
    }
    if (timesteps != null) { // before the load: the configuration (a diffusers folder's too) says the schedule's length
      TrainedModel.configuration(checkpoint, all)
          .ifPresent(c -> checkTimesteps(timesteps, c.schedule().spec().numTrainTimesteps()));
    }
    // Ctrl-C (SIGINT) or SIGTERM while the model loads says so at once (InterruptGuard.load); later it interrupts the
    // evaluation, which ends before its next model call and says so before the guard lets the JVM go (before, the
    // JVM ended at once, without a word); a signal once the bound is computed waits for its files, all written (not a
    // new bpd.json beside an older run's bpd_terms.jsonl, nor a temporary). The guard holds from before the folder
    // is made until it is removed again, so no signal leaves it behind.
    try (InterruptGuard guard = new InterruptGuard(Thread.currentThread()::interrupt);
        TrainedModel m = guard.load(spec.commandLine().getOut(), "nothing was written to " + dir,
            () -> SampleCommand.load(checkpoint, all, spec.commandLine().getErr()))) {
      if (m == null) {
        return DiffusionCli.FAILURE; // a signal came while it loaded: said, and the JVM is ending
      }
      Diffusion d = m.diffusion();
      checkTimesteps(timesteps, d.schedule().size()); // the checkpoint read: a run may have saved a newer one
      VarianceType variance = d.config().sampling().varianceType();
      if (variance == VarianceType.TUTORIAL) {
        throw d.loadedConfig().error("sampling.variance_type", "is 'tutorial' (sigma = beta), which is not one of the "
            + "DDPM authors' fixed variances; the bound is defined for fixed_small and fixed_large: add "
            + "--set sampling.variance_type=fixed_small (or fixed_large)");
      }
      Dataset images = d.evalData();
      if (images == null) {
        if (m.fromDiffusersFolder()) {
          throw new BadInputException("--checkpoint " + checkpoint + ": a diffusers folder has no evaluation images; "
              + "give them: --set data.kind=folder --set data.root=DIR --set data.eval_root=DIR (docs/data.md)");
        }
        if (d.config().data().kind() == io.github.diffusion4j.config.DataConfig.Kind.FOLDER) {
          throw d.loadedConfig().error("data.eval_root", "is not set: the bound is computed on the evaluation "
              + "images; add --set data.eval_root=DIR");
        }
        throw d.loadedConfig().error("data.eval_size", "is 0: the bound is computed on the evaluation images; add "
            + "--set data.eval_size=N");
      }
      List<Path> made = outputFolder(dir);
      try {
        return bound(m, d, images, dir, variance, allImages, made, guard);
      } catch (IOException | RuntimeException | Error e) {
        removeFolders(made); // a failed evaluation leaves no folder of its own behind (a folder with files is kept)
        throw e;
      }
    }
  }

  /**
   * {@code eval --bpd} once the model is loaded and {@code dir} is made ({@code made}: the folders it took), under the
   * caller's interrupt guard.
   */
  private int bound(TrainedModel m, Diffusion d, Dataset images, Path dir, VarianceType variance, boolean allImages,
      List<Path> made, InterruptGuard guard) throws IOException {
    int batch = batchSize != null ? batchSize : d.config().training().batchSize();
    BoundOptions options = new BoundOptions(allImages ? 0 : count, batch, seed, timesteps == null ? 0 : timesteps);
    VariationalBound vb = new VariationalBound(d.schedule(), d.predictionType(), variance, !noClip);
    int n = allImages ? images.size() : Math.min(count, images.size());
    long start = System.nanoTime();
    PrintWriter o = spec.commandLine().getOut();
    BoundReport r;
    try {
      r = vb.evaluate(m.model(), d.backend().tensors(), images, options,
          new BoundConsole("bpd " + n + " images", TrainingConsole.isTerminal()));
    } catch (java.util.concurrent.CancellationException e) {
      // the folders made for the files are removed (while the guard holds the JVM, as the line is said: once it
      // lets go, the JVM may end before a later line is printed); without a signal or an interrupt, e is rethrown
      boolean removed = removeFolders(made);
      return guard.said(e, o, "nothing was written to " + dir + (removed ? " (the folder made for it is removed)"
          : ""));
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    printBound(o, r);
    long work = (long) r.images() * r.timestepsPerImage();
    o.printf(Locale.ROOT, "evaluated %d image-timesteps in %.1f s (%.0f per second, %s, batch %d)%n", work,
        seconds, work / seconds, d.backend().name(), batch);
    return writeBound(r, dir, json, guard, o, made);
  }

  /**
   * Deletes the folders {@link #outputFolder} made (deepest first), each only if still empty: nothing the command
   * created is left by an interrupted or failed evaluation.
   *
   * @return whether some were made and all of them are gone
   */
  private static boolean removeFolders(List<Path> made) {
    boolean all = true;
    for (Path f : made) {
      try {
        if (Files.isDirectory(f, LinkOption.NOFOLLOW_LINKS)) {
          Files.deleteIfExists(f);
        } else if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
          all = false; // a file or link that took its name meanwhile: not this command's to delete
        }
      } catch (IOException | SecurityException e) {
        all = false; // not empty (someone else's file), or not deletable: left as it is
      }
    }
    return all && !made.isEmpty();
  }

  /**
   * Writes the bound's files into {@code dir} (and {@code json}, unless null), each atomically, all of them even when
   * a signal comes meanwhile ({@code guard} then waits for them; an interrupt already present is kept for after them),
   * and says so on {@code o}. Where one fails on its own (a full disk) while a signal is pending, the guard's line
   * says which were written and names the failure, as the other commands' finishing writes do (before, the failure
   * was a plain error beside the signal); without a signal the failure is thrown as it was. A failure before any
   * file was written removes the folders the command made ({@code made}, {@link #outputFolder}).
   *
   * @return the command's exit code
   * @throws IOException the write's failure, where no signal came
   */
  static int writeBound(BoundReport r, Path dir, Path json, InterruptGuard guard, PrintWriter o, List<Path> made)
      throws IOException {
    String summary = r.toJson() + "\n";
    Map<Path, FileWriting> writes = new LinkedHashMap<>(); // in the order they are written
    writes.put(dir.resolve("bpd.json"), f -> AtomicFiles.writeString(f, summary));
    writes.put(dir.resolve("bpd_terms.jsonl"), f -> AtomicFiles.writeString(f, String.join("\n", r.termLines()) + "\n"));
    writes.put(dir.resolve("bpd.png"), f -> OutputFiles.writeBoundChart(r, f));
    if (json != null) {
      writes.put(json, f -> AtomicFiles.writeString(f, summary));
    }
    List<Path> files = List.copyOf(writes.keySet());
    List<Path> written = new ArrayList<>();
    try {
      guard.finish(() -> {
        try {
          for (Map.Entry<Path, FileWriting> w : writes.entrySet()) {
            w.getValue().write(w.getKey());
            written.add(w.getKey());
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
    } catch (java.io.UncheckedIOException e) { // a failed write: said with a signal that came meanwhile, else thrown
      String what;
      if (written.isEmpty()) {
        what = "nothing was written to " + dir + (removeFolders(made) ? " (the folder made for it is removed)" : "");
      } else {
        List<String> missing = files.subList(written.size(), files.size()).stream().map(Path::toString).toList();
        what = "only " + join(written) + (written.size() == 1 ? " was" : " were") + " written, not "
            + String.join(", ", missing);
      }
      try {
        return guard.said(e, o, what);
      } catch (java.io.UncheckedIOException noSignal) {
        throw noSignal.getCause(); // as before: the write's own error, for the command to report
      }
    }
    o.println("wrote " + join(written));
    return DiffusionCli.OK;
  }

  /** Writes one of the bound's files, atomically. */
  private interface FileWriting {
    void write(Path file) throws IOException;
  }

  private static String join(List<Path> files) {
    return String.join(", ", files.stream().map(Path::toString).toList());
  }

  /**
   * Creates the output folder (before the long evaluation), or fails with a one-line bad-input error.
   *
   * @return the folders created (the output folder and its missing parents), deepest first, for {@link
   *     #removeFolders} where the evaluation does not complete
   */
  private static List<Path> outputFolder(Path dir) {
    List<Path> missing = new ArrayList<>();
    // a link counts as there, dangling or not: it is the user's, not a folder this command makes (and may remove)
    for (Path p = dir.toAbsolutePath().normalize(); p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS);
        p = p.getParent()) {
      missing.add(p);
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException | SecurityException e) {
      removeFolders(missing);
      throw new BadInputException("--out " + dir + ": cannot create the folder: " + ErrorReporting.message(e));
    }
    if (!io.github.diffusion4j.io.FileProblems.canCreateFilesIn(dir)) {
      removeFolders(missing);
      throw new BadInputException("--out " + dir + ": the folder is not writable");
    }
    return missing;
  }

  static void printBound(PrintWriter out, BoundReport r) {
    out.printf(Locale.ROOT, "%-44s %9s %9s %9s %9s%n", "bits/dim (" + r.images() + " images, " + (r.isEstimate()
        ? "estimate from " + r.timestepsPerImage() + " of " + r.numTrainTimesteps() + " timesteps)"
        : "all " + r.numTrainTimesteps() + " timesteps)"), "total", "prior", "decoder", "KL terms");
    out.printf(Locale.ROOT, "%-44s %9.4f %9.4f %9.4f %9.4f%n", r.predictionType().configName() + ", "
        + r.varianceType().configName() + (r.clipDenoised() ? ", x0 clipped" : ", x0 not clipped"), r.totalBpd(),
        r.priorBpd(), r.decoderBpd(), r.klBpd());
    out.printf(Locale.ROOT, "%-44s %9.4f%n", "standard error", r.standardError());
    out.println(r.toJson());
  }

  /**
   * The quality report of samples (accumulated batch by batch) against the Gaussian of real images. The
   * gradient residual and corner uniformity describe the colour-gradient data only; for other data they
   * are left out (NaN, null in JSON).
   */
  static QualityReport score(Diffusion d, QualityAccumulator samples, Gaussian reference) {
    QualityReport r = samples.report(reference);
    if (d.config().data().kind() != io.github.diffusion4j.config.DataConfig.Kind.GRADIENTS) {
      return r.frechetOnly();
    }
    return r;
  }

  /** A progress bar over all the batches {@code count} images are sampled in. */
  static SamplingConsole console(Diffusion d, Sampler s, int count) {
    int batches = (int) ((count + (long) d.samplingBatchSize() - 1) / d.samplingBatchSize());
    return new SamplingConsole(s.name(), TrainingConsole.isTerminal(), 0, 0).batches(batches);
  }

  static void print(PrintWriter out, String what, QualityReport r) {
    QualityTable.print(out, what, r);
  }
}
