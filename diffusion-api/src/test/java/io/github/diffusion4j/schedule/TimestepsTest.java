package io.github.diffusion4j.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The inference plans, with diffusers' goldens. */
class TimestepsTest {
  @Test
  void leading() {
    assertArrayEquals(
        new int[] {900, 800, 700, 600, 500, 400, 300, 200, 100, 0}, Timesteps.leading(1000, 10, 0).toArray());
    assertArrayEquals(new int[] {801, 601, 401, 201, 1}, Timesteps.leading(1000, 5, 1).toArray());
  }

  @Test
  void trailing() {
    assertArrayEquals(new int[] {999, 666, 332}, Timesteps.trailing(1000, 3).toArray());
    assertArrayEquals(new int[] {99, 94, 89, 84, 79, 74, 69, 64, 59, 54, 49, 44, 39, 34, 29, 24, 19, 14, 9, 4},
        Timesteps.trailing(100, 20).toArray());
  }

  /**
   * Plans where {@code T - i * T / N} and numpy's {@code arange} (which steps by its first two elements'
   * difference) round differently; the expected values are numpy 1.24's
   * {@code np.round(np.arange(T, 0, -T / N)) - 1}, as diffusers computes them (162 of the plans for T in
   * 50, 100, 500, 1000 and 4000 differed before; each one's position is marked).
   */
  @Test
  void trailingFollowsNumpysArange() {
    assertArrayEquals(new int[] {99, 95, 91, /* 87 before */ 86, 82, 78, 74, 70, 66, 61, 57, 53, 49, 45, 41, 36, 32,
        28, 24, 20, 16, 11, 7, 3}, Timesteps.trailing(100, 24).toArray());
    assertArrayEquals(new int[] {999, 978, 957, /* 937 */ 936, 916, 895, 874, 853, 832, 811, 791, 770, 749, 728, 707,
        /* 687 */ 686, 666, 645, 624, 603, 582, 561, 541, 520, 499, 478, 457, /* 437 */ 436, 416, 395, 374, 353, 332,
        311, 291, 270, 249, 228, 207, /* 187 */ 186, 166, 145, 124, 103, 82, 61, 41, 20},
        Timesteps.trailing(1000, 48).toArray());
  }

  @Test
  void linspace() {
    assertArrayEquals(new int[] {999, 832, 666, 500, 333, 166, 0}, Timesteps.linspace(1000, 7).toArray());
  }

  @Test
  void fullPlanAndNext() {
    Timesteps full = Timesteps.full(5);
    assertArrayEquals(new int[] {4, 3, 2, 1, 0}, full.toArray());
    assertEquals(3, full.next(0));
    assertEquals(-1, full.next(4));
    assertArrayEquals(new int[] {0, 1, 2, 3, 4}, full.ascending());
  }

  @Test
  void referenceScriptPlanIsTrailing() {
    // torch_timing.py: ks = [round(T - i * T / s) - 1]
    int[] ks = new int[20];
    for (int i = 0; i < 20; i++) {
      ks[i] = (int) Math.round(100 - i * 100.0 / 20) - 1;
    }
    assertArrayEquals(ks, Timesteps.trailing(100, 20).toArray());
  }

  @Test
  void createDispatchesOnSpacing() {
    assertEquals(Timesteps.leading(1000, 5, 1), Timesteps.create(1000, 5, TimestepSpacing.LEADING, 1));
    assertEquals(Timesteps.trailing(1000, 5), Timesteps.create(1000, 5, TimestepSpacing.TRAILING, 1));
    assertEquals(Timesteps.linspace(1000, 5), Timesteps.create(1000, 5, TimestepSpacing.LINSPACE, 0));
    assertNotEquals(Timesteps.leading(1000, 5, 0), Timesteps.leading(1000, 5, 1));
    assertNotEquals(Timesteps.of(100, 5, 3), Timesteps.of(200, 5, 3));
  }

  /** As many steps as training timesteps is allowed for every spacing, and each gives the full plan. */
  @Test
  void everySpacingWithTStepsIsTheFullPlan() {
    for (TimestepSpacing spacing : TimestepSpacing.values()) {
      assertEquals(Timesteps.full(50), Timesteps.create(50, 50, spacing, 0), spacing.toString());
    }
    // and one step is the least: leading 0 * (T / 1), trailing round(T - 0) - 1, linspace(0, T - 1, 1) = [0]
    assertArrayEquals(new int[] {0}, Timesteps.leading(50, 1, 0).toArray());
    assertArrayEquals(new int[] {49}, Timesteps.trailing(50, 1).toArray());
    assertArrayEquals(new int[] {0}, Timesteps.linspace(50, 1).toArray());
    assertArrayEquals(new int[] {0}, Timesteps.trailing(1, 1).toArray(), "a plan over a single training timestep");
  }

  @Test
  void theLastPositionsKeepTheirTimesteps() {
    Timesteps plan = Timesteps.trailing(1000, 10); // 999, 899, ..., 99
    assertArrayEquals(new int[] {299, 199, 99}, plan.last(3).toArray());
    assertEquals(1000, plan.last(3).numTrainTimesteps());
    assertArrayEquals(new int[] {99}, plan.last(1).toArray());
    assertEquals(plan, plan.last(10));
    assertEquals(-1, plan.last(2).next(1), "the last position is still the last");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan.last(0));
    assertEquals("the last 0 positions of a plan of 10: the count must be in [1, 10]", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> plan.last(11));
  }

  @Test
  void invalidPlansAreRejectedWithAReason() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Timesteps.of(100, 50, 60, 10));
    assertTrue(e.getMessage().contains("strictly descending"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Timesteps.of(100, 50, 50));
    assertTrue(e.getMessage().contains("strictly descending"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Timesteps.of(100, 100, 5));
    assertTrue(e.getMessage().contains("outside [0, 100)"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Timesteps.of(100));
    e = assertThrows(IllegalArgumentException.class, () -> Timesteps.trailing(100, 101));
    assertTrue(e.getMessage().contains("[1, 100]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Timesteps.leading(1000, 1000, 1));
    assertTrue(e.getMessage().contains("steps_offset"), e.getMessage());
    // an offset so large that (n - 1) * ratio + offset passes Integer.MAX_VALUE is still named as the offset
    e = assertThrows(IllegalArgumentException.class,
        () -> Timesteps.leading(1000, 10, Integer.MAX_VALUE - 100));
    assertTrue(e.getMessage().contains("steps_offset " + (Integer.MAX_VALUE - 100)), e.getMessage());
    assertTrue(e.getMessage().contains("timestep " + (900L + Integer.MAX_VALUE - 100)), e.getMessage());
    for (TimestepSpacing spacing : TimestepSpacing.values()) {
      for (int n : new int[] {0, 101}) {
        e = assertThrows(IllegalArgumentException.class, () -> Timesteps.create(100, n, spacing, 0));
        assertTrue(e.getMessage().contains("[1, 100]"), spacing + ", " + n + ": " + e.getMessage());
      }
    }
    e = assertThrows(IllegalArgumentException.class, () -> Timesteps.leading(100, 0, 0));
    assertTrue(e.getMessage().contains("[1, 100]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Timesteps.linspace(100, 101));
    assertTrue(e.getMessage().contains("[1, 100]"), e.getMessage());
    Timesteps plan = Timesteps.of(100, 50, 10);
    assertEquals(50, plan.get(0));
    assertEquals(10, plan.get(1));
    assertThrows(IllegalArgumentException.class, () -> plan.get(2));
    assertThrows(IllegalArgumentException.class, () -> plan.get(-1));
  }
}
