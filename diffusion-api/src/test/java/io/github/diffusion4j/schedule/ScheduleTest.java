package io.github.diffusion4j.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Golden numbers for the schedules, from diffusers' scheduler tests and from evaluating diffusers'
 * formulas in double precision. Tolerances are half a unit of the last printed digit.
 */
class ScheduleTest {
  private static Schedule of(BetaSchedule b, int t, boolean zeroSnr) {
    return Schedule.of(new ScheduleSpec(t, 1e-4, 0.02, b, zeroSnr));
  }

  @Test
  void linearGoldens() {
    Schedule s = of(BetaSchedule.LINEAR, 1000, false);
    assertEquals(1e-4, s.beta(0), 1e-15);
    assertEquals(0.01004004, s.beta(499), 5e-9);
    assertEquals(0.02, s.beta(999), 1e-15);
    assertEquals(4.0358e-05, s.alphaBar(999), 5e-10);
    assertEquals(1 - 1e-4, s.alpha(0), 1e-15);
  }

  @Test
  void cosineGoldens() {
    Schedule s = of(BetaSchedule.SQUAREDCOS_CAP_V2, 1000, false);
    assertEquals(4.128422e-05, s.beta(0), 5e-12);
    assertEquals(0.0031556914, s.beta(500), 5e-11);
    assertEquals(0.7499994, s.beta(998), 5e-8);
    assertEquals(0.999, s.beta(999), 1e-15, "capped");
  }

  @Test
  void scaledLinearAndSigmoidEndpoints() {
    Schedule sl = of(BetaSchedule.SCALED_LINEAR, 1000, false);
    assertEquals(1e-4, sl.beta(0), 1e-15);
    assertEquals(0.02, sl.beta(999), 1e-15);
    double mid = Math.sqrt(1e-4) + (Math.sqrt(0.02) - Math.sqrt(1e-4)) * 500 / 999.0;
    assertEquals(mid * mid, sl.beta(500), 1e-15);
    Schedule sg = of(BetaSchedule.SIGMOID, 1000, false);
    assertEquals(1e-4 + 0.0199 / (1 + Math.exp(6)), sg.beta(0), 1e-15);
    assertEquals(1e-4 + 0.0199 / (1 + Math.exp(-6)), sg.beta(999), 1e-15);
    for (int t = 1; t < 1000; t++) {
      assertTrue(sg.beta(t) > sg.beta(t - 1), "sigmoid betas increase");
    }
  }

  @Test
  void zeroSnrRescaleEndsAtZero() {
    Schedule s = of(BetaSchedule.SCALED_LINEAR, 1000, true);
    assertEquals(0.0, s.alphaBar(999), 1e-15);
    assertEquals(1.0, s.beta(999), 1e-15);
    Schedule plain = of(BetaSchedule.SCALED_LINEAR, 1000, false);
    assertEquals(plain.alphaBar(0), s.alphaBar(0), 1e-12, "the first alpha-bar is unchanged");
    // every step, from the paper's algorithm 1 applied to the plain schedule's alpha-bars: sqrt(abar) is
    // shifted by sqrt(abar_T) and scaled by sqrt(abar_0) / (sqrt(abar_0) - sqrt(abar_T)); the rescaled
    // schedule's alpha-bars are its own product of (1 - beta), a different route. Both are sums and products
    // of a thousand doubles, good to about 1e-13 relative: 1e-11 relative leaves a margin
    double a0 = Math.sqrt(plain.alphaBar(0));
    double aT = Math.sqrt(plain.alphaBar(999));
    for (int t = 0; t < 999; t++) {
      double root = (Math.sqrt(plain.alphaBar(t)) - aT) * a0 / (a0 - aT);
      assertEquals(root * root, s.alphaBar(t), 1e-11 * root * root, "t = " + t);
    }
  }

