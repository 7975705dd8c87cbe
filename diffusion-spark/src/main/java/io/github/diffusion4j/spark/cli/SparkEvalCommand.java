package io.github.diffusion4j.spark.cli;

import io.github.diffusion4j.cli.BadInputException;
import io.github.diffusion4j.cli.InterruptGuard;
import io.github.diffusion4j.cli.OutputFiles;
import io.github.diffusion4j.cli.QualityTable;
import io.github.diffusion4j.eval.QualityReport;
import io.github.diffusion4j.runtime.ScoringReferences;
import io.github.diffusion4j.spark.EvalJob;
import io.github.diffusion4j.spark.EvalResult;
import io.github.diffusion4j.spark.SampleManifest;
import io.github.diffusion4j.spark.SparkDiffusion;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffusion spark eval}: the sample-quality metrics of a checkpoint, the samples drawn on Spark. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Samples a checkpoint on Spark and scores the samples against real images as diffusion eval does: "
        + "each task folds its shard into the samples' mean and covariance (double precision), which a tree of fixed "
        + "shape merges (the same bits whichever order the tasks finish in); no sample goes to the driver, which fits "
        + "the real images meanwhile.",
        "Prints the table and JSON of diffusion eval (the same numbers, to rounding).",
        "With --samples DIR: scores the shards a diffusion spark sample job wrote there instead of sampling: the "
        + "driver verifies them against its manifest.json (sizes and SHA-256), a task reads each shard batch by batch "
        + "and the same tree merges their statistics."})
