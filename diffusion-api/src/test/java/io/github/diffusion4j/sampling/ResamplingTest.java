package io.github.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Resampling}'s route counted before it is built, and a walk no array holds refused in one line. */
class ResamplingTest {

  /** diffusers' {@code RePaintScheduler.set_timesteps} walk, in plan positions, grown as it goes. */
  private static int[] diffusersRoute(int steps, int j, int r) {
    int[] jumps = new int[steps];
    for (int u = 0; u < steps - j; u += j) {
      jumps[u] = r - 1;
    }
    List<Integer> ops = new ArrayList<>();
    int u = steps;
    while (u >= 1) {
      u--;
      ops.add(steps - 1 - u);
      if (jumps[u] > 0) {
        jumps[u]--;
        u += j;
        ops.add(-1 - (steps - u));
      }
    }
    return ops.stream().mapToInt(Integer::intValue).toArray();
  }

  @Test
  void theRouteAndItsModelCallsAreDiffusersWalkCountedExactly() {
    for (int steps = 1; steps <= 40; steps++) {
      for (int j = 1; j <= 12; j++) {
        for (int r = 1; r <= 5; r++) {
          int[] expected = diffusersRoute(steps, j, r);
          Resampling resampling = new Resampling(j, r);
          String what = steps + " steps, " + j + "," + r;
          if (r > 1 && j >= steps) { // diffusers walks the plan once: nothing is resampled, so it is refused
            assertEquals(java.util.stream.IntStream.range(0, steps).boxed().toList(),
                java.util.Arrays.stream(expected).boxed().toList(), what);
            int n = steps;
            assertThrows(IllegalArgumentException.class, () -> resampling.route(n), what);
            assertThrows(IllegalArgumentException.class, () -> resampling.modelCalls(n), what);
            continue;
          }
          assertArrayEquals(expected, resampling.route(steps), what);
          assertEquals((int) java.util.Arrays.stream(expected).filter(op -> op >= 0).count(),
              resampling.modelCalls(steps), what);
        }
      }
    }
  }

  @Test
  void oneWalkOfEachPositionIsNoResamplingWhateverTheJumpLength() {
    assertTrue(Resampling.NONE.isNone());
    assertTrue(new Resampling(10, 1).isNone());
    assertFalse(new Resampling(1, 2).isNone());
    assertArrayEquals(Resampling.NONE.route(25), new Resampling(10, 1).route(25));
  }

  @Test
  void aWalkNoArrayHoldsIsRefusedBeforeAnythingIsAllocated() {
    // 49 jumping positions of 1, each walked a billion times: 98 billion operations (it ran out of memory, or the
    // doubling array's length wrapped negative)
    Resampling huge = new Resampling(1, 1_000_000_000);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> huge.route(50));
    assertEquals("jumpLength 1 and resamples 1000000000 over 50 steps walk 97999999952 operations (49000000001 model "
        + "calls), more than 2147483639; lower the resamples or the jump length", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> huge.modelCalls(50));
    assertEquals("the jump length 1 must be below the plan's 1 steps (a walk of 1 steps never jumps back 1, so nothing "
        + "would be resampled); resampling needs a plan of at least 2 steps",
        assertThrows(IllegalArgumentException.class, () -> huge.modelCalls(1)).getMessage());
    assertTrue(new Resampling(10, 10).modelCalls(1000) == 1000 + 99 * 9 * 10);
  }

  @Test
  void aWalkLargerThanHalfTheHeapIsRefusedBeforeItsRouteIsAllocated() {
    // 3 jumping positions of 5 over 20 steps, each walked 100 million times: 1.8 billion operations fit an int[] but
    // not the tests' 2 GB heap (-Xmx2g, surefire): it ran out of heap space, nothing said of the resamples
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Resampling(5, 100_000_000).route(20));
    assertTrue(e.getMessage().startsWith("jumpLength 5 and resamples 100000000 over 20 steps walk 1800000002 "
        + "operations (1500000005 model calls) in a route (6866 MB), more than half of this JVM's heap of at most "),
        e.getMessage());
    assertTrue(e.getMessage().endsWith(" MB; lower the resamples or the jump length"), e.getMessage());
    assertEquals(1_500_000_005, new Resampling(5, 100_000_000).modelCalls(20), "counted, not built");
  }
}
