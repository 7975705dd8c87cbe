package io.github.diffusion4j.cli;

import io.github.diffusion4j.eval.BoundListener;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** The progress of a likelihood evaluation on a terminal, in image-timesteps (one model evaluation of one image). */
final class BoundConsole implements BoundListener {
  private final String task;
  private final boolean terminal;
  private ProgressBar bar;

  /**
   * @param task the bar's name
   * @param terminal whether to draw a bar
   */
  BoundConsole(String task, boolean terminal) {
    this.task = task;
    this.terminal = terminal;
  }

  @Override
  public void onProgress(long done, long total) {
    if (bar == null && terminal) {
      bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
          .setUpdateIntervalMillis(200).setUnit(" image-steps", 1).showSpeed().build();
    }
    if (bar != null) {
      bar.stepTo(done);
      if (done == total) {
        bar.close();
        bar = null;
      }
    }
  }
}
