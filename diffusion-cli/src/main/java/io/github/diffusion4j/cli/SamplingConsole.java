package io.github.diffusion4j.cli;

import io.github.diffusion4j.data.Normalization;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.sampling.ReverseStepResult;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Sampling progress: a bar on a terminal, elsewhere (a log, {@code nohup}) a line every 30 seconds; and the trajectory frames the GIF and the frame strip need: the
 * denormalised current sample of the first {@code keep} images at chosen plan positions. Images sampled in
 * several batches (one walk over the plan each) show as one bar; frames come from the first batch.
 */
final class SamplingConsole implements SamplingListener, AutoCloseable {
  private final String task;
  private final boolean terminal;
  private final int keep;
  private final int maxFrames;
  private final List<float[]> frames = new ArrayList<>();
  private final List<Integer> frameSteps = new ArrayList<>();
  private int batches = 1;
  private int batch;
  /** The reverse steps of a batch where they are not the plan's positions (RePaint's resampling), else 0. */
  private int stepsPerBatch;
  /** The steps of the current batch so far, counted where {@link #stepsPerBatch} is set. */
  private int stepInBatch;
  private ProgressBar bar;
  private final ProgressBarConsumer consumer;
  /** Off a terminal: where a progress line goes at most every {@link #LINE_EVERY_NANOS}, or null. */
  private final java.io.PrintWriter lines;
  private final java.util.function.LongSupplier clock;
  private long startNanos = -1;
  private long lastLineNanos;

  /** Off a terminal a line every 30 s: a long run (a 256x256 model, minutes) shows it lives; a short one stays quiet. */
  static final long LINE_EVERY_NANOS = 30_000_000_000L;

  /**
   * @param task the bar's name
   * @param terminal whether to draw a bar
   * @param keep how many leading images to record (0 for none)
   * @param maxFrames the most frames to record, spread evenly over the plan (the last always included)
   */
  SamplingConsole(String task, boolean terminal, int keep, int maxFrames) {
    this(task, terminal, keep, maxFrames, null, terminal ? null : new java.io.PrintWriter(System.err, true),
        System::nanoTime);
  }

  /**
   * As above, the bar drawn by {@code consumer} (null: the terminal's), and off a terminal the progress lines
   * written to {@code lines} (null: none) by the time of {@code clock}.
   */
  SamplingConsole(String task, boolean terminal, int keep, int maxFrames, ProgressBarConsumer consumer,
      java.io.PrintWriter lines, java.util.function.LongSupplier clock) {
    this.task = task;
    this.terminal = terminal;
    this.keep = keep;
    this.maxFrames = maxFrames;
    this.consumer = consumer;
    this.lines = terminal ? null : lines;
    this.clock = clock;
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

  /**
   * Sets how many reverse steps a batch takes where the walk is not the plan once (inpainting with resampling walks
   * some positions again): the bar and the frames then count the steps as they come, not by plan position.
   *
   * @param n the steps of one batch, at least 1
   * @return this
   */
  SamplingConsole stepsPerBatch(int n) {
    this.stepsPerBatch = Math.max(1, n);
    return this;
  }

  /**
   * Starts the bar, at 0 steps, before the first step runs (its clock then counts that step: a bar started after it
   * showed "1/4 steps (0:00:00 / 0:00:00)" where the step of a 256x256 model had taken 5 s, and every later ETA was
   * short by one step's share), and records the first batch's starting noise {@code x_T} as the first frame (step -1).
   */
  @Override
  public void onStart(Timesteps plan, Tensor initial) {
    startBar(plan);
    if (startNanos < 0) {
      startNanos = clock.getAsLong();
      lastLineNanos = startNanos;
    }
    if (batch == 0 && keep > 0 && maxFrames > 0) {
      frames.add(firstImages(initial));
      frameSteps.add(-1);
    }
  }

  /** The bar and the frames read only the samples ({@code prev}), so the samplers may skip {@code x_0}. */
  @Override
  public boolean readsPredictedX0() {
    return false;
  }

  @Override
  public void onStep(int index, Timesteps plan, ReverseStepResult result) {
    int steps = steps(plan);
    int step = stepsPerBatch > 0 ? stepInBatch++ : index;
    long total = (long) steps * batches;
    startBar(plan);
    long done = (long) batch * steps + step + 1;
    if (bar != null) {
      bar.stepTo(done);
      if (done >= total) {
        bar.close();
        bar = null;
      }
    }
    printLine(done, total);
    if (batch == 0 && keep > 0 && maxFrames > 0 && isFrame(step, steps)) {
      frames.add(firstImages(result.prev()));
      frameSteps.add(step);
    }
    if (step == steps - 1) {
      batch++;
      stepInBatch = 0;
    }
  }

  /** The reverse steps of one batch: {@link #stepsPerBatch} where set, else the plan's positions. */
  private int steps(Timesteps plan) {
    return stepsPerBatch > 0 ? stepsPerBatch : plan.size();
  }

  /**
   * Ends the bar where sampling ended early (a failure, an interrupt): its thread would otherwise go on redrawing it
   * around the error's line.
   */
  @Override
  public void close() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }

  /** Off a terminal, every 30 s: "ddim: 12/50 steps, 1m05s elapsed, eta 3m26s". */
  private void printLine(long done, long total) {
    if (lines == null || startNanos < 0 || done >= total) {
      return;
    }
    long now = clock.getAsLong();
    if (now - lastLineNanos < LINE_EVERY_NANOS) {
      return;
    }
    lastLineNanos = now;
    double elapsed = (now - startNanos) / 1e9;
    lines.printf(java.util.Locale.ROOT, "%s: %d/%d steps, %s elapsed, eta %s%n", task, done, total,
        TrainingConsole.duration(elapsed), TrainingConsole.duration(elapsed / done * (total - done)));
    lines.flush();
  }

  private void startBar(Timesteps plan) {
    if (bar == null && terminal && batch < batches) {
      ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax((long) steps(plan) * batches)
          .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).setUnit(" steps", 1);
      if (consumer != null) {
        b.setConsumer(consumer);
      }
      bar = b.build();
    }
  }

  /** The first {@code keep} images of a batch, denormalised to {@code [0, 1]}. */
  private float[] firstImages(Tensor batchTensor) {
    float[] all = batchTensor.toFloatArray();
    int k = all.length / batchTensor.shape().batch();
    return Normalization.denormalize(Arrays.copyOf(all, keep * k));
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
