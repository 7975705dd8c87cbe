package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.Normalization;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.sampling.DdpmSampler;
import io.github.diffusion4j.sampling.ReverseStepResult;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingLoop;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.testkit.GaussianOracle;
import io.github.diffusion4j.testkit.ReferenceBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import org.junit.jupiter.api.Test;

/** The trajectory the GIF and the frame strip show starts from the x_T the sampling loop starts from. */
class SamplingConsoleTest {
  private static final ReferenceBackend REF = new ReferenceBackend();

  @Test
  void theFirstFrameIsTheFirstBatchsStartingNoise() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(12));
    Sampler ddpm = new DdpmSampler(sch, PredictionType.EPSILON, VarianceType.FIXED_SMALL, SampleClipping.NONE, REF);
    SamplingRequest all = SamplingRequest.of(6, Shape.of(1, 2, 2), 17, Timesteps.full(12));
    int keep = 2;
    SamplingConsole console = new SamplingConsole("ddpm", false, keep, 50).batches(2);
    try (TensorScope scope = REF.openScope()) {
      // two batches, as Diffusion.sampleImages walks them: the frames come from the first only
      ddpm.sample(GaussianOracle.of(sch, 0.1, 0.5, REF), REF, all.slice(0, 3), console);
      ddpm.sample(GaussianOracle.of(sch, 0.1, 0.5, REF), REF, all.slice(3, 3), console);
      float[] xT = SamplingLoop.initialNoise(REF, all).toFloatArray();
      assertArrayEquals(Normalization.denormalize(Arrays.copyOf(xT, keep * 4)), console.frames().get(0));
    }
    assertEquals(-1, console.frameSteps().get(0));
    assertEquals(13, console.frames().size(), "x_T and the 12 steps of the first batch");
    assertEquals(1, console.frameSteps().stream().filter(s -> s == -1).count(), "one starting frame");
  }

  /**
   * A plan of more steps than frames keeps every ceil(steps / frames)-th step and the last (12 steps, 5 frames: x_T,
   * then steps 2, 5, 8 and 11, counted from 0), so the GIF spreads over the whole walk.
   */
  @Test
  void aPlanLongerThanTheFramesKeepsEvenlySpreadStepsAndTheLast() {
    Schedule sch = Schedule.of(ScheduleSpec.linear(12));
    Sampler ddpm = new DdpmSampler(sch, PredictionType.EPSILON, VarianceType.FIXED_SMALL, SampleClipping.NONE, REF);
    SamplingRequest all = SamplingRequest.of(2, Shape.of(1, 2, 2), 17, Timesteps.full(12));
    SamplingConsole console = new SamplingConsole("ddpm", false, 1, 5).batches(1);
    try (TensorScope scope = REF.openScope()) {
      ddpm.sample(GaussianOracle.of(sch, 0.1, 0.5, REF), REF, all, console);
    }
    assertEquals(List.of(-1, 2, 5, 8, 11), console.frameSteps());
    assertEquals(5, console.frames().size());
  }

  /**
   * The bar's clock starts before the first step: started after it (as before), the first step's time was missing from
   * the elapsed time and the ETA, and a DDIM-2 run of a 256x256 model showed "1/2 steps (0:00:00 / 0:00:00)".
   */
  @Test
  void theBarCountsTheFirstStepsTime() throws InterruptedException {
    List<String> lines = new ArrayList<>();
    Timesteps plan = Timesteps.of(1000, 999, 499);
    SamplingConsole console = new SamplingConsole("ddim", true, 0, 0,
        new DelegatingProgressBarConsumer(line -> {
          synchronized (lines) {
            lines.add(line);
          }
        }, 120), null, System::nanoTime);
    long before = System.nanoTime();
    try (TensorScope scope = REF.openScope()) {
      var x = REF.zeros(Shape.of(1, 1, 2, 2));
      console.onStart(plan, x);
      Thread.sleep(1100); // the first step
      console.onStep(0, plan, new ReverseStepResult(x, null));
      console.onStep(1, plan, new ReverseStepResult(x, null));
    }
    long wallSeconds = (long) Math.ceil((System.nanoTime() - before) / 1e9);
    String last;
    synchronized (lines) {
      last = lines.get(lines.size() - 1);
    }
    // the bar's elapsed time (H:MM:SS, whole seconds) counts the first step: at least 1 s, where a clock started
    // after it showed 0:00:00. Its upper bound is the wall time the two steps took here, not 0:00:01: a loaded or
    // slow machine may stall the test thread for most of a second between the sleep and the bar's last render
    java.util.regex.Matcher elapsed = java.util.regex.Pattern.compile("2/2 steps \\((\\d+):(\\d{2}):(\\d{2}) ")
        .matcher(last);
    assertTrue(elapsed.find(), "the bar's last line shows both steps and the elapsed time: " + last);
    long seconds = Long.parseLong(elapsed.group(1)) * 3600 + Long.parseLong(elapsed.group(2)) * 60
        + Long.parseLong(elapsed.group(3));
    assertTrue(seconds >= 1, "the elapsed time counts the first step: " + last);
    assertTrue(seconds <= wallSeconds, "the elapsed time is at most the " + wallSeconds + " s the steps took: " + last);
  }

  /** A run that ends early (a failure, an interrupt) closes its bar, whose thread would go on drawing it. */
  @Test
  void closingEndsABarLeftOpenByARunThatEndedEarly() {
    java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger drawn = new java.util.concurrent.atomic.AtomicInteger();
    SamplingConsole console = new SamplingConsole("ddim", true, 0, 0,
        new DelegatingProgressBarConsumer(line -> drawn.incrementAndGet(), 120) {
          @Override
          public void close() {
            closed.set(true);
            super.close();
          }
        }, null, System::nanoTime);
    Timesteps plan = Timesteps.of(1000, 999, 499);
    try (TensorScope scope = REF.openScope()) {
      var x = REF.zeros(Shape.of(1, 1, 2, 2));
      console.onStart(plan, x);
      console.onStep(0, plan, new ReverseStepResult(x, null)); // the run fails before its second step
    }
    // the bar's thread has drawn it (progressbar 0.10 closes its consumer only once the bar has been drawn: a bar
    // closed before is cancelled without the call this test watches for)
    long until = System.nanoTime() + 10_000_000_000L;
    while (drawn.get() == 0 && System.nanoTime() < until) {
      Thread.onSpinWait();
    }
    assertTrue(drawn.get() > 0, "drawn");
    assertFalse(closed.get(), "open while the run goes on");
    console.close(); // waits for the bar's thread to close it
    assertTrue(closed.get(), "closed");
    console.close(); // again: nothing left to close
  }

  /** Off a terminal (a log, nohup): a line every 30 s of a long run, none for a short one and none at the end. */
  @Test
  void offATerminalALongRunPrintsALineEveryThirtySeconds() {
    java.io.StringWriter text = new java.io.StringWriter();
    long[] now = {0};
    Timesteps plan = Timesteps.of(1000, 999, 749, 499, 249);
    SamplingConsole console = new SamplingConsole("ddim", false, 0, 0, null, new java.io.PrintWriter(text),
        () -> now[0]).batches(2);
    long second = 1_000_000_000L;
    try (TensorScope scope = REF.openScope()) {
      var x = REF.zeros(Shape.of(1, 1, 2, 2));
      for (int b = 0; b < 2; b++) {
        console.onStart(plan, x);
        for (int i = 0; i < plan.size(); i++) {
          now[0] += 20 * second; // a 256x256 model's step
          console.onStep(i, plan, new ReverseStepResult(x, null));
        }
      }
    }
    // 8 steps of 20 s: lines at 40 s (2 steps), 80 s (4) and 120 s (6); none at 160 s, the end
    assertEquals(String.join("\n", "ddim: 2/8 steps, 0m40s elapsed, eta 2m00s", "ddim: 4/8 steps, 1m20s elapsed, eta 1m20s",
        "ddim: 6/8 steps, 2m00s elapsed, eta 0m40s", ""), text.toString());
    java.io.StringWriter quick = new java.io.StringWriter();
    SamplingConsole shortRun = new SamplingConsole("ddim", false, 0, 0, null, new java.io.PrintWriter(quick),
        () -> now[0]);
    try (TensorScope scope = REF.openScope()) {
      var x = REF.zeros(Shape.of(1, 1, 2, 2));
      shortRun.onStart(plan, x);
      for (int i = 0; i < plan.size(); i++) {
        now[0] += second;
        shortRun.onStep(i, plan, new ReverseStepResult(x, null));
      }
    }
    assertEquals("", quick.toString(), "a run shorter than 30 s prints nothing");
  }

  /**
   * A resampled inpainting walks some positions again: with the steps of a batch set, the lines count the steps as
   * they come (2 batches of the route 0, 1, 2, 1, 2, 3: 12 steps), not by plan position, and the batches turn over
   * after each batch's steps although the last position comes more than once.
   */
  @Test
  void stepsPerBatchCountsTheStepsOfAResampledWalk() {
    java.io.StringWriter text = new java.io.StringWriter();
    long[] now = {0};
    Timesteps plan = Timesteps.of(1000, 999, 749, 499, 249);
    SamplingConsole console = new SamplingConsole("ddpm", false, 0, 0, null, new java.io.PrintWriter(text),
        () -> now[0]).batches(2).stepsPerBatch(6);
    long second = 1_000_000_000L;
    try (TensorScope scope = REF.openScope()) {
      var x = REF.zeros(Shape.of(1, 1, 2, 2));
      for (int b = 0; b < 2; b++) {
        console.onStart(plan, x);
        for (int i : new int[] {0, 1, 2, 3, 2, 3}) {
          now[0] += 20 * second;
          console.onStep(i, plan, new ReverseStepResult(x, null));
        }
      }
    }
    assertEquals(String.join("\n", "ddpm: 2/12 steps, 0m40s elapsed, eta 3m20s",
        "ddpm: 4/12 steps, 1m20s elapsed, eta 2m40s", "ddpm: 6/12 steps, 2m00s elapsed, eta 2m00s",
        "ddpm: 8/12 steps, 2m40s elapsed, eta 1m20s", "ddpm: 10/12 steps, 3m20s elapsed, eta 0m40s", ""),
        text.toString());
  }
}
