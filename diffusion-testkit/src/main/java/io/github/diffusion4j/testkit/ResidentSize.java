package io.github.diffusion4j.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The resident set size (VmRSS) of this process, and its floor over a window of steps right after warm-up
 * and over the last steps of a loop: what the soak tests of every backend measure.
 */
public final class ResidentSize {
  private ResidentSize() {}

  /**
   * Whether this system reports the resident size ({@code /proc/self/status}, Linux).
   *
   * @return true where {@link #kb()} works
   */
  public static boolean measurable() {
    return Files.isReadable(Path.of("/proc/self/status"));
  }

  /**
   * The resident set size of this process.
   *
   * @return VmRSS in kB, from {@code /proc/self/status}
   * @throws UncheckedIOException if the file cannot be read
   * @throws IllegalStateException if it has no VmRSS line
   */
  public static long kb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read /proc/self/status", e);
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  /**
   * The lowest VmRSS over a window of iterations right after warm-up and over the last iterations. The floor
   * leaves out transient peaks that are no leak: the JIT compiler's arenas, several megabytes of malloc'd
   * memory while it compiles a large method, freed afterwards, appear in single samples taken a hundred steps
   * apart as growth or shrinkage of ±9 MB. A leak raises the floor like any sample.
   */
  public static final class Floors {
    private final int warmFrom;
    private final int warmTo;
    private final int endFrom;
    private long warm = Long.MAX_VALUE;
    private long end = Long.MAX_VALUE;

    /**
     * Floors of a loop of {@code steps} iterations whose first {@code warmup} are warm-up; each window is a
     * tenth of the measured iterations, at most 20.
     *
     * @param warmup the iterations of warm-up, fewer than {@code steps}
     * @param steps the iterations of the loop
     */
    public Floors(int warmup, int steps) {
      int window = Math.max(1, Math.min(20, (steps - warmup) / 10));
      this.warmFrom = warmup;
      this.warmTo = warmup + window;
      this.endFrom = steps - window;
    }

    /**
     * Reads VmRSS after iteration {@code i} if it falls in one of the two windows.
     *
     * @param i the iteration just done, from 0
     */
    public void sample(long i) {
      if (i >= warmFrom && i < warmTo) {
        warm = Math.min(warm, kb());
      }
      if (i >= endFrom) {
        end = Math.min(end, kb());
      }
    }

    /**
     * The floor of the window after warm-up.
     *
     * @return kB
     */
    public long warm() {
      return warm;
    }

    /**
     * The floor of the last window.
     *
     * @return kB
     */
    public long end() {
      return end;
    }
  }
}
