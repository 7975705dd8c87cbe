package io.github.diffusion4j.cli;

import io.github.diffusion4j.eval.Gaussian;
import io.github.diffusion4j.eval.QualityAccumulator;
import io.github.diffusion4j.eval.QualityReport;
import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.TrainedModel;
import io.github.diffusion4j.sampling.Sampler;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffusion eval}: the sample-quality metrics of a checkpoint. */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = {"Samples a checkpoint and scores the samples against real images: pixel-space Frechet distance, "
        + "gradient residual and corner uniformity (KS); prints a table and JSON."})
final class EvalCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "A checkpoint folder or a run folder.")
  Path checkpoint;

  @Option(names = "--count", paramLabel = "N", defaultValue = "2000", description = "Samples and real images (default: ${DEFAULT-VALUE}).")
  int count;

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
    if (count < 2) {
      throw new BadInputException("--count " + count + ": needs at least 2 samples");
    }
    if (json != null) {
      Outputs.checkWritable("--json", json);
    }
    List<String> all = new ArrayList<>(overrides);
    if (sampler != null) {
      all.add("sampling.sampler=" + sampler);
    }
    if (backend != null) {
      all.add("backend=" + backend);
    }
    try (TrainedModel m = SampleCommand.loadFor(checkpoint, all, steps)) {
      Diffusion d = m.diffusion();
      Sampler s = d.sampler();
      QualityAccumulator samples = new QualityAccumulator(d.imageShape());
      d.sampleImages(m.model(), s, d.request(count, seed), console(d, s, count), (first, images, n) -> samples.add(images));
      QualityReport r = score(d, samples, d.referenceGaussian(count));
      print(spec.commandLine().getOut(), s.name() + " " + d.plan().size() + " steps", r);
      if (json != null) {
        AtomicFiles.writeString(json, r.toJson() + "\n");
      }
    }
    return DiffusionCli.OK;
  }

  /**
   * The quality report of samples (accumulated batch by batch) against the Gaussian of real images. The
   * gradient residual and corner uniformity describe the colour-gradient data only; for other data they
   * are left out (NaN, null in JSON).
   */
  static QualityReport score(Diffusion d, QualityAccumulator samples, Gaussian reference) {
    QualityReport r = samples.report(reference);
    if (d.config().data().kind() != io.github.diffusion4j.config.DataConfig.Kind.GRADIENTS) {
      return new QualityReport(r.frechet(), Double.NaN, Double.NaN, r.sampleCount());
    }
    return r;
  }

  /** A progress bar over all the batches {@code count} images are sampled in. */
  static SamplingConsole console(Diffusion d, Sampler s, int count) {
    int batches = (int) ((count + (long) d.samplingBatchSize() - 1) / d.samplingBatchSize());
    return new SamplingConsole(s.name(), TrainingConsole.isTerminal(), 0, 0).batches(batches);
  }

  static void print(PrintWriter out, String what, QualityReport r) {
    out.printf(Locale.ROOT, "%-28s %10s %12s %10s%n", "samples (" + r.sampleCount() + ")", "frechet", "grad resid", "corner KS");
    out.printf(Locale.ROOT, "%-28s %10.4f %12s %10s%n", what, r.frechet(), cell(r.gradientResidual()), cell(r.cornerKs()));
    out.println(r.toJson());
  }

  private static String cell(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
  }
}