  @Test
  void posteriorVarianceGoldens() {
    Schedule s = of(BetaSchedule.LINEAR, 1000, false);
    assertEquals(0.0, s.posteriorVariance(0), 0.0);
    assertEquals(0.0097915720, s.posteriorVariance(487), 5e-11);
    assertEquals(0.0199999835, s.posteriorVariance(999), 5e-11);
  }

  @Test
  void ddimVarianceGoldens() {
    // diffusers' DDIMSchedulerTest.test_variance: _get_variance(420, 400) and (980, 960)
    Schedule s = of(BetaSchedule.LINEAR, 1000, false);
    assertEquals(0.1477195, s.posteriorVariance(420, s.alphaBar(400)), 5e-8);
    assertEquals(0.3246052, s.posteriorVariance(980, s.alphaBar(960)), 5e-8);
    assertEquals(0.0, s.posteriorVariance(0, 1.0), 0.0);
  }

  @Test
  void tutorialScheduleEndsFarFromNoise() {
    // the reason the default config does better than the tutorial: T=100 linear leaves alpha-bar ~0.36
    Schedule s = Schedule.of(ScheduleSpec.linear(100));
    assertEquals(0.36, s.alphaBar(99), 0.01);
  }

  @Test
  void invalidSpecsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new ScheduleSpec(1, 1e-4, 0.02, BetaSchedule.LINEAR, false));
    assertThrows(IllegalArgumentException.class, () -> new ScheduleSpec(10, 0.02, 0.01, BetaSchedule.LINEAR, false));
    assertThrows(IllegalArgumentException.class, () -> new ScheduleSpec(10, 1e-4, 1.0, BetaSchedule.LINEAR, false));
    assertThrows(IllegalArgumentException.class, () -> new ScheduleSpec(10, 0, 0.02, BetaSchedule.LINEAR, false));
    // the smallest schedule is allowed, and its timesteps are [0, T)
    Schedule two = Schedule.of(new ScheduleSpec(2, 1e-4, 0.02, BetaSchedule.LINEAR, false));
    assertEquals(0.02, two.beta(1), 1e-15);
    assertThrows(IllegalArgumentException.class, () -> two.alphaBar(2));
    assertThrows(IllegalArgumentException.class, () -> two.alpha(-1));
    // alphaBarOrOne takes -1 (before the first step): its error names the range it allows, not [0, T)
    assertEquals(1.0, two.alphaBarOrOne(-1), 0.0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> two.alphaBarOrOne(-2));
    assertEquals("timestep -2 is outside [-1, 2)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> two.alphaBarOrOne(2));
    assertEquals("timestep 2 is outside [-1, 2)", e.getMessage());
  }

  @Test
  void theCurvesRefuseACountBelowTheirMinimumInOneLine() {
    // a negative count was a NegativeArraySizeException, T = 0 and 1 gave schedules no ScheduleSpec allows
    for (BetaSchedule b : BetaSchedule.values()) {
      for (int t : new int[] {-1, 0, 1}) {
        IllegalArgumentException e =
            assertThrows(IllegalArgumentException.class, () -> b.betas(t, 1e-4, 0.02), b + ", " + t);
        assertTrue(e.getMessage().contains("num_train_timesteps must be at least 2, got " + t), e.getMessage());
      }
      assertEquals(2, b.betas(2, 1e-4, 0.02).length);
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> BetaSchedule.linspace(0, 1, -1));
    assertTrue(e.getMessage().contains("n = -1"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BetaSchedule.linspace(0, 1, 0));
    assertEquals(0.5, BetaSchedule.linspace(0.5, 1, 1)[0], 0.0);
  }

  @Test
  void configNamesRoundTrip() {
    for (BetaSchedule b : BetaSchedule.values()) {
      assertEquals(b, BetaSchedule.fromConfigName(b.configName()).orElseThrow());
    }
    assertTrue(BetaSchedule.fromConfigName("cosine").isEmpty());
  }
}