final class SparkEvalCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  SamplingArguments sampling;

  @Option(names = "--count", paramLabel = "N", defaultValue = "2000", description = "Samples and real images "
      + "(default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Noise seed (default: "
      + "${DEFAULT-VALUE}, as diffusion eval).")
  long seed;

  @Option(names = "--samples", paramLabel = "DIR", description = "Score the npy or safetensors shards of this "
      + "diffusion spark sample output folder (the first --count samples; default: all) instead of sampling; not "
      + "with --sampler, --steps, --eta, --backend, --seed, --partitions, --threads or --ship, which only say how "
      + "samples are drawn.")
  Path samples;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON to this file.")
  Path json;

  @Mixin
  ClusterOptions cluster;

  @Override
  public Integer call() {
    // as diffusion eval (seed is taken: it draws generated data's reference images; the noise seed is --seed)
    io.github.diffusion4j.cli.SamplingOverrides.refuseTakenElsewhere(sampling.overrides, java.util.Map.of(
        "sampling.count", "spark eval takes the number of samples from --count (default 2000), not from the "
            + "configuration; give --count VALUE"));
    if (count < 2) {
      throw new BadInputException("--count " + count + ": needs at least 2 samples");
    }
    if (json != null) {
      OutputFiles.checkWritable("--json", json); // as diffusion eval checks it, before the job
    }
    cluster.check();
    if (samples != null) {
      return scoreFolder();
    }
    EvalJob job = new EvalJob(sampling.checkpoint, sampling.overrides(), count, seed, cluster.partitions(),
        cluster.shipping(), cluster.threads());
    long start = System.nanoTime();
    PrintWriter o = spec.commandLine().getOut();
    String notScored = json != null ? "nothing was written to " + json : "nothing was scored";
    // Ctrl-C (SIGINT) or SIGTERM says one line, as diffusion eval's: while Spark starts or the driver loads the
    // checkpoint, at once; during the job (the tasks, the merge of their statistics, the real images' fit), once the job is cancelled; once
    // scored, the guard holds the JVM for the report and --json, as diffusion eval's
    try (InterruptGuard guard = ClusterOptions.guard()) { // the job's own shutdown hook cancels it
      java.util.Optional<EvalResult> done = cluster.run("eval",
          sc -> SparkDiffusion.evaluate(sc, job, load -> guard.load(o, notScored, load)),
          e -> e instanceof io.github.diffusion4j.eval.ScoringMemoryException s
              ? BadInputException.ofScoringCount(count, s)
              : e instanceof ScoringReferences.Unavailable u
                  ? new BadInputException("--checkpoint " + sampling.checkpoint + ": " + u.getMessage(), u)
              : sampling.translate(e), guard, o, notScored, notScored + " (the job was cancelled)");
      if (done.isEmpty()) {
        return io.github.diffusion4j.cli.DiffusionCli.FAILURE; // said under Ctrl-C or SIGTERM
      }
      return report(done.get(), start, count, guard, o);
    }
  }

  /** {@code spark eval --samples DIR}: the shards of a sampling job's folder, scored on Spark. */
  private int scoreFolder() {
    io.github.diffusion4j.cli.SamplingOverrides.refuseDrawingOptions(spec.commandLine().getParseResult(),
        java.util.List.of("--sampler", "--steps", "--eta", "--backend", "--seed", "--partitions", "--threads",
            "--ship"), sampling.overrides, samples, "in the shards its manifest.json lists");
    if (!java.nio.file.Files.isDirectory(samples)) {
      throw new BadInputException("--samples " + samples + ": " + (java.nio.file.Files.exists(samples) ? "not a folder"
          : "no such folder") + "; give the output folder of diffusion spark sample (its manifest.json and shards; "
          + "diffusion eval --samples FILE scores the file diffusion sample --out wrote)");
    }
    SampleManifest manifest;
    try {
      manifest = SampleManifest.read(samples);
    } catch (IllegalArgumentException | UncheckedIOException e) {
      throw new BadInputException("--samples " + e.getMessage(), e);
    }
    boolean all = !spec.commandLine().getParseResult().hasMatchedOption("--count");
    if (!all && count > manifest.count()) {
      throw new BadInputException("--count " + count + ": more than the " + manifest.count() + " samples in "
          + samples + "; give at most " + manifest.count() + " (or leave --count out: all of them)");
    }
    int n = all ? manifest.count() : count;
    String folder = samples.toAbsolutePath().normalize().toString();
    long start = System.nanoTime();
    PrintWriter o = spec.commandLine().getOut();
    String notScored = json != null ? "nothing was written to " + json : "nothing was scored";
    try (InterruptGuard guard = ClusterOptions.guard()) {
      java.util.Optional<EvalResult> done = cluster.run("eval",
          sc -> SparkDiffusion.evaluateSamples(sc, sampling.checkpoint, sampling.overrides, samples, all ? 0 : count,
              load -> guard.load(o, notScored, load)),
          e -> e instanceof io.github.diffusion4j.eval.ScoringMemoryException s
              ? BadInputException.ofScoringCount(n, s)
              : e instanceof ScoringReferences.Unavailable u
                  ? new BadInputException("--checkpoint " + sampling.checkpoint + ": " + u.getMessage(), u)
              : (e instanceof IllegalArgumentException || e instanceof IllegalStateException)
                  && String.valueOf(e.getMessage()).startsWith(folder)
                  ? new BadInputException("--samples " + e.getMessage(), e)
              : e, guard, o, notScored, notScored + " (the job was cancelled)");
      if (done.isEmpty()) {
        return io.github.diffusion4j.cli.DiffusionCli.FAILURE; // said under Ctrl-C or SIGTERM
      }
      return report(done.get(), start, n, guard, o);
    }
  }

  /** Prints a finished evaluation's table, real images and JSON (and writes --json), as diffusion eval does. */
  private int report(EvalResult r, long start, int n, InterruptGuard guard, PrintWriter o) {
    double seconds = (System.nanoTime() - start) / 1e9;
    QualityReport q = r.report();
    QualityTable.printTable(o, String.format(Locale.ROOT, "%s %d steps, %d %s, %.1f s", r.sampler(), r.steps(),
        r.shards(), r.shards() == 1 ? "shard" : "shards", seconds), q);
    QualityTable.describeReference(o, spec.commandLine().getErr(), r.referenceSource(), r.reference().count(), n,
        r.reference().dimension());
    java.util.Map<String, Object> scored = new java.util.LinkedHashMap<>();
    scored.put("sampler", r.sampler());
    scored.put("steps", r.steps());
    if (samples != null) {
      scored.put("samples", samples.toAbsolutePath().normalize());
    } else { // as diffusion eval says how it drew its own
      scored.put("seed", seed);
      scored.put("checkpoint", sampling.checkpoint.toAbsolutePath().normalize());
    }
    String line = QualityTable.json(q, scored);
    o.println(line);
    if (json != null) {
      try {
        guard.finishWriting(json, line + "\n"); // a signal now waits for the file
      } catch (UncheckedIOException e) { // a failed write: said with a signal that came meanwhile
        return guard.said(e, o, "nothing was written to " + json);
      }
    }
    o.flush();
    return 0;
  }
}
