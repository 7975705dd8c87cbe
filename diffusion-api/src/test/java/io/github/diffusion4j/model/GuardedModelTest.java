package io.github.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.diffusion4j.tensor.Tensor;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
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

  /**
   * Each call that touches the model's native memory runs the wrapped model's method, with the same arguments,
   * inside the guard, and returns what it returned; the spec and counters are read without the guard, and
   * {@link GuardedModel#close()} runs the session's close rather than the model's.
   */
  @Test
  void guardedCallsRunTheModelInsideTheGuardAndReturnItsResult() throws Exception {
    List<String> calls = new ArrayList<>();
    boolean[] inside = {false};
    int[] entered = {0};
    StateDict dict = StateDict.builder().put("w", new int[] {1}, new float[] {3f}).build();
    Tensor tensor = (Tensor) Proxy.newProxyInstance(Tensor.class.getClassLoader(), new Class<?>[] {Tensor.class},
        (p, m, a) -> {
          throw new UnsupportedOperationException(m.getName());
        });
    TrainingStepResult result = new TrainingStepResult(0.25, tensor);
    ModelSpec spec = new MlpSpec(io.github.diffusion4j.tensor.Shape.of(1, 2, 2), 10, 4);
    TrainableModel model = (TrainableModel) Proxy.newProxyInstance(TrainableModel.class.getClassLoader(),
        new Class<?>[] {TrainableModel.class}, (p, m, a) -> {
          calls.add((inside[0] ? "guarded " : "unguarded ") + m.getName() + (a == null ? "" : "/" + a.length)
              + (a != null && a.length > 0 && a[a.length - 1] instanceof Number ? "=" + a[a.length - 1] : ""));
          Class<?> r = m.getReturnType();
          if (r == Tensor.class) {
            return tensor;
          } else if (r == StateDict.class) {
            return dict;
          } else if (r == TrainingStepResult.class) {
            return result;
          } else if (r == long.class) {
            return 41L;
          } else if (r == ModelSpec.class) {
            return spec;
          } else if (r == Optional.class) {
            return Optional.empty();
          }
          return null;
        });
    GuardedModel.Guard guard = new GuardedModel.Guard() {
      @Override
      public <T> T run(Supplier<T> call) {
        entered[0]++;
        inside[0] = true;
        try {
          return call.get();
        } finally {
          inside[0] = false;
        }
      }
    };
    int[] closed = {0};
    GuardedModel g = GuardedModel.of(model, guard, () -> closed[0]++);
    int[] ts = {1};

    assertSame(tensor, g.predict(tensor, ts));
    assertSame(result, g.step(tensor, ts, tensor));
    assertSame(result, g.step(tensor, ts, tensor, 0.5));
    assertSame(dict, g.gradients(tensor, ts, tensor));
    assertSame(dict, g.stateDict());
    g.loadStateDict(dict);
    assertSame(dict, g.optimizerState());
    g.loadOptimizerState(dict);
    g.loadOptimizerState(dict, 9L);
    g.updateEma(0.75);
    assertSame(dict, g.emaStateDict());
    g.loadEmaStateDict(dict);
    assertEquals(12, entered[0], "one guard entry per guarded call");
    assertSame(spec, g.spec());
    assertEquals(Optional.empty(), g.optimizer());
    assertEquals(41L, g.stepCount());
    g.close();
    assertEquals(12, entered[0], "spec, optimizer, step count and close take no guard");
    assertEquals(1, closed[0], "close runs the session's close");
    assertEquals(List.of("guarded predict/2", "guarded step/3", "guarded step/4=0.5", "guarded gradients/3",
        "guarded stateDict", "guarded loadStateDict/1", "guarded optimizerState", "guarded loadOptimizerState/1",
        "guarded loadOptimizerState/2=9", "guarded updateEma/1=0.75", "guarded emaStateDict",
        "guarded loadEmaStateDict/1", "unguarded spec", "unguarded optimizer", "unguarded stepCount"), calls,
        "each call reaches the model's own method once, with its arguments (close does not close the model)");
    assertSame(model, g.within(guard), "a caller inside this guard gets the model itself");
    assertSame(g, g.within(new GuardedModel.Guard() {
      @Override
      public <T> T run(Supplier<T> call) {
        return call.get();
      }
    }), "a caller inside another guard gets the guarded model");
  }

  @Test
  void aRefusingGuardKeepsTheCallFromTheModel() {
    List<String> calls = new ArrayList<>();
    TrainableModel model = (TrainableModel) Proxy.newProxyInstance(TrainableModel.class.getClassLoader(),
        new Class<?>[] {TrainableModel.class}, (p, m, a) -> {
          calls.add(m.getName());
          return null;
        });
    GuardedModel g = GuardedModel.of(model, new GuardedModel.Guard() {
      @Override
      public <T> T run(Supplier<T> call) {
        throw new IllegalStateException("closed");
      }
    }, () -> { });
    assertThrows(IllegalStateException.class, () -> g.loadStateDict(null));
    assertThrows(IllegalStateException.class, () -> g.updateEma(0.5));
    assertThrows(IllegalStateException.class, () -> g.stateDict());
    assertEquals(List.of(), calls);
  }
}
