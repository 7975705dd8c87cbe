package io.github.diffusion4j.cli;

import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.eval.Gaussian;
import io.github.diffusion4j.eval.QualityAccumulator;
import io.github.diffusion4j.eval.QualityReport;
import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.RunFolder;
import io.github.diffusion4j.runtime.TrainingRun;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.training.TrainingSummary;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code diffusion demo}: the main job with no files needed: trains the bundled default configuration on
 * the gradient data, samples with DDIM and DDPM, scores the samples, and writes everything into a run
 * folder.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"The main job, no files needed: trains the bundled default config on the colour-gradient data, "
        + "samples with DDIM and DDPM, scores the samples and writes a run folder (printed at the end)."})
final class DemoCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--backend", paramLabel = "NAME", description = "Backend (default: the config's, nd4j).")
  String backend;

  @Option(names = "--out-dir", paramLabel = "DIR", defaultValue = "runs", description = "Where the run folder goes (default: ${DEFAULT-VALUE}).")
  Path outDir;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a key of the default config.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--count", paramLabel = "N", defaultValue = "1000", description = "Samples to score (default: ${DEFAULT-VALUE}).")
  int count;

  @Override
  public Integer call() throws IOException {
    if (count < 2) {
      throw new BadInputException("--count " + count + ": needs at least 2 samples");
    }
    List<String> all = new ArrayList<>();
    all.add(ConfigLoader.stringOverride("output.dir", outDir.toString()));
    String stamp = "demo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    all.add("output.name=" + stamp);
    if (backend != null) {
      all.add(ConfigLoader.stringOverride("backend", backend));
    }
    all.addAll(overrides);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    // one guard from before the configuration is opened to the end, as train's: the opening and the run's start (the
    // backend's load, for seconds with a native engine, then the model's) are loads, so a signal meanwhile says what
    // stands at once and lets the JVM go (they ended it without a word); then the training is asked to stop
    try (InterruptGuard guard = InterruptGuard.beforeTraining();
        Diffusion d = guard.load(out, TrainCommand.NOTHING_TOUCHED,
            () -> Diffusion.open(ConfigLoader.readBundled("default", all)))) {
      if (d == null) {
        return DiffusionCli.FAILURE; // a signal came while it opened: said, and the JVM is ending
      }
      String name = d.config().output().name();
      // the demo's own timestamp (not a --set output.name): another demo's in the same second makes it -2, -3, ...
      RunFolder named = new RunFolder(RunFolder.under(d.config().output().dir(), name).root(), name.equals(stamp));
      try (TrainingRun run = guard.load(out, TrainCommand.notStarted(named), () -> {
        TrainCommand.checkDrawable(d, "the demo always draws them");
        // the scoring's heap, as eval checks it, before the training and the sampling (it ran out of memory after both)
        EvalCommand.checkHeap(d, count);
        out.println("diffusion4j demo: " + d.config().model().kind().configName() + " on "
            + d.imageShape().toCompactString() + " colour gradients, " + d.config().training().epochs()
            + " epochs, backend " + d.backend().name());
        return TrainingRun.start(d, named);
      })) {
        if (run == null) {
          return DiffusionCli.FAILURE; // a signal came while it loaded: said, and the JVM is ending
        }
        RunFolder folder = run.folder();
        guard.nowTraining(run::requestStop);
        out.println("run folder: " + folder.root().toAbsolutePath());
        TrainingSummary s = TrainCommand.runWithProgress(d, run, out);
        RunArtifacts.lossChart(folder, err);
        if (!s.completed()) {
          // the demo has no --resume: the command that continues it (the run folder's resolved configuration)
          Path root = folder.root();
          out.println("interrupted; final checkpoint " + run.lastCheckpoint().map(Path::toString).orElse("(none)")
              + "; continue with diffusion train -c " + ShellWords.quote(root.resolve("config.yaml")) + " --run-dir "
              + ShellWords.quote(root) + " --resume");
          return DiffusionCli.FAILURE;
        }
        guard.nowSampling();
        TrainableModel ema = RunArtifacts.samplingModel(d, run.model());
        try {
          NoisePredictor m = ema != null ? ema : run.model();
          boolean terminal = TrainingConsole.isTerminal();
          // each sampler's images are scored before the next samples, so that one accumulator is held at a time,
          // as eval holds it (EvalCommand.checkHeap's estimate)
          Gaussian reference = d.referenceGaussian(count);
          QualityReport qDdim = scored(d, reference, sink -> RunArtifacts.samples(d, m, d.sampler(),
              d.request(count, 1), folder.samples(), folder.denoiseGif(), terminal, sink));
          Sampler ddpm = d.sampler("ddpm");
          SamplingRequest full = SamplingRequest.of(count, d.imageShape(), 2, Timesteps.full(d.schedule().size()));
          QualityReport qDdpm = scored(d, reference, sink -> RunArtifacts.samples(d, m, ddpm, full,
              folder.ddpmSamples(), null, terminal, sink));
          EvalCommand.print(out, d.sampler().name() + " " + d.plan().size() + " steps", qDdim);
          EvalCommand.print(out, "ddpm " + d.schedule().size() + " steps", qDdpm);
          String quality = "{\"" + d.sampler().name() + "\": " + qDdim.toJson() + ", \"ddpm\": " + qDdpm.toJson() + "}\n";
          guard.finishWriting(folder.quality(), quality); // scored: a signal now waits for the file
        } catch (RuntimeException e) { // the sampling's cancellation, or a write the interrupt cut short
          return guard.said(e, out, TrainCommand.unsampled(run, folder, "the samples were not all drawn, scored and written"));
        } finally {
          if (ema != null) {
            ema.close();
          }
        }
        out.println("wrote: samples.png (DDIM), samples-ddpm.png, denoise.gif, loss.png, metrics.jsonl, quality.json, "
            + "images/, checkpoints/");
        out.println("done: " + folder.root().toAbsolutePath());
      }
    }
    return DiffusionCli.OK;
  }

  /** The report of the images that {@code sample} hands to its sink, against {@code reference}. */
  private static QualityReport scored(Diffusion d, Gaussian reference,
      java.util.function.Consumer<Diffusion.ImageSink> sample) {
    QualityAccumulator images = new QualityAccumulator(d.imageShape());
    sample.accept((first, batch, n) -> images.add(batch));
    return images.report(reference);
  }
}
