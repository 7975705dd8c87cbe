package io.github.diffusion4j.cli;

import io.github.diffusion4j.io.ImageGrid;
import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.RunFolder;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.tensor.Shape;
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
      OutputFiles.writeLossChart(folder.metrics(), folder.lossChart());
    } catch (IOException | RuntimeException e) {
      err.println("diffusion: warning: could not draw " + folder.lossChart() + ": " + ErrorReporting.message(e));
    }
  }

  /**
   * Samples a grid of the first {@link #GRID_MAX} images to {@code png} and, if {@code gif} is not null, the
   * trajectory of the first images; every batch also goes to {@code more} (e.g. a quality accumulator), so
   * that any number of images is sampled in flat memory.
   */
  static void samples(Diffusion d, NoisePredictor model, Sampler sampler, SamplingRequest request, Path png, Path gif,
      boolean terminal, Diffusion.ImageSink more) {
    Shape image = d.imageShape();
    int keep = gif == null ? 0 : Math.min(Math.min(request.count(), 16), d.samplingBatchSize());
    int batches = (int) ((request.count() + (long) d.samplingBatchSize() - 1) / d.samplingBatchSize());
    SamplingConsole progress = new SamplingConsole(sampler.name(), terminal, keep, 50).batches(batches);
    int shown = Math.min(request.count(), GRID_MAX);
    int nrow = (int) Math.ceil(Math.sqrt(shown));
    ImageGrid.Canvas grid = ImageGrid.canvas(Shape.batchOf(shown, image), ImageGrid.Options.defaults().withNrow(nrow));
    try (progress) {
      d.sampleImages(model, sampler, request, progress, (first, images, n) -> {
        if (first < shown) {
          grid.draw((int) first, images, (int) Math.min(n, shown - first));
        }
        more.accept(first, images, n);
      });
    }
    ImageGrid.writePng(png, grid.finish());
    if (gif != null) {
      OutputFiles.writeGif(gif, progress.frames(), image);
    }
  }
}
