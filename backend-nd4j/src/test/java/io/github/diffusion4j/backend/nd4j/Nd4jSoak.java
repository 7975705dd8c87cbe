package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.spi.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Runs the tutorial's training loop or a DDPM sampling loop for a number of steps and prints the
 * resident set size (VmRSS) after warm-up and at the end:
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
   * @param args the loop ({@code training} or {@code sampling}) and its number of steps
   * @throws IOException if /proc/self/status cannot be read
   */
  public static void main(String[] args) throws IOException {
    String loop = args[0];
    int steps = Integer.parseInt(args[1]);
    try (Backend backend = Nd4jTests.createBackend();
        TutorialWorkload w = new TutorialWorkload(backend, 10_000, 42)) {
      long start = System.nanoTime();
      long warm = 0;
      double sink = 0;
      if (loop.equals("training")) {
        int warmup = Math.min(steps / 2, Math.max(2000, steps / 5));
        for (int i = 0; i < steps; i++) {
          if (i == warmup) {
            warm = rssKb();
          }
          sink += w.trainStep(i);
        }
        report(loop, steps, warmup, warm, rssKb(), start, sink);
      } else if (loop.equals("sampling")) {
        // DDPM over the full plan with 128 images: steps / 100 runs of 100 steps each
        Timesteps plan = Timesteps.full(TutorialWorkload.T);
        int runs = Math.max(2, steps / plan.size());
        int warmRuns = Math.min(runs / 2, Math.max(20, runs / 5));
        for (int r = 0; r < runs; r++) {
          if (r == warmRuns) {
            warm = rssKb();
          }
          sink += w.sample(w.ddpm(), 128, plan, r);
        }
        report(loop, runs * plan.size(), warmRuns * plan.size(), warm, rssKb(), start, sink);
      } else {
        throw new IllegalArgumentException("loop must be training or sampling, got " + loop);
      }
    }
  }

  private static void report(String loop, int steps, int warmup, long warm, long end, long start, double sink) {
    System.out.printf(
        Locale.ROOT,
        "soak loop=%s steps=%d warmup=%d rss_warm_kb=%d rss_end_kb=%d growth_kb=%d seconds=%.1f finite=%b%n",
        loop,
        steps,
        warmup,
        warm,
        end,
        end - warm,
        (System.nanoTime() - start) / 1e9,
        Double.isFinite(sink));
  }

  /**
   * The resident set size of this process.
   *
   * @return VmRSS in kB
   * @throws IOException if /proc/self/status cannot be read
   */
  static long rssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no VmRSS in /proc/self/status");
  }
}
