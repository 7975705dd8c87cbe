package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.testkit.ResidentSize;
import io.github.diffusion4j.testkit.SoakJvm;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Long loops keep a flat resident size: {@link Nd4jSoak} runs the tutorial MLP's training loop and DDPM
 * sampling loop for {@code -Dnd4j.soak.steps} steps (default 4,000, a few seconds), and U-Net training
 * steps (see {@link #theUNetLoopKeepsAFlatResidentSize}), each in a fresh JVM ({@link SoakJvm}) whose
 * 512 MB heap is touched up front ({@code -XX:+AlwaysPreTouch}, so the heap adds nothing to the resident
 * size later and the garbage collector rarely runs, so it cannot hide a leak by freeing unreachable
 * arrays), and each loop's VmRSS may grow by less than 24 MB between the end of warm-up and the end.
 *
 * <p>Warm-up is the first 2,000 steps (or a fifth of a longer run): until then the resident size climbs
 * by 15-35 MB while the JIT compiles the loops and the allocator settles, then stays flat (training,
 * sampled every 10,000 steps: 600 MB at the start with the pre-touched heap, 620 MB at 20,000, 621 MB
 * from 40,000 to 90,000). Why 24 MB: a leak of the two batch tensors a training step copies in
 * (2 x 38 KB) would add ~75 MB over the 2,000 measured steps of the default run, one leaked 128-image
 * sample per sampling step (38 KB) ~75 MB; what remains is JIT and allocator noise of a few MB (measured
 * with 100,000 steps: training +8.9 MB from step 20,000 to the end, sampling +8.6 MB). The full-size run,
 * about a minute and a half:
 * <pre>
 *   ./mvnw -B -pl backend-nd4j -am verify -Dtest=Nd4jSoakTest -Dsurefire.failIfNoSpecifiedTests=false \
 *       -Dnd4j.soak.steps=100000
 * </pre>
 */
class Nd4jSoakTest {
  private static final long BOUND_KB = 24 * 1024;
  private static final long UNET_BOUND_KB = 16 * 1024;

  @Test
  void theTrainingLoopKeepsAFlatResidentSize() throws Exception {
    soak("training");
  }

  @Test
  void theSamplingLoopKeepsAFlatResidentSize() throws Exception {
    soak("sampling");
  }

  /**
   * U-Net training steps, each with a moving-average update and a prediction ({@link Nd4jSoak#UNET}:
   * 1x16x16, two levels, attention, dropout; batch 32), {@code -Dnd4j.soak.unetSteps} of them (default
   * 1,000, one to two minutes), may grow VmRSS by less than 16 MB after the warm-up (the first 150 steps, or
   * a fifth), comparing the lowest VmRSS of 20 steps after warm-up and of the last 20. Single samples swing
   * by ±9 MB while the JIT compiles (its arenas are malloc'd and freed), and the resident size settles for
   * a few hundred steps: without a leak it grew by 2.9-7.7 MB between those windows over 500 steps on a
   * quiet machine (two glibc arenas, set for the child JVM; 1.5-7.3 MB with the default arenas, and
   * 3.5-8.8 MB for the hand-written U-Net this backend had before), and by 10.8 MB once with the machine's
   * two cores shared by a build, a training run and an evaluation (the JIT compiles later there), which
   * failed the earlier 10 MB bound of 500 steps. Why 1,000 steps and 16 MB: a step's batch tensors and
   * prediction are 32 KB each; one of them leaked per step measured +14.8 MB over the ~330 steps between the
   * windows of 500 steps, so it would add about +34 MB over the ~780 of 1,000 steps, twice the bound, while the settling
   * noise does not grow with the steps; a workspace rebuilt per step adds far more.
   */
  @Test
  void theUNetLoopKeepsAFlatResidentSize() throws Exception {
    soak("unet", System.getProperty("nd4j.soak.unetSteps", "1000"), UNET_BOUND_KB);
  }

  private static void soak(String loop) throws Exception {
    soak(loop, System.getProperty("nd4j.soak.steps", "4000"), BOUND_KB);
  }

  /** Runs one loop in a fresh JVM (so the other loop's garbage cannot hide a leak) and checks it. */
  private static void soak(String loop, String steps, long boundKb) throws Exception {
    Assumptions.assumeTrue(ResidentSize.measurable(), "needs /proc (Linux)");
    Map<String, String> fields = SoakJvm.run(Nd4jSoak.class, loop, steps);
    assertEquals(loop, fields.get("loop"), "no result line: " + fields);
    assertEquals("true", fields.get("finite"), loop + " produced non-finite values");
    long growth = Long.parseLong(fields.get("growth_kb"));
    assertTrue(growth < boundKb, loop + ": VmRSS grew by " + growth + " kB after warm-up: " + fields);
  }
}
