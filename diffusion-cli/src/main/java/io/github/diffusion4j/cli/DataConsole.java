package io.github.diffusion4j.cli;

import io.github.diffusion4j.data.DataProgress;
import io.github.diffusion4j.runtime.DataReport;
import io.github.diffusion4j.runtime.Diffusion;
import java.io.PrintWriter;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a data preparation (decoding images into a cache): a live bar on a terminal, a line per
 * tenth otherwise; and the data report once it is ready.
 */
final class DataConsole implements DataProgress {
  private final PrintWriter out;
  private final boolean terminal;
  private final boolean cache;
  private ProgressBar bar;
  private String current;
  private int lastTenth;

  /**
   * A console.
   *
   * @param out where lines go
   * @param terminal whether to draw a live bar
   * @param cache whether the images are decoded into the image cache (else only checked)
   */
  DataConsole(PrintWriter out, boolean terminal, boolean cache) {
    this.out = out;
    this.terminal = terminal;
    this.cache = cache;
  }

  /**
   * Checks the data and builds its image cache ({@link Diffusion#prepareData}), which can take minutes, with its
   * progress on {@code out}: Ctrl-C (or SIGTERM) interrupts the build, whose temporary cache file is deleted before
   * the guard lets the JVM go (without the guard the JVM exited at once and left it, as large as the data set, until
   * a later build tidied it), and the guard says {@code interrupted; NOTHINGDONE} ({@link InterruptGuard#said}).
   *
   * @param d the session
   * @param out where the progress goes
   * @param nothingDone what an interrupt left undone, said after "interrupted; "
   * @return the report, or null if a signal interrupted the preparation (then said on {@code out}; nothing is left
   *     of it)
   */
  static DataReport prepare(Diffusion d, PrintWriter out, String nothingDone) {
    Thread preparing = Thread.currentThread();
    try (InterruptGuard guard = new InterruptGuard(preparing::interrupt)) {
      return prepare(d, out, nothingDone, guard);
    }
  }

  /**
   * {@link #prepare(Diffusion, PrintWriter, String)} under the command's own guard, which a signal makes interrupt the
   * command's thread meanwhile ({@link InterruptGuard#beforeTraining}): {@code train}'s, which holds from before its
   * configuration is opened until it ends, so that no signal falls between two guards.
   *
   * @param d the session
   * @param out where the progress goes
   * @param nothingDone what an interrupt left undone, said after "interrupted; "
   * @param guard the command's guard
   * @return the report, or null if a signal interrupted the preparation (then said on {@code out})
   */
  static DataReport prepare(Diffusion d, PrintWriter out, String nothingDone, InterruptGuard guard) {
    DataConsole console = new DataConsole(out, TrainingConsole.isTerminal(), true);
    try {
      DataReport report = d.prepareData(console);
      if (Thread.currentThread().isInterrupted()) { // a signal as the build ended (or before it): no further
        throw new java.util.concurrent.CancellationException("interrupted once the data was prepared");
      }
      return report;
    } catch (RuntimeException e) { // the build's cancellation (a channel closed by the interrupt, a decoding cut short)
      console.close(); // the progress line ends before the guard's
      guard.said(e, out, nothingDone); // said while the guard holds the JVM; another failure is rethrown
      return null;
    }
  }

  @Override
  public void onProgress(String what, int done, int total) {
    if (!what.equals(current)) {
      close();
      current = what;
      lastTenth = 0;
      out.printf(Locale.ROOT, cache ? "decoding %s: %,d images into the image cache (once; later runs reuse it)%n"
          : "decoding %s: %,d images to check them%n", what, total);
      if (terminal) {
        bar = new ProgressBarBuilder().setTaskName("decode").setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
            .setUpdateIntervalMillis(250).continuousUpdate().showSpeed().setUnit(" images", 1).build();
      }
    }
    if (bar != null) {
      bar.stepTo(done);
    } else if (done * 10L / Math.max(1, total) > lastTenth || done == total) {
      lastTenth = (int) (done * 10L / Math.max(1, total));
      out.printf(Locale.ROOT, "  %,d / %,d%n", done, total);
    }
    if (done == total) {
      close();
      current = null;
    }
  }

  /** Ends a live progress bar, if one is drawn (before a line that follows it). */
  void close() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }

  /** Prints a data report: a line per set and the first skipped images. */
  static void print(PrintWriter out, DataReport report, int maxSkipped) {
    for (String line : report.lines(maxSkipped)) {
      out.println(line.startsWith(" ") ? line : "data " + line);
    }
  }
}
