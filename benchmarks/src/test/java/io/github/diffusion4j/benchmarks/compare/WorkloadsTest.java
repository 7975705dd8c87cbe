package io.github.diffusion4j.benchmarks.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The arithmetic and the clocks under every figure of {@code diffusion bench}'s Java side. */
class WorkloadsTest {

  @Test
  void theMedianOfAnEvenNumberIsTheUpperOfTheTwoMiddleValuesAsDocumented() {
    assertEquals(3.0, Workloads.median(new double[] {4, 1, 3, 2})); // sorted 1 2 3 4: the upper middle
    assertEquals(3.0, Workloads.median(new double[] {5, 1, 3}));
    assertEquals(7.0, Workloads.median(new double[] {7}));
    double[] given = {4, 1, 3, 2};
    Workloads.median(given);
    assertArrayEquals(new double[] {4, 1, 3, 2}, given, "the caller's values are not sorted in place");
  }

  @Test
  void stepsPerSecondAreEachBlocksStepsOverItsOwnTime() {
    // blocks of 10 steps from 1 s to 3 s and from 3 s to 4 s
    assertArrayEquals(new double[] {5.0, 10.0}, Workloads.rates(new long[] {1_000_000_000L, 3_000_000_000L,
        4_000_000_000L}, 10), 1e-12);
  }

  @Test
  void aTimingCountsEveryCallFromTheFirst() {
    AtomicInteger calls = new AtomicInteger();
    double s = Workloads.seconds(() -> {
      calls.incrementAndGet();
      sleep(40);
    }, 3);
    assertEquals(3, calls.get());
    assertTrue(s >= 0.12 && s < 2, "three calls of 40 ms: " + s);
  }

  @Test
  void aWarmUpCallsOnceAtLeastAndGoesOnForItsSeconds() {
    AtomicInteger calls = new AtomicInteger();
    Workloads.repeatFor(0, calls::incrementAndGet);
    assertEquals(1, calls.get());
    calls.set(0);
    long start = System.nanoTime();
    Workloads.repeatFor(0.1, () -> {
      calls.incrementAndGet();
      sleep(10);
    });
    assertTrue(System.nanoTime() - start >= 100_000_000L);
    assertTrue(calls.get() >= 2, calls + " calls");
  }

  @Test
  void trainingIsTimedAfterItsWarmUpAsStepsPerSecondAndTheForwardPassAsSecondsPerCall() {
    long start = System.nanoTime();
    double[] train = new double[2];
    double[] forward = new double[2];
    Workloads.timeTrainingAndForward(() -> {
      // steps in the first 0.2 s, the warm-up's, are slow, as a JIT's first steps are
      sleep(System.nanoTime() - start < 200_000_000L ? 60 : 10);
    }, () -> sleep(30), 4, 0.2, train, forward);
    for (int r = 0; r < 2; r++) {
      // above 30: a loaded machine's sleeps overrun, but a block with the warm-up's 60 ms steps runs at 17 steps/s
      assertTrue(train[r] > 30 && train[r] <= 100, "4 steps of 10 ms: at most 100 steps/s, " + train[r]);
      assertTrue(forward[r] >= 0.03 && forward[r] < 0.1, "30 ms a call: " + forward[r]);
    }
  }

  @Test
  void theTrainingBlocksBeginAfterTheWarmUpAndTheLastEndStopsTraining() {
    long[] now = {0};
    long[] marks = new long[3];
    AtomicInteger stops = new AtomicInteger();
    io.github.diffusion4j.training.TrainingListener l = Workloads.blockMarks(marks, 4, 2, () -> now[0],
        stops::incrementAndGet);
    for (long step = 0; step <= 8 && stops.get() == 0; step++) {
      now[0] = 1000 * step;
      l.onStep(step, 0, 0.0);
    }
    // warm-up steps 0-3; blocks of 2 steps begin at steps 4 and 6, the last ends at step 8
    assertArrayEquals(new long[] {4000, 6000, 8000}, marks);
    assertEquals(1, stops.get());
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }
}
