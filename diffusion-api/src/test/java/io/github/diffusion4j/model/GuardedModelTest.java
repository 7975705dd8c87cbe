package io.github.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuardedModelTest {

  /**
   * A default method of {@link TrainableModel} that {@link GuardedModel} does not override would run the default
   * rather than the wrapped model's own implementation (and outside the guard where the default does not call a
   * guarded method): every method is forwarded explicitly, so adding one to the interface fails here first.
   */
  @Test
  void everyMethodOfTheInterfaceIsForwarded() {
    List<String> missing = new ArrayList<>();
    for (Method m : TrainableModel.class.getMethods()) {
      if (Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      try {
        GuardedModel.class.getDeclaredMethod(m.getName(), m.getParameterTypes());
      } catch (NoSuchMethodException e) {
        missing.add(m.toString());
      }
    }
    assertEquals(List.of(), missing);
  }
}
