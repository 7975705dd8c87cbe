package io.github.diffusion4j.cli;

import io.github.diffusion4j.io.ImageGrid;
import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.RunFolder;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingLoop;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorScope;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;

/** What a finished run leaves besides checkpoints: the loss chart, a sample grid and the denoising GIF. */
final class RunArtifacts {
  /** The most images a run's sample grid shows (all samples are still scored). */
  static final int GRID_MAX = 64;

  private RunArtifacts() {}

  /**
   * The weights to sample with after training in this process: the moving average when the config keeps
   * one and asks to sample with it, else the trained weights.
   */
  static TrainableModel samplingModel(Diffusion d, TrainableModel trained) {
    if (d.config().training().ema().enabled() && d.config().sampling().useEma()) {
      TrainableModel m = d.createModel();
      m.loadStateDict(trained.emaStateDict());
      return m;
    }
    return null;
  }

  static void lossChart(RunFolder folder, PrintWriter err) {
    try {
      Outputs.writeLossChart(folder.metrics(), folder.lossChart());
    } catch (IOException | RuntimeException e) {
      err.println("diffusion: warning: could not draw " + folder.lossChart() + ": " + ErrorReporting.message(e));
    }
  }

  /** Samples a grid to {@code png} and, if {@code gif} is not null, the trajectory of the first images. */
  static float[] samples(Diffusion d, NoisePredictor model, Sampler sampler, SamplingRequest request, Path png, Path gif,
      boolean terminal) {
    Shape image = d.imageShape();
    int keep = gif == null ? 0 : Math.min(request.count(), 16);
    SamplingConsole progress = new SamplingConsole(sampler.name(), terminal, keep, 50);
    if (keep > 0) {
      try (TensorScope s = d.backend().tensors().openScope()) {
        float[] x = SamplingLoop.initialNoise(d.backend().tensors(), request).toFloatArray();
        progress.recordStart(io.github.diffusion4j.data.Normalization.denormalize(x), image.size());
      }
    }
    float[] images = d.sampleImages(model, sampler, request, progress);
    int shown = Math.min(request.count(), GRID_MAX);
    int nrow = (int) Math.ceil(Math.sqrt(shown));
    ImageGrid.writePng(png, java.util.Arrays.copyOf(images, shown * image.size()), Shape.batchOf(shown, image),
        ImageGrid.Options.defaults().withNrow(nrow));
    if (gif != null) {
      Outputs.writeGif(gif, progress.frames(), image);
    }
    return images;
  }
}
