package io.github.diffusion4j.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.training.LearningRateSchedule.Kind;
import org.junit.jupiter.api.Test;

class LearningRateScheduleTest {

  /**
   * {W, N, k, constant, linear, cosine}: diffusers' lr_lambda of get_constant_schedule_with_warmup,
   * get_linear_schedule_with_warmup and get_cosine_schedule_with_warmup (num_cycles=0.5), evaluated by CPython 3
   * with math.cos and printed with repr (the script is in this test's commit message). The edges: k = 0, 1, W - 1,
   * W, W + 1, N - 1, N, beyond N; W = 0, W = N, W > N (diffusers' max(1, N - W) guard) and a recipe-sized run.
   */
  private static final double[][] DIFFUSERS = {
      {10, 100, 0, 0.0, 0.0, 0.0},
      {10, 100, 1, 0.1, 0.1, 0.1},
      {10, 100, 9, 0.9, 0.9, 0.9},
      {10, 100, 10, 1.0, 1.0, 1.0},
      {10, 100, 11, 1.0, 0.9888888888888889, 0.9996954135095479},
      {10, 100, 50, 1.0, 0.5555555555555556, 0.5868240888334653},
      {10, 100, 99, 1.0, 0.011111111111111112, 0.00030458649045211894},
      {10, 100, 100, 1.0, 0.0, 0.0},
      {10, 100, 101, 1.0, 0.0, 0.00030458649045211894},
      {10, 100, 137, 1.0, 0.0, 0.36218132209150056},
      {10, 100, 200, 1.0, 0.0, 0.9698463103929542},
      {0, 100, 0, 1.0, 1.0, 1.0},
      {0, 100, 1, 1.0, 0.99, 0.9997532801828658},
      {0, 100, 50, 1.0, 0.5, 0.5},
      {0, 100, 99, 1.0, 0.01, 0.0002467198171342},
      {0, 100, 100, 1.0, 0.0, 0.0},
      {0, 100, 101, 1.0, 0.0, 0.0002467198171342},
      {0, 100, 137, 1.0, 0.0, 0.30142605468260986},
      {0, 100, 200, 1.0, 0.0, 1.0},
      {100, 100, 0, 0.0, 0.0, 0.0},
      {100, 100, 1, 0.01, 0.01, 0.01},
      {100, 100, 50, 0.5, 0.5, 0.5},
      {100, 100, 99, 0.99, 0.99, 0.99},
      {100, 100, 100, 1.0, 0.0, 1.0},
      {100, 100, 101, 1.0, 0.0, 0.0},
      {100, 100, 137, 1.0, 0.0, 0.0},
      {100, 100, 200, 1.0, 0.0, 1.0},
      {150, 100, 0, 0.0, 0.0, 0.0},
      {150, 100, 1, 0.006666666666666667, 0.006666666666666667, 0.006666666666666667},
      {150, 100, 99, 0.66, 0.66, 0.66},
      {150, 100, 100, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666},
      {150, 100, 149, 0.9933333333333333, 0.9933333333333333, 0.9933333333333333},
      {150, 100, 150, 1.0, 0.0, 1.0},
      {150, 100, 151, 1.0, 0.0, 0.0},
      {150, 100, 200, 1.0, 0.0, 1.0},
      {500, 7001, 0, 0.0, 0.0, 0.0},
      {500, 7001, 1, 0.002, 0.002, 0.002},
      {500, 7001, 499, 0.998, 0.998, 0.998},
      {500, 7001, 500, 1.0, 1.0, 1.0},
      {500, 7001, 501, 1.0, 0.9998461775111521, 0.9999999416179401},
      {500, 7001, 3500, 1.0, 0.5385325334563913, 0.5603790442081198},
      {500, 7001, 7000, 1.0, 0.00015382248884786957, 5.838205979769029e-08},
      {500, 7001, 7001, 1.0, 0.0, 0.0},
      {500, 7001, 7002, 1.0, 0.0, 5.838205979769029e-08},
      {500, 7001, 7038, 1.0, 0.0, 7.99229121245526e-05},
      {500, 7001, 14002, 1.0, 0.0, 0.9854753564053239},
  };

  /**
   * The schedule's StrictMath.cos (fdlibm) is within 1 ulp of the exact cosine, as is CPython's (the C library's), and
   * the two differ in the last bit for some arguments (about 1 step in 40 of a cosine run); every other operation is
   * the same IEEE-754 double operation in the same order. So the factors agree to a few ulps (about 1e-16); 1e-13 is
   * well clear of that yet far below the smallest difference an off-by-one step would make here (5.8e-8 at N - 1).
   */
  private static final double TOLERANCE = 1e-13;

  @Test
  void factorsAreDiffusers() {
    for (double[] row : DIFFUSERS) {
      long w = (long) row[0];
      long n = (long) row[1];
      long k = (long) row[2];
      Kind[] kinds = {Kind.CONSTANT, Kind.LINEAR, Kind.COSINE};
      for (int i = 0; i < 3; i++) {
        assertEquals(row[3 + i], new LearningRateSchedule(kinds[i], w).factor(k, n), TOLERANCE,
            kinds[i] + " W=" + w + " N=" + n + " k=" + k);
      }
    }
  }

  @Test
  void theWarmUpIsExactAndTheDefaultIsExactlyOne() {
    // a warm-up fraction k / W is one correctly rounded division, as Python's float(k) / float(W)
    assertEquals(0.1, new LearningRateSchedule(Kind.COSINE, 10).factor(1, 100));
    assertEquals(0.0, new LearningRateSchedule(Kind.LINEAR, 5000).factor(0, 10), "the first step's rate is 0");
    LearningRateSchedule d = LearningRateSchedule.CONSTANT;
    assertTrue(d.isConstant());
    for (long k : new long[] {0, 1, 99, 100, 1_000_000}) {
      assertEquals(1.0, d.factor(k, 100)); // exactly: lr * 1.0 == lr
    }
    assertTrue(!new LearningRateSchedule(Kind.CONSTANT, 1).isConstant());
    assertTrue(!new LearningRateSchedule(Kind.COSINE, 0).isConstant());
    assertEquals(new LearningRateSchedule(Kind.CONSTANT, 0), d);
  }

  @Test
  void badValuesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(Kind.LINEAR, -1));
    assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(null, 0));
    assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.CONSTANT.factor(-1, 10));
    assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.CONSTANT.factor(0, -1));
    // a run of 0 steps is allowed: diffusers' lambdas at W = N = k = 0 (constant: 1.0; linear: max(0, 0 / max(1, 0)))
    assertEquals(1.0, LearningRateSchedule.CONSTANT.factor(0, 0));
    assertEquals(0.0, new LearningRateSchedule(Kind.LINEAR, 0).factor(0, 0));
    assertEquals("cosine (500 warm-up steps)", new LearningRateSchedule(Kind.COSINE, 500).toString());
  }
}
