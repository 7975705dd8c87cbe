package io.github.diffusion4j.testkit;

import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.RunFolder;
import io.github.diffusion4j.runtime.TrainedModel;
import io.github.diffusion4j.runtime.TrainingRun;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.training.TrainingListener;
import io.github.diffusion4j.training.TrainingSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The soak loops of the DDPM-family parts, through the API that {@code diffusion train}, {@code export} and
 * {@code sample} use, run by {@link NewPartsSoakTest} in a fresh JVM ({@link SoakJvm}) on one backend:
 *
 * <ul>
 *   <li>{@code training}: a {@link TrainingRun} of the configuration {@code soak.yaml} in the given folder (a
 *       {@code model.kind: ddpm} U-Net fed from an image folder through its image cache, with EMA, metrics and
 *       checkpoints every given number of epochs, two kept), for the given number of optimiser steps (rounded
 *       up to whole epochs);
 *   <li>{@code sampling}: a short run of the same configuration, exported as a diffusers folder
 *       ({@link TrainedModel#exportDiffusers}, what {@code diffusion export} does), loaded back from that folder
 *       (a {@code unet2d} model), then sampled in runs of {@link #SAMPLING_STEPS} steps of {@link #BATCH} images,
 *       DDIM and DDPM in turn, for the given number of steps (rounded to whole runs).
 * </ul>
 *
 * <p>It prints the floors of VmRSS ({@link ResidentSize.Floors}) after warm-up and at the end:
 *
 * <p>and ten progress lines on the way ({@code soak-progress steps=... rss_kb=... seconds=...}):
 *
 * <pre>
 *   soak loop=training steps=600 warmup=150 rss_warm_kb=... rss_end_kb=... growth_kb=... seconds=... finite=true
 * </pre>
 */
public final class NewPartsSoak {
  /** Images per sampling run. */
  static final int BATCH = 8;

  /** Inference steps per sampling run. */
  static final int SAMPLING_STEPS = 10;

  /** Training images in the folder: six batches of eight per epoch. */
  static final int IMAGES = 48;

  /** The default number of epochs between training checkpoints (30 steps). */
  static final int CHECKPOINT_EVERY = 5;

  private NewPartsSoak() {}

  /**
   * Entry point.
   *
   * @param args the backend, the loop ({@code training} or {@code sampling}), its number of steps, the folder
   *     with {@code soak.yaml} (written with its images if missing, {@link #writeInputs}), and optionally the
   *     epochs between checkpoints in training (default 5: with six steps an epoch, a checkpoint every 30
   *     steps, so that anything a checkpoint leaves behind adds up)
   * @throws IOException if the inputs cannot be written
   */
  public static void main(String[] args) throws IOException {
    String backend = args[0];
    String loop = args[1];
    int steps = Integer.parseInt(args[2]);
    Path dir = Path.of(args[3]);
    int checkpointEvery = args.length > 4 ? Integer.parseInt(args[4]) : CHECKPOINT_EVERY;
    Path yaml = dir.resolve("soak.yaml");
    if (!Files.exists(yaml)) {
      writeInputs(dir);
    }
    if (loop.equals("training")) {
      train(yaml, backend, steps, checkpointEvery, dir.resolve("runs/training"), true);
    } else if (loop.equals("sampling")) {
      sample(yaml, backend, steps, dir);
    } else {
      throw new IllegalArgumentException("loop must be training or sampling, got " + loop);
    }
  }

  /** Writes {@link #IMAGES} 8x8 RGB PNGs in two class folders, each a distinct gradient, and {@code soak.yaml}. */
  static void writeInputs(Path dir) throws IOException {
    Path images = dir.resolve("images");
    for (int i = 0; i < IMAGES; i++) {
      TestImages.write(images.resolve((i % 2 == 0 ? "a" : "b") + "/" + String.format("%03d.png", i)),
          TestImages.rgb(8, 8, 5 * i, 200 - 4 * i, 255 - 3 * i));
    }
    Files.writeString(dir.resolve("soak.yaml"), String.join("\n",
        "seed: 1",
        "threads: 1",
        "data:",
        "  kind: folder",
        "  image_shape: [3, 8, 8]",
        "  root: " + images,
        "model:",
        "  kind: ddpm",
        "  base_channels: 32",
        "  channel_mult: [1, 2]",
        "  num_res_blocks: 1",
        "  attn_resolutions: [4]",
        "  dropout: 0.1",
        "schedule:",
        "  num_train_timesteps: 1000",
        "training:",
        "  epochs: 1",
        "  batch_size: 8",
        "  learning_rate: 0.0002",
        "  log_every: 50",
        "  image_log_every: 0",
        "  keep_checkpoints: 2",
        "  ema:",
        "    enabled: true",
        "    decay: 0.999",
        "sampling:",
        "  sampler: ddim",
        "  num_inference_steps: 10",
        "output:",
        "  dir: " + dir.resolve("runs"),
        ""));
  }

  /**
   * Trains for at least {@code steps} steps into {@code run}, with a checkpoint every {@code every} epochs (and at
   * the end), reporting the floors if {@code report}.
   */
  private static void train(Path yaml, String backend, int steps, int every, Path run, boolean report) {
    try (Diffusion d = Diffusion.open(yaml, List.of("backend=" + backend))) {
      int perEpoch = (d.trainingData().size() + d.config().training().batchSize() - 1)
          / d.config().training().batchSize();
      int epochs = Math.max(1, (steps + perEpoch - 1) / perEpoch);
      int total = epochs * perEpoch;
      try (Diffusion e = Diffusion.open(yaml, List.of("backend=" + backend, "training.epochs=" + epochs,
              "training.checkpoint_every=" + every));
          TrainingRun r = TrainingRun.start(e, new RunFolder(run))) {
        ResidentSize.Floors f = new ResidentSize.Floors(warmup(total, 300), total);
        Progress p = new Progress(total);
        double[] sink = {0};
        TrainingSummary s = r.run(new TrainingListener() {
          @Override
          public void onStep(long step, int epoch, double loss) {
            sink[0] += loss;
            if (report) {
              f.sample(step - 1);
              p.after((int) step - 1, 1);
            }
          }
        });
        if (!s.completed()) {
          throw new IllegalStateException("the run stopped at " + s.progress());
        }
        if (report) {
          report("training", total, warmup(total, 300), f, p.start, sink[0]);
        }
      }
    }
  }

  private static void sample(Path yaml, String backend, int steps, Path dir) {
    Path run = dir.resolve("runs/export");
    Path diffusers = dir.resolve("diffusers");
    train(yaml, backend, 1, CHECKPOINT_EVERY, run, false);
    try (TrainedModel m = TrainedModel.load(run, List.of())) {
      m.exportDiffusers(diffusers);
    }
    try (TrainedModel m = TrainedModel.load(diffusers,
        List.of("backend=" + backend, "sampling.num_inference_steps=" + SAMPLING_STEPS))) {
      if (!m.fromDiffusersFolder() || !m.model().spec().kind().equals("unet2d")) {
        throw new IllegalStateException("not loaded as a diffusers unet2d model: " + m.model().spec().kind());
      }
      Sampler[] samplers = {m.diffusion().sampler("ddim"), m.diffusion().sampler("ddpm")};
      int runs = Math.max(2, steps / SAMPLING_STEPS);
      int warmRuns = warmup(runs, 15);
      ResidentSize.Floors f = new ResidentSize.Floors(warmRuns, runs);
      Progress p = new Progress(runs);
      double sink = 0;
      for (int r = 0; r < runs; r++) {
        float[] x = m.sample(samplers[r % 2], m.diffusion().request(BATCH, r), SamplingListener.NONE);
        sink += x[r % x.length];
        f.sample(r);
        p.after(r, SAMPLING_STEPS);
      }
      report("sampling", runs * SAMPLING_STEPS, warmRuns * SAMPLING_STEPS, f, p.start, sink);
    }
  }

  /** Prints VmRSS and the time ten times in a loop ({@code soak-progress steps=... rss_kb=... seconds=...}). */
  private static final class Progress {
    private final long start = System.nanoTime();
    private final int every;

    Progress(int iterations) {
      this.every = Math.max(1, iterations / 10);
    }

    void after(int i, int stepsPerIteration) {
      if ((i + 1) % every == 0) {
        System.out.printf(Locale.ROOT, "soak-progress steps=%d rss_kb=%d seconds=%.1f%n",
            (long) (i + 1) * stepsPerIteration, ResidentSize.kb(), (System.nanoTime() - start) / 1e9);
      }
    }
  }

  /** A fifth of the loop, at least {@code least} iterations, at most half. */
  private static int warmup(int n, int least) {
    return Math.min(n / 2, Math.max(least, n / 5));
  }

  private static void report(String loop, int steps, int warmup, ResidentSize.Floors f, long start, double sink) {
    System.out.printf(
        Locale.ROOT,
        "soak loop=%s steps=%d warmup=%d rss_warm_kb=%d rss_end_kb=%d growth_kb=%d seconds=%.1f finite=%b%n",
        loop, steps, warmup, f.warm(), f.end(), f.end() - f.warm(), (System.nanoTime() - start) / 1e9,
        Double.isFinite(sink));
  }
}
