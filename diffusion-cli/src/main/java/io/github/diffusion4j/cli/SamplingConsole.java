package io.github.diffusion4j.cli;

import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.sampling.StepResult;
import io.github.diffusion4j.schedule.Timesteps;
import java.util.ArrayList;
import java.util.List;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Sampling progress on a terminal, and the trajectory frames the GIF and the frame strip need: the
 * denormalised current sample of the first {@code keep} images at chosen plan positions. Images sampled in
 * several batches (one walk over the plan each) show as one bar; frames come from the first batch.
 */
final class SamplingConsole implements SamplingListener {
  private final String task;
  private final boolean terminal;
  private final int keep;
  private final int maxFrames;
  private final List<float[]> frames = new ArrayList<>();
  private final List<Integer> frameSteps = new ArrayList<>();
  private int batches = 1;
  private int batch;
  private ProgressBar bar;

  /**
   * @param task the bar's name
   * @param terminal whether to draw a bar
   * @param keep how many leading images to record (0 for none)
   * @param maxFrames the most frames to record, spread evenly over the plan (the last always included)
   */
  SamplingConsole(String task, boolean terminal, int keep, int maxFrames) {
    this.task = task;
    this.terminal = terminal;
    this.keep = keep;
    this.maxFrames = maxFrames;
  }

  /**
   * Sets how many batches the images are sampled in (the bar covers them all).
   *
   * @param n the number of batches, at least 1
   * @return this
   */
  SamplingConsole batches(int n) {
    this.batches = Math.max(1, n);
    return this;
  }

  /** Records the starting noise as the first frame. */
  void recordStart(float[] initialDenormalised, int itemSize) {
    if (keep > 0) {
      frames.add(java.util.Arrays.copyOf(initialDenormalised, keep * itemSize));
      frameSteps.add(-1);
    }
  }

  @Override
  public void onStep(int index, Timesteps plan, StepResult result) {
    long total = (long) plan.size() * batches;
    if (bar == null && terminal && batch < batches) {
      bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
          .setUpdateIntervalMillis(200).setUnit(" steps", 1).build();
    }
    long done = (long) batch * plan.size() + index + 1;
    if (bar != null) {
      bar.stepTo(done);
      if (done >= total) {
        bar.close();
        bar = null;
      }
    }
    if (batch == 0 && keep > 0 && maxFrames > 0 && isFrame(index, plan.size())) {
      float[] all = result.prev().toFloatArray();
      int k = all.length / result.prev().shape().batch();
      float[] f = new float[keep * k];
      for (int i = 0; i < f.length; i++) {
        float v = (all[i] + 1f) * 0.5f;
        f[i] = v < 0 ? 0 : (v > 1 ? 1 : v);
      }
      frames.add(f);
      frameSteps.add(index);
    }
    if (index == plan.size() - 1) {
      batch++;
    }
  }

  private boolean isFrame(int index, int n) {
    if (index == n - 1 || n <= maxFrames) {
      return true;
    }
    int every = (int) Math.ceil((double) n / maxFrames);
    return (index + 1) % every == 0;
  }

  List<float[]> frames() {
    return frames;
  }

  List<Integer> frameSteps() {
    return frameSteps;
  }
}
