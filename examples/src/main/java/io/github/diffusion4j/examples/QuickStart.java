package io.github.diffusion4j.examples;

import io.github.diffusion4j.io.ImageGrid;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.RunFolder;
import io.github.diffusion4j.runtime.TrainingRun;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.training.TrainingSummary;
import java.nio.file.Path;

/**
 * Open a YAML with {@link Diffusion}, train on the colour gradients, sample a grid. The backend named in
 * the YAML ({@code backend: nd4j}) is found at run time; this code only knows the api.
 *
 * <pre>./mvnw -q -pl examples -am package -DskipTests &amp;&amp; java -cp "examples/target/classes:examples/target/lib/*" \
 *     io.github.diffusion4j.examples.QuickStart [OUT_DIR] [--tiny]</pre>
 */
public final class QuickStart {
  private QuickStart() {}

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
   * What the example made.
   *
   * @param images the 64 sampled images, {@code 64 x C x H x W} values in {@code [0, 1]}
   * @param imageShape {@code [C, H, W]}
   * @param grid the PNG they were written to
   */
  public record Result(float[] images, Shape imageShape, Path grid) {}

  /**
   * Runs the example: trains, samples 64 images and writes them as {@code quickstart.png}.
   *
   * @param args {@code [OUT_DIR] [--tiny]}
   * @return what it made
   * @throws Exception on failure
   */
  public static Result run(String[] args) throws Exception {
    Path out = Examples.outDir(args, "quickstart");
    try (Diffusion d = Diffusion.open(Examples.config("gradients.yaml", out, Examples.tiny(args)))) {
      RunFolder folder = RunFolder.under(d.config().output().dir(), d.config().output().name());
      try (TrainingRun run = TrainingRun.start(d, folder)) {
        TrainingSummary s = run.run();
        System.out.printf("trained %d steps in %.1f s, final eval loss %.4f%n", s.progress().step(),
            s.elapsedSeconds(), s.evalLosses().get(s.evalLosses().size() - 1));
        run.model().loadStateDict(run.model().emaStateDict());
        float[] images = d.sampleImages(run.model(), 64, 1, SamplingListener.NONE);
        Path grid = out.resolve("quickstart.png");
        ImageGrid.writePng(grid, images, Shape.batchOf(64, d.imageShape()), ImageGrid.Options.defaults());
        System.out.println("wrote " + grid + " (" + d.sampler().name() + ", " + d.plan().size() + " steps)");
        return new Result(images, d.imageShape(), grid);
      }
    }
  }
}
