package io.github.diffusion4j.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.runtime.ProviderDiscovery;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The JMH suite runs: every {@code @Benchmark} of every case once, in this JVM, as JMH's fork would call it (the
 * {@code @Param} fields set, {@code @Setup}, the method, {@code @TearDown}), so that a benchmark broken by a change
 * of the api (a layer kind renamed, a sampler's constructor, a backend's name) fails the build rather than the next
 * person who times it. One backend per JVM, as everywhere: {@code bench.smoke.backend} names it (nd4j here; the
 * surefire execution {@code jmh-smoke-djl} runs the class again for djl), and the cases of the other backend are
 * left to that run. Nothing is timed.
 */
class JmhSuiteSmokeTest {
  /** The benchmark classes of the suite. */
  static final List<Class<?>> SUITE =
      List.of(LayerBenchmark.class, MlpPredictBenchmark.class, NoiseBenchmark.class, SamplerStepBenchmark.class);

  private static final String BACKEND = System.getProperty("bench.smoke.backend", "nd4j");

  @Test
  void everyBenchmarkOfEveryCaseRunsOnce() throws Exception {
    List<String> ran = new ArrayList<>();
    for (Class<?> c : SUITE) {
      for (Map<Field, String> params : cases(c)) {
        if (params.entrySet().stream().anyMatch(e -> e.getKey().getName().equals("backend")
            && !e.getValue().equals(BACKEND))) {
          continue;
        }
        Object state = c.getConstructor().newInstance();
        for (Map.Entry<Field, String> p : params.entrySet()) {
          Field f = p.getKey();
          f.set(state, f.getType() == int.class ? Integer.valueOf(p.getValue()) : p.getValue());
        }
        invokeAll(state, Setup.class);
        try {
          for (Method m : annotated(c, Benchmark.class)) {
            String name = c.getSimpleName() + "." + m.getName() + " " + describe(params);
            Object result = invoke(m, state, name);
            if (result instanceof Double d) {
              // LayerBenchmark.train's loss: the mean squared error of a random net against normal targets
              assertTrue(Double.isFinite(d) && d > 0, name + ": loss " + d);
            } else if (result instanceof Integer n) {
              assertTrue(n > 0, name + ": " + n + " values made by the pass"); // LayerBenchmark.forward
            } else if (result instanceof float[] values) {
              // NoiseBenchmark: one step's normals, all written and finite
              assertTrue(values.length > 0 && allFinite(values), name);
              assertFalse(values[0] == 0f && values[values.length - 1] == 0f, name + ": nothing written");
            }
            ran.add(name);
          }
        } finally {
          invokeAll(state, TearDown.class);
        }
      }
    }
    // every kind of LayerBenchmark on this backend, both widths of the MLP, both noise versions, three sampler steps
    assertEquals(8 * 2 + 2 + 2 * 4 + 3, ran.size(), String.join("\n", ran));
  }

  /** A benchmark's backend parameter lists exactly the backends on the class path, so that none is left untimed. */
  @Test
  void theBackendParametersNameTheBackendsOnTheClassPath() throws Exception {
    TreeSet<String> found = new TreeSet<>(ProviderDiscovery.backends().providers().keySet());
    for (Class<?> c : SUITE) {
      for (Field f : c.getFields()) {
        if (f.getName().equals("backend")) {
          assertEquals(found, new TreeSet<>(Arrays.asList(f.getAnnotation(Param.class).value())), c.getSimpleName());
        }
      }
    }
  }

  /** JMH's runner finds every benchmark: the annotation processor listed each in META-INF/BenchmarkList. */
  @Test
  void jmhListsEveryBenchmark() throws IOException {
    TreeSet<String> listed = new TreeSet<>();
    try (InputStream in = getClass().getClassLoader().getResourceAsStream("META-INF/BenchmarkList")) {
      assertNotNull(in, "META-INF/BenchmarkList (JMH's annotation processor did not run)");
      // a line per benchmark: JMH S <length> <class> S <length> <generated class> S <length> <method> ...
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        String[] t = line.split(" ");
        if (t.length > 9) {
          listed.add(t[3] + "." + t[9]);
        }
      }
    }
    TreeSet<String> expected = new TreeSet<>();
    for (Class<?> c : SUITE) {
      for (Method m : annotated(c, Benchmark.class)) {
        expected.add(c.getName() + "." + m.getName());
      }
    }
    assertEquals(expected, listed);
  }

  /** Every combination of a class's {@code @Param} values. */
  private static List<Map<Field, String>> cases(Class<?> c) {
    List<Map<Field, String>> cases = new ArrayList<>();
    cases.add(new LinkedHashMap<>());
    for (Field f : c.getFields()) {
      Param p = f.getAnnotation(Param.class);
      if (p == null) {
        continue;
      }
      List<Map<Field, String>> next = new ArrayList<>();
      for (Map<Field, String> partial : cases) {
        for (String v : p.value()) {
          Map<Field, String> m = new LinkedHashMap<>(partial);
          m.put(f, v);
          next.add(m);
        }
      }
      cases = next;
    }
    return cases;
  }

  private static List<Method> annotated(Class<?> c, Class<? extends java.lang.annotation.Annotation> a) {
    List<Method> ms = new ArrayList<>();
    for (Method m : c.getMethods()) {
      if (m.isAnnotationPresent(a)) {
        ms.add(m);
      }
    }
    ms.sort((x, y) -> x.getName().compareTo(y.getName()));
    return ms;
  }

  private static void invokeAll(Object state, Class<? extends java.lang.annotation.Annotation> a) throws Exception {
    for (Method m : annotated(state.getClass(), a)) {
      invoke(m, state, state.getClass().getSimpleName() + "." + m.getName());
    }
  }

  private static Object invoke(Method m, Object state, String name) throws Exception {
    Object[] args = new Object[m.getParameterCount()];
    for (int i = 0; i < args.length; i++) {
      if (m.getParameterTypes()[i] != Blackhole.class) {
        throw new AssertionError(name + ": a benchmark argument JMH does not give: " + m.getParameterTypes()[i]);
      }
      args[i] = new Blackhole(
          "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
    }
    try {
      return m.invoke(state, args);
    } catch (InvocationTargetException e) {
      throw new AssertionError(name + " failed: " + e.getCause(), e.getCause());
    }
  }

  private static String describe(Map<Field, String> params) {
    StringBuilder b = new StringBuilder();
    params.forEach((f, v) -> b.append(b.length() == 0 ? "" : ", ").append(f.getName()).append('=').append(v));
    return "(" + b + ")";
  }

  private static boolean allFinite(float[] values) {
    for (float v : values) {
      if (!Float.isFinite(v)) {
        return false;
      }
    }
    return true;
  }
}
