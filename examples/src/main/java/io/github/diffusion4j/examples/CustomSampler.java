package io.github.diffusion4j.examples;

import io.github.diffusion4j.eval.QualityMetrics;
import io.github.diffusion4j.eval.QualityReport;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.RunFolder;
import io.github.diffusion4j.runtime.TrainingRun;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A user's sampler, registered and chosen from YAML. {@link DpmSolverPlusPlus2M} is in this module,
 * registered by {@link DpmSolverProvider} in {@code META-INF/services/io.github.diffusion4j.sampling.SamplerProvider};
 * the configuration says {@code sampling.sampler: dpmpp_2m} and passes its option under
 * {@code sampling.options}. The program compares it with DDIM at the same number of steps.
 *
 * <pre>java -cp "examples/target/classes:examples/target/lib/*" io.github.diffusion4j.examples.CustomSampler [OUT_DIR] [--tiny]</pre>
 */
public final class CustomSampler {
  private CustomSampler() {}

  /**
   * Runs the example.
   *
   * @param args {@code [OUT_DIR] [--tiny]}
   * @throws Exception on failure
   */
  public static void main(String[] args) throws Exception {
    run(args);
  }

  /**
   * One line of the comparison.
   *
   * @param sampler the sampler's name
   * @param steps the number of sampling steps
   * @param quality its samples' quality against the reference images
   */
  public record Row(String sampler, int steps, QualityReport quality) {}

  /**
   * Runs the example: prints the comparison.
   *
   * @param args {@code [OUT_DIR] [--tiny]}
   * @return its lines, in the printed order
   * @throws Exception on failure
   */
  public static List<Row> run(String[] args) throws Exception {
    Path out = Examples.outDir(args, "custom-sampler");
    int count = Examples.tiny(args) ? 500 : 2000;
    try (Diffusion d = Diffusion.open(Examples.config("gradients.yaml", out, Examples.tiny(args),
        "sampling.sampler=dpmpp_2m", "sampling.options.solver_type=midpoint"))) {
      try (TrainingRun run = TrainingRun.start(d, RunFolder.under(d.config().output().dir(), "run"))) {
        run.run();
        run.model().loadStateDict(run.model().emaStateDict());
        float[] reference = d.referenceImages(count);
        List<Row> rows = new ArrayList<>();
        for (int steps : new int[] {10, 20}) {
          for (Sampler s : new Sampler[] {d.sampler(), d.sampler("ddim")}) {
            float[] x = d.sampleImages(run.model(), s, d.request(count, 5).withPlan(
                io.github.diffusion4j.schedule.Timesteps.trailing(d.schedule().size(), steps)), SamplingListener.NONE);
            QualityReport q = QualityMetrics.evaluate(x, reference, d.imageShape());
            System.out.printf("%-9s %2d steps: %s%n", s.name(), steps, q);
            rows.add(new Row(s.name(), steps, q));
          }
        }
        return rows;
      }
    }
  }
}
