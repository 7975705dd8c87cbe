package io.github.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.sampling.VarianceType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.tensor.Shape;
import org.junit.jupiter.api.Test;

/**
 * The argument checks of {@link VariationalBound#terms}, made before the model is called (so no backend is needed
 * here; the bound's values: diffusion-testkit's VariationalBoundTest).
 */
class VariationalBoundArgumentsTest {
  @Test
  void outputArraysShorterThanTheBatchAreRefusedBeforeTheModelRuns() {
    VariationalBound vb = new VariationalBound(Schedule.of(ScheduleSpec.linear(10)), PredictionType.EPSILON,
        VarianceType.FIXED_SMALL, true);
    Shape image = Shape.of(1, 2, 2);
    float[] x0 = new float[3 * 4];
    float[] eps = new float[3 * 4];
    int[] t = {0, 4, 9};
    // a bpd array of 2 places for 3 items was an ArrayIndexOutOfBoundsException after the model's pass
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> vb.terms(null, null, image, x0, t, eps, new double[2], null));
    assertEquals("bpd and x0Mse must hold a value for each of the 3 items, got 2 and no places", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> vb.terms(null, null, image, x0, t, eps, new double[3], new double[1]));
    assertEquals("bpd and x0Mse must hold a value for each of the 3 items, got 3 and 1 places", e.getMessage());
  }
}
