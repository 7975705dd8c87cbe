package io.github.diffusion4j.cli;

import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.io.CheckpointStore;
import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.runtime.DataReport;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.RunFolder;
import io.github.diffusion4j.runtime.TrainingRun;
import io.github.diffusion4j.training.TrainingSummary;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffusion train}: trains from a YAML file into a run folder; {@code --resume} continues one. */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = {"Trains from a YAML configuration and writes a run folder: config.yaml, metrics.jsonl, loss.png, "
        + "images/step-N.png, checkpoints/, samples.png, denoise.gif.",
        "Ctrl-C writes a final checkpoint first; --resume continues exactly where it stopped."})
final class TrainCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "The YAML configuration.")
  Path config;

  @Option(names = "--bundled", paramLabel = "NAME", description = "Use a bundled configuration instead: "
      + "${COMPLETION-CANDIDATES}.", completionCandidates = ConfigCommand.Bundled.class)
  String bundled;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a key, e.g. --set training.epochs=5 (repeatable).")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--resume", description = "Continue the run from its latest checkpoint (the run folder of "
      + "output.dir/output.name, or --run-dir, or the newest run under output.dir).")
  boolean resume;

  @Option(names = "--run-dir", paramLabel = "DIR", description = "The run folder (default: output.dir/output.name).")
  Path runDir;

  @Option(names = "--no-samples", description = "Do not sample samples.png and denoise.gif at the end.")
  boolean noSamples;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    // One guard from before the configuration is opened to the end (no signal falls between two guards, where the JVM
    // ended without a word): the opening and the start of the run (the backend's and the model's load, for seconds
    // with a native engine, heeding no interrupt; the checkpoint's read) are loads, so a signal meanwhile says what
    // stands at once and lets the JVM go (InterruptGuard.load); the data's preparation is interrupted and says so
    // (DataConsole.prepare); then the training is asked to stop (its final checkpoint), and the samples interrupted
    try (InterruptGuard guard = InterruptGuard.beforeTraining();
        Diffusion d = guard.load(out, NOTHING_TOUCHED, () -> Diffusion.open(load(config, bundled, overrides)))) {
      if (d == null) {
        return DiffusionCli.FAILURE; // a signal came while it opened: said, and the JVM is ending
      }
      RunFolder named = runFolder(d);
      if (!noSamples) {
        checkDrawable(d, "train --no-samples does not");
      }
      // everything the run refuses without work (a backend name no provider registers, a full folder) is refused
      // before the data is prepared (a folder's cache: minutes)
      TrainingRun.check(d, named, resume);
      DataReport data = DataConsole.prepare(d, out, "nothing was trained (the data was being prepared)", guard);
      if (data == null) {
        return DiffusionCli.FAILURE;
      }
      DataConsole.print(out, data, 5);
      try (TrainingRun run = guard.load(out, resume ? notResumed(named) : notStarted(named),
          () -> resume ? TrainingRun.resume(d, named) : TrainingRun.start(d, named))) {
        if (run == null) {
          return DiffusionCli.FAILURE; // a signal came while it loaded: said, and the JVM is ending
        }
        RunFolder folder = run.folder(); // without output.name: the timestamp's, or -2, -3 in another run's second
        guard.nowTraining(run::requestStop);
        out.println("run folder: " + folder.root().toAbsolutePath() + (run.startedOver() ? " (" + TAKEN_AGAIN + ")" : ""));
        run.initialWeights().ifPresent(w -> out.println("starting from: " + w.toAbsolutePath()));
        TrainingSummary s = runWithProgress(d, run, out);
        RunArtifacts.lossChart(folder, err);
        if (!s.completed()) {
          out.println("interrupted; final checkpoint " + run.lastCheckpoint().map(Path::toString).orElse("(none)")
              + "; continue with --resume");
          return DiffusionCli.FAILURE;
        }
        if (!noSamples) {
          guard.nowSampling();
          try {
            finalSamples(d, run, folder, out);
          } catch (RuntimeException e) { // the sampling's cancellation, or a write the interrupt cut short
            return guard.said(e, out, unsampled(run, folder, "the final samples were not finished"));
          }
        }
        out.println("checkpoint: " + run.lastCheckpoint().map(Path::toString).orElse("(none)"));
        out.println("done: " + folder.root().toAbsolutePath());
      }
    }
    return DiffusionCli.OK;
  }

  /**
   * Said of a run folder a plain {@code train} takes again: one that holds a run's configuration and no checkpoint
   * (the start refuses one that holds checkpoints), left by a run killed or failed before its first checkpoint.
   */
  static final String TAKEN_AGAIN = "it held no checkpoint, left by a run that stopped before its first: taken again, "
      + "its log started anew";

  /** What a signal while {@code train} or {@code demo} opens its configuration leaves. */
  static final String NOTHING_TOUCHED = "nothing was trained; no run folder was made or changed";

  /**
   * What a signal while a new run starts ({@link TrainingRun#start}: the backend's and the model's load, then the
   * folder's making) leaves.
   */
  static String notStarted(RunFolder folder) {
    return "nothing was trained (the backend and the model were being loaded); no checkpoint was written to "
        + folder.root();
  }

  /** What a signal while a run resumes ({@link TrainingRun#resume}: the backend's load, the checkpoint's read) leaves. */
  static String notResumed(RunFolder folder) {
    return "nothing was trained (the backend and the checkpoint were being loaded); the checkpoints of " + folder.root()
        + " are as they were: --resume continues from the latest";
  }

  static LoadedConfig load(Path config, String bundled, List<String> overrides) {
    if ((config == null) == (bundled == null)) {
      throw new BadInputException("give exactly one of -c/--config FILE and --bundled NAME (" + String.join(", ", io.github.diffusion4j.config.ConfigLoader.bundledNames()) + ")");
    }
    if (bundled != null) {
      checkBundled(bundled);
      return ConfigLoader.readBundled(bundled, overrides);
    }
    return ConfigLoader.read(config, overrides);
  }

  /** Refuses an unknown {@code --bundled} name, naming the bundled configs and the closest. */
  static void checkBundled(String bundled) {
    try {
      ConfigLoader.bundledYaml(bundled);
    } catch (io.github.diffusion4j.config.ConfigException e) { // "no bundled config named 'x'; did you mean ..."
      throw new BadInputException("--bundled " + bundled + ": " + e.detail());
    }
  }

  private RunFolder runFolder(Diffusion d) throws IOException {
    if (runDir != null) {
      checkRunDir(runDir);
      return new RunFolder(runDir);
    }
    Path out = d.config().output().dir();
    String name = d.config().output().name();
    if (!resume || !name.isBlank()) {
      return RunFolder.under(out, name);
    }
    Optional<Path> newest = Optional.empty();
    if (Files.isDirectory(out)) {
      try (Stream<Path> runs = Files.list(out)) {
        newest = runs.filter(p -> !CheckpointStore.listIn(p.resolve("checkpoints")).isEmpty())
            .max(Comparator.comparing(p -> p.resolve("checkpoints").toFile().lastModified()));
      }
    }
    return new RunFolder(newest.orElseThrow(() -> new BadInputException("--resume: no run with checkpoints under "
        + out.toAbsolutePath() + "; give --run-dir DIR or set output.name")));
  }

  /**
   * Refuses an empty {@code --run-dir} (which would train into the working folder), and one that is, or lies
   * under, something other than a folder (a file, a device), which would otherwise fail as an I/O error when the
   * run folder is made.
   */
  static void checkRunDir(Path runDir) {
    if (runDir.toString().isBlank()) { // "$UNSET": an empty path is the working folder, which is no run folder
      throw new BadInputException("--run-dir '" + runDir + "': is empty; give a folder (a new one, or a run folder to "
          + "--resume)");
    }
    for (Path p = runDir.toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.exists(p)) {
        if (!Files.isDirectory(p)) {
          throw new BadInputException("--run-dir " + runDir + ": " + (p.equals(runDir.toAbsolutePath()) ? "is"
              : p + " is") + " not a folder; give a folder (a new one, or a run folder to --resume)");
        }
        return;
      }
    }
  }

  /**
   * Refuses, before anything is made, images that {@code samples.png} and {@code denoise.gif} cannot show (a
   * picture shows 1 or 3 channels; the api refuses them only where its image logs would draw them).
   *
   * @param unless what draws no samples, for the message
   */
  static void checkDrawable(Diffusion d, String unless) {
    if (!io.github.diffusion4j.io.ImageGrid.canShow(d.imageShape())) {
      throw d.loadedConfig().error("data.image_shape", "must have 1 (grayscale) or 3 (RGB) channels for the "
          + "samples.png and denoise.gif that train draws at its end (" + unless + "), got " + d.imageShape());
    }
  }

  /** Runs training with the progress display, which shows the learning rate where the configuration changes it. */
  static TrainingSummary runWithProgress(Diffusion d, TrainingRun run, PrintWriter out) {
    return run.run(new TrainingConsole(out, TrainingConsole.isTerminal(),
        !d.config().training().learningRateSchedule().isConstant()));
  }

  /**
   * What a signal during the samples after a finished training leaves: {@code what}, then that the training is
   * complete, its checkpoint, and how to draw the samples from it.
   */
  static String unsampled(TrainingRun run, RunFolder folder, String what) {
    return what + "; the training is complete (checkpoint " + run.lastCheckpoint().map(Path::toString).orElse("(none)")
        + "): draw samples with diffusion sample --checkpoint " + ShellWords.quote(folder.root());
  }

  static void finalSamples(Diffusion d, TrainingRun run, RunFolder folder, PrintWriter out) {
    TrainableModel ema = RunArtifacts.samplingModel(d, run.model());
    try {
      NoisePredictor m = ema != null ? ema : run.model();
      int count = d.config().sampling().count();
      RunArtifacts.samples(d, m, d.sampler(), d.request(count, d.config().seed()), folder.samples(), folder.denoiseGif(),
          TrainingConsole.isTerminal(), (first, images, n) -> { });
      out.println("samples: " + folder.samples() + " (" + d.config().sampling().sampler() + ", " + d.plan().size()
          + " steps" + (ema != null ? ", EMA weights" : "") + "), trajectory: " + folder.denoiseGif());
    } finally {
      if (ema != null) {
        ema.close();
      }
    }
  }
}
