package io.github.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The value semantics of {@link StateDict} and {@link FloatArray}, and the layout check weights pass through. */
class StateDictTest {

  @Test
  void valuesAreComparedByShapeAndEveryValue() {
    FloatArray a = FloatArray.wrap(Shape.of(2), new float[] {1f, 2f});
    assertEquals(2, a.size());
    assertEquals(a, FloatArray.wrap(Shape.of(2), new float[] {1f, 2f}));
    assertNotEquals(a, FloatArray.wrap(Shape.of(2), new float[] {1f, 3f}), "another value");
    assertNotEquals(a, FloatArray.wrap(Shape.of(1, 2), new float[] {1f, 2f}), "another shape");
    assertEquals(-1, a.firstNonFinite());
    assertEquals(2, FloatArray.wrap(Shape.of(3), new float[] {0f, 1f, Float.NEGATIVE_INFINITY}).firstNonFinite());

    StateDict d = StateDict.builder().put("w", new int[] {2}, new float[] {1f, 2f}).build();
    assertTrue(d.contains("w"));
    assertFalse(d.contains("b"));
    assertEquals(1, d.size());
    assertEquals(d, StateDict.builder().put("w", new int[] {2}, new float[] {1f, 2f}).build());
    assertNotEquals(d, StateDict.builder().put("w", new int[] {2}, new float[] {1f, 5f}).build());
    assertNotEquals(d, StateDict.builder().put("v", new int[] {2}, new float[] {1f, 2f}).build());
  }

  @Test
  void theLayoutCheckRefusesANonFiniteValueAndNamesWhere() {
    Map<String, int[]> layout = Map.of("w", new int[] {3});
    StateDict.builder().put("w", new int[] {3}, new float[] {1f, 2f, 3f}).build().requireLayout(layout, "weights");
    StateDict nan = StateDict.builder().put("w", new int[] {3}, new float[] {1f, Float.NaN, 3f}).build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> nan.requireLayout(layout, "model weights"));
    assertEquals("model weights: 'w' has a non-finite value (NaN) at index 1", e.getMessage());
  }

  @Test
  void diffusersConversionChecksTheWeightsItIsGiven() {
    DdpmUNetSpec ddpm = new DdpmUNetSpec(Shape.of(3, 8, 8), 1000, 32, List.of(1, 2), 1, List.of(4), 0.0);
    UNet2DSpec u = DiffusersConversion.spec(ddpm);
    for (ModelSpec spec : List.of(ddpm, u)) {
      Map<String, FloatArray> entries = new LinkedHashMap<>(spec.initialWeights(1).entries());
      String dropped = entries.keySet().iterator().next();
      entries.remove(dropped);
      StateDict partial = StateDict.of(entries);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> DiffusersConversion.weights(spec, partial));
      assertTrue(e.getMessage().startsWith(spec.kind() + " weights: missing '" + dropped + "'"), e.getMessage());
    }
  }
}
