package io.github.diffusion4j.cli;

import io.github.diffusion4j.training.EpochSummary;
import io.github.diffusion4j.training.LogRecord;
import io.github.diffusion4j.training.TrainingListener;
import io.github.diffusion4j.training.TrainingSummary;
import java.io.PrintWriter;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Training progress: a live bar (epoch, step, loss, steps/s, ETA) on a terminal, one plain line per log
 * interval otherwise, so CI logs stay readable.
 */
final class TrainingConsole implements TrainingListener {
  private final PrintWriter out;
  private final boolean terminal;
  private ProgressBar bar;
  private long total;
  private long startStep;
  private long startNanos;

  /** Whether the rate changes during the run ({@code training.lr_schedule}, a warm-up), so lines show it. */
  private final boolean showRate;
  /** The rate of the last logged step, shown on the bar (NaN before the first log). */
  private double lastRate = Double.NaN;

  /**
   * A console.
   *
   * @param out where lines go
   * @param terminal whether to draw a live bar
   * @param showRate whether the learning rate changes during the run, so that progress shows it
   */
  TrainingConsole(PrintWriter out, boolean terminal, boolean showRate) {
    this.out = out;
    this.terminal = terminal;
    this.showRate = showRate;
  }

  static boolean isTerminal() {
    return isTerminal(Consoles.isInteractive(), System.getenv("CI"), System.getenv("TERM"), standardErrorTarget());
  }

  /**
   * Whether to draw live bars: {@code console} (stdin and stdout are a terminal) is not enough, since the bars
   * are drawn on stderr, which {@code 2>train.log} sends to a file (it got carriage returns and cursor moves
   * four times a second); a terminal that cannot move the cursor ({@code TERM=dumb}) gets lines too.
   *
   * @param console whether {@link System#console()} is there
   * @param ci the variable {@code CI}, or null
   * @param term the variable {@code TERM}, or null
   * @param stderr what file descriptor 2 is open on (from {@code /proc/self/fd/2}), or empty where unknown
   * @return whether to draw bars
   */
  static boolean isTerminal(boolean console, String ci, String term, java.util.Optional<String> stderr) {
    if (!console || ci != null || "dumb".equals(term)) {
      return false;
    }
    return stderr.map(t -> t.startsWith("/dev/pts/") || t.startsWith("/dev/tty") || t.equals("/dev/console"))
        .orElse(true);
  }

  /** The file stderr is open on (Linux: {@code /proc/self/fd/2}), or empty where that cannot be read. */
  static java.util.Optional<String> standardErrorTarget() {
    return descriptorTarget(2);
  }

  /**
   * What a file descriptor of this process is open on (Linux: the link {@code /proc/self/fd/N}: a file's path,
   * {@code /dev/pts/3}, {@code pipe:[12345]}), or empty where that cannot be read.
   */
  static java.util.Optional<String> descriptorTarget(int fd) {
    try {
      return java.util.Optional.of(java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + fd))
          .toString());
    } catch (java.io.IOException | UnsupportedOperationException | SecurityException e) {
      return java.util.Optional.empty();
    }
  }

  @Override
  public void onStart(io.github.diffusion4j.training.TrainingProgress from, long totalSteps) {
    total = totalSteps;
    startStep = from.step();
    startNanos = System.nanoTime();
    if (from.step() > 0) {
      out.printf(Locale.ROOT, "resuming at step %d (epoch %d)%n", from.step(), from.epoch() + 1);
    }
    if (terminal) {
      bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(totalSteps).setStyle(ProgressBarStyle.ASCII)
          .setUpdateIntervalMillis(250).continuousUpdate().showSpeed().setUnit(" steps", 1).startsFrom(from.step(),
              java.time.Duration.ZERO).build();
    }
  }

  @Override
  public void onStep(long step, int epoch, double loss) {
    if (bar != null) {
      bar.stepTo(step);
      if (step % 10 == 0) {
        bar.setExtraMessage(String.format(Locale.ROOT, "epoch %d loss %.4f", epoch + 1, loss) + rateText(lastRate));
      }
    }
  }

  @Override
  public void onLog(LogRecord r) {
    lastRate = r.learningRate();
    if (bar == null) {
      double elapsed = (System.nanoTime() - startNanos) / 1e9;
      double rate = (r.step() - startStep) / Math.max(elapsed, 1e-9);
      double eta = rate > 0 ? (total - r.step()) / rate : Double.NaN;
      out.printf(Locale.ROOT, "epoch %d step %d/%d loss %.4f (mean %.4f)%s %s steps/s eta %s%n", r.epoch() + 1,
          r.step(), total, r.trainLoss(), r.meanLoss(), rateText(r.learningRate()), rate(r.stepsPerSecond()),
          duration(eta));
    }
  }

  @Override
  public void onEpochEnd(EpochSummary e) {
    String msg = String.format(Locale.ROOT, "epoch %d done: train loss %.4f%s", e.epoch() + 1, e.trainLoss(),
        e.evalLoss().isPresent() ? String.format(Locale.ROOT, ", eval loss %.4f", e.evalLoss().getAsDouble()) : "");
    if (bar != null) {
      bar.setExtraMessage(msg);
    } else {
      out.println(msg);
    }
  }

  @Override
  public void onEnd(TrainingSummary s) {
    if (bar != null) {
      bar.close();
      bar = null;
    }
    out.printf(Locale.ROOT, "%s at step %d in %.1f s (%s steps/s)%n", s.completed() ? "finished" : "stopped",
        s.progress().step(), s.elapsedSeconds(), rate(s.stepsPerSecond()));
  }

  /** {@code " lr 2.50e-04"} where the run's rate changes and is known, else nothing. */
  String rateText(double learningRate) {
    return showRate && Double.isFinite(learningRate)
        ? String.format(Locale.ROOT, " lr %.2e", learningRate) : "";
  }

  /** Steps per second as printed: whole numbers from 10, two decimals below (a U-Net's 0.47 is not 0). */
  static String rate(double stepsPerSecond) {
    return String.format(Locale.ROOT, stepsPerSecond >= 10 ? "%.0f" : "%.2f", stepsPerSecond);
  }

  static String duration(double seconds) {
    if (!Double.isFinite(seconds)) {
      return "?";
    }
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60)
        : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
  }
}
