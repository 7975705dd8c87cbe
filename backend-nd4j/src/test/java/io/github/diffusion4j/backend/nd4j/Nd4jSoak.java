package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.ResidentSize;
import java.util.List;
import java.util.Locale;

/**
 * Runs the tutorial's training loop, a DDPM sampling loop, or U-Net training steps (each with a moving
 * average update and a prediction) for a number of steps and prints the resident set size (VmRSS) after
 * warm-up and at the end, each the lowest over a few steps ({@link ResidentSize.Floors}):
 *
 * <pre>
 *   soak loop=training steps=2000 warmup=400 rss_warm_kb=... rss_end_kb=... growth_kb=... seconds=...
 * </pre>
 *
 * <p>Run by {@link Nd4jSoakTest} in a fresh JVM with a small, fixed Java heap, so that the heap's own
 * first-touch growth ends during warm-up and what remains is native memory.
 */
public final class Nd4jSoak {
  private Nd4jSoak() {}

  /**
   * Entry point.
   *
   * @param args the loop ({@code training}, {@code sampling} or {@code unet}) and its number of steps
   */
  public static void main(String[] args) {
    String loop = args[0];
    int steps = Integer.parseInt(args[1]);
    try (Backend backend = Nd4jTests.createBackend();
        TutorialWorkload w = new TutorialWorkload(backend, 10_000, 42)) {
      long start = System.nanoTime();
      double sink = 0;
      if (loop.equals("training")) {
        int warmup = Math.min(steps / 2, Math.max(2000, steps / 5));
        ResidentSize.Floors f = new ResidentSize.Floors(warmup, steps);
        for (int i = 0; i < steps; i++) {
          sink += w.trainStep(i);
          f.sample(i);
        }
        report(loop, steps, warmup, f, start, sink);
      } else if (loop.equals("sampling")) {
        // DDPM over the full plan with 128 images: steps / 100 runs of 100 steps each
        Timesteps plan = Timesteps.full(TutorialWorkload.T);
        int runs = Math.max(2, steps / plan.size());
        int warmRuns = Math.min(runs / 2, Math.max(20, runs / 5));
        ResidentSize.Floors f = new ResidentSize.Floors(warmRuns, runs);
        for (int r = 0; r < runs; r++) {
          sink += w.sample(w.ddpm(), 128, plan, r);
          f.sample(r);
        }
        report(loop, runs * plan.size(), warmRuns * plan.size(), f, start, sink);
      } else if (loop.equals("unet")) {
        int warmup = Math.min(steps / 2, Math.max(150, steps / 5));
        ResidentSize.Floors f = new ResidentSize.Floors(warmup, steps);
        try (TrainableModel m = backend.createModel(UNET, OptimizerSpec.adam(1e-3), 7)) {
          for (int i = 0; i < steps; i++) {
            sink += unetStep(backend, m, i);
            f.sample(i);
          }
        }
        report(loop, steps, warmup, f, start, sink);
      } else {
        throw new IllegalArgumentException("loop must be training, sampling or unet, got " + loop);
      }
    }
  }

  /**
   * The U-Net of the soak: 1x16x16 images, two levels of 8 and 16 channels, attention, dropout 0.1, so a
   * step takes every path of the network (dropout masks, skip concatenations, up- and downsampling,
   * shortcuts, attention) in a few tens of milliseconds.
   */
  static final UNetSpec UNET = new UNetSpec(Shape.of(1, 16, 16), 1000, 8, List.of(1, 2), 1, true, 4, 0.1);

  /** Images per U-Net step. */
  static final int UNET_BATCH = 32;

  /** One U-Net training step with its moving average, then a prediction, as a trainer and a sampler do. */
  private static double unetStep(Backend backend, TrainableModel unet, int i) {
    TensorFactory t = backend.tensors();
    Shape shape = Shape.batchOf(UNET_BATCH, UNET.imageShape());
    Noise noise = Noise.seeded(11).split(i);
    int[] ts = new int[UNET_BATCH];
    for (int j = 0; j < ts.length; j++) {
      ts[j] = (i * 37 + j * 101) % UNET.numTrainTimesteps();
    }
    try (TensorScope scope = t.openScope()) {
      Tensor x = t.fromArray(noise.split(0).normals(shape.size()), shape);
      Tensor y = t.fromArray(noise.split(1).normals(shape.size()), shape);
      double loss = unet.step(x, ts, y).loss();
      unet.updateEma(0.999);
      return loss + unet.predict(x, ts).sum();
    }
  }

  private static void report(String loop, int steps, int warmup, ResidentSize.Floors f, long start, double sink) {
    System.out.printf(
        Locale.ROOT,
        "soak loop=%s steps=%d warmup=%d rss_warm_kb=%d rss_end_kb=%d growth_kb=%d seconds=%.1f finite=%b%n",
        loop,
        steps,
        warmup,
        f.warm(),
        f.end(),
        f.end() - f.warm(),
        (System.nanoTime() - start) / 1e9,
        Double.isFinite(sink));
  }
}
