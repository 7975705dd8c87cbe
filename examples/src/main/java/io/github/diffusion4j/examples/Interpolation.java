package io.github.diffusion4j.examples;

import io.github.diffusion4j.io.ImageGrid;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.RunFolder;
import io.github.diffusion4j.runtime.TrainingRun;
import io.github.diffusion4j.sampling.DdimInversion;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.nio.file.Path;

/**
 * Deterministic DDIM ({@code eta = 0}) maps each latent to one image, so walking a great circle between two
 * latents walks between two images (Song et al. 2021, section 5.3). Then the way back: DDIM inversion maps
 * images to latents, and sampling those latents gives the images again ({@code Diffusion.invert} does it for pictures
 * in {@code [-1, 1]}; here, on the sampler's own tensors, {@link DdimInversion} directly).
 *
 * <pre>java -cp "examples/target/classes:examples/target/lib/*" io.github.diffusion4j.examples.Interpolation [OUT_DIR] [--tiny]</pre>
 */
public final class Interpolation {
  private Interpolation() {}

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
   * What the example made and measured.
   *
   * @param strip the interpolated samples, {@code frames x C x H x W} values in {@code [0, 1]}
   * @param frames how many
   * @param imageShape {@code [C, H, W]}
   * @param file the PNG of the strip
   * @param roundTripError the largest {@code |x0 - sample(invert(x0))|} over 8 images (in {@code [-1, 1]})
   */
  public record Result(float[] strip, int frames, Shape imageShape, Path file, double roundTripError) {}

  /**
   * Runs the example: writes {@code interpolation.png} and prints the inversion round trip's error.
   *
   * @param args {@code [OUT_DIR] [--tiny]}
   * @return what it made and measured
   * @throws Exception on failure
   */
  public static Result run(String[] args) throws Exception {
    Path out = Examples.outDir(args, "interpolation");
    try (Diffusion d = Diffusion.open(Examples.config("gradients.yaml", out, Examples.tiny(args), "sampling.eta=0"))) {
      try (TrainingRun run = TrainingRun.start(d, RunFolder.under(d.config().output().dir(), "run"))) {
        run.run();
        run.model().loadStateDict(run.model().emaStateDict());
        Shape image = d.imageShape();
        TensorFactory tensors = d.backend().tensors();
        Sampler ddim = d.sampler("ddim");
        int n = 10;
        float[] a = Noise.seeded(1).normals(image.size());
        float[] b = Noise.seeded(2).normals(image.size());
        try (TensorScope scope = tensors.openScope()) {
          // the great circle's n latents (Latents.interpolate), each sampled by deterministic DDIM
          float[] strip = d.interpolate(run.model(), a, b, n, SamplingListener.NONE);
          Path file = out.resolve("interpolation.png");
          ImageGrid.writePng(file, strip, Shape.batchOf(n, image), ImageGrid.Options.defaults().withNrow(n));
          System.out.println("wrote " + file);

          // inversion round trip: images -> latents -> images
          Tensor x0 = ddim.sample(run.model(), tensors, d.request(8, 3));
          Tensor xT = new DdimInversion(d.schedule(), d.predictionType()).invert(run.model(), tensors, x0, d.plan());
          Tensor back = ddim.sample(run.model(), tensors, d.request(8, 3).withInitialNoise(xT));
          float[] p = x0.toFloatArray();
          float[] q = back.toFloatArray();
          double err = 0;
          for (int i = 0; i < p.length; i++) {
            err = Math.max(err, Math.abs(p[i] - q[i]));
          }
          System.out.printf("DDIM inversion round trip over %d steps: max |x0 - sample(invert(x0))| = %.4f "
              + "(images span [-1, 1])%n", d.plan().size(), err);
          return new Result(strip, n, image, file, err);
        }
      }
    }
  }
}
