package io.github.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.ForwardProcess;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.NetworkBuilder;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.schedule.ScheduleSpec;
import io.github.diffusion4j.schedule.Timesteps;
import io.github.diffusion4j.tensor.Shape;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Public api methods refuse bad arguments where they are given, not with an exception far away or, worse, a result
 * that is silently wrong (the public API review of 2026-12-06).
 */
class ArgumentChecksTest {
  private final Schedule schedule = Schedule.of(ScheduleSpec.linear(10));

  /** A null entry was stored, and let a second put of its name pass the duplicate check (a null is "absent"). */
  @Test
  void aStateDictHasNoNullNamesOrValues() {
    FloatArray one = FloatArray.of(Shape.of(1), new float[] {1});
    assertThrows(NullPointerException.class, () -> StateDict.builder().put("w", null));
    assertThrows(NullPointerException.class, () -> StateDict.builder().put(null, one));
    Map<String, FloatArray> withNull = new HashMap<>();
    withNull.put("w", null);
    assertThrows(NullPointerException.class, () -> StateDict.of(withNull));
    assertEquals(one, StateDict.of(Map.of("w", one)).get("w"));
  }

  /** Lengths that did not divide into items left the tail of {@code out} unwritten, without a word. */
  @Test
  void heapBatchesOfTheWrongLengthsAreRefused() {
    ForwardProcess forward = new ForwardProcess(schedule);
    int[] t = {1, 2};
    assertThrows(IllegalArgumentException.class, () -> forward.noise(new float[5], t, new float[5], new float[5]));
    assertThrows(IllegalArgumentException.class, () -> forward.noise(new float[6], t, new float[4], new float[6]));
    assertThrows(IllegalArgumentException.class, () -> forward.noise(new float[6], t, new float[6], new float[4]));
    float[] out = new float[6];
    forward.noise(new float[] {1, 1, 1, 1, 1, 1}, t, new float[6], out);
    assertEquals((float) Math.sqrt(schedule.alphaBar(2)), out[5], 1e-7f, "the last item is written");

    double[] ab = {0.5, 0.25};
    for (PredictionType p : PredictionType.values()) {
      assertThrows(IllegalArgumentException.class, () -> p.target(new float[5], new float[5], ab, new float[5]), p.name());
      assertThrows(IllegalArgumentException.class, () -> p.target(new float[6], new float[6], ab, new float[4]), p.name());
    }
  }

  /** {@code beta}, {@code posteriorVariance} and {@code next} threw array-index exceptions, or answered for -1. */
  @Test
  void timestepsOutsideTheScheduleOrPlanAreRefusedByEveryAccessor() {
    for (int t : new int[] {-1, 10}) {
      assertThrows(IllegalArgumentException.class, () -> schedule.beta(t));
      assertThrows(IllegalArgumentException.class, () -> schedule.posteriorVariance(t));
      assertThrows(IllegalArgumentException.class, () -> schedule.posteriorVariance(t, 1.0));
    }
    assertEquals(0.0, schedule.posteriorVariance(0), "0 at t = 0");
    Timesteps plan = Timesteps.of(10, 9, 5, 0);
    assertThrows(IllegalArgumentException.class, () -> plan.next(-1));
    assertThrows(IllegalArgumentException.class, () -> plan.next(3));
    assertEquals(5, plan.next(0));
    assertEquals(-1, plan.next(2), "-1 after the last");
  }

  /** A caller's write into the returned arrays changed the network, and every model built on it, for good. */
  @Test
  void aNetworksParameterShapesAreACopy() {
    NetworkBuilder b = new NetworkBuilder(Map.of("a.weight", new int[] {4}, "a.bias", new int[] {4}));
    Node x = b.input(Shape.of(4, 3, 3));
    Network net = b.build(b.groupNorm("a", x, 2, 1e-6));
    net.parameterShapes().get("a.weight")[0] = 99;
    assertArrayEquals(new int[] {4}, net.parameterShapes().get("a.weight"));
    assertTrue(net.parameterShapes().containsKey("a.bias"));
  }
}
