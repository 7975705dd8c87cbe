package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConfigSectionTest {

  private static ConfigSection options(String body) {
    return ConfigLoader.loadString("seed: 1\nsampling:\n  sampler: dpm\n  options:\n" + body, "run.yaml")
        .sampling().options();
  }

  @Test
  void typedValuesWithDefaults() {
    ConfigSection s = options("    order: 3\n    ratio: 0.5\n    final: false\n    mode: Fast\n    label: x\n");
    assertEquals("sampling.options", s.path());
    assertEquals(List.of("order", "ratio", "final", "mode", "label"), List.copyOf(s.keys()));
    assertEquals(3, s.getInt("order", 2, 1, 3));
    assertEquals(7, s.getInt("absent", 7, 1, 9));
    assertEquals(0.5, s.getDouble("ratio", 1.0, 0, 1));
    assertEquals(3.0, s.getDouble("order", 0, 0, 10)); // an integer is a number too
    assertFalse(s.getBoolean("final", true));
    assertTrue(s.getBoolean("absent", true));
    assertEquals("fast", s.getString("mode", "slow", Set.of("slow", "fast")));
    assertEquals("Fast", s.getString("mode", "slow", Set.of()));
    assertEquals("x", s.getString("label", "y"));
    assertTrue(s.has("order"));
    assertFalse(s.has("absent"));
    s.requireOnly(Set.of("order", "ratio", "final", "mode", "label"));
  }

  @Test
  void errorsAreLocatedAtTheKey() {
    ConfigSection s = options("    order: 5\n    ratio: x\n    mode: quick\n    nested: 1\n");
    assertEquals("run.yaml:5:5: sampling.options.order: must be between 1 and 3, got 5",
        assertThrows(ConfigException.class, () -> s.getInt("order", 2, 1, 3)).getMessage());
    assertEquals("run.yaml:6:5: sampling.options.ratio: expected a number, got 'x'",
        assertThrows(ConfigException.class, () -> s.getDouble("ratio", 1, 0, 1)).getMessage());
    assertEquals("run.yaml:7:5: sampling.options.mode: unknown value 'quick'; allowed: fast, slow",
        assertThrows(ConfigException.class, () -> s.getString("mode", "slow", Set.of("slow", "fast")))
            .getMessage());
    assertEquals("run.yaml:7:5: sampling.options.mode: unknown value 'quick'; did you mean 'quickly'? "
        + "(allowed: quickly, slowly)",
        assertThrows(ConfigException.class, () -> s.getString("mode", "slow", Set.of("slowly", "quickly")))
            .getMessage());
    assertEquals("run.yaml:8:5: sampling.options.nested: expected a mapping of options such as {order: 2}, got 1",
        assertThrows(ConfigException.class, () -> s.getSection("nested")).getMessage());
    assertEquals("run.yaml:5:5: sampling.options.order: too high for this sampler",
        s.error("order", "too high for this sampler").getMessage());
  }

  @Test
  void requireOnlySuggestsTheClosestKey() {
    ConfigSection s = options("    order: 2\n    lower_order_fnal: true\n");
    ConfigException e = assertThrows(ConfigException.class,
        () -> s.requireOnly(Set.of("order", "lower_order_final")));
    assertEquals("run.yaml:6:5: sampling.options.lower_order_fnal: unknown key; did you mean "
        + "'lower_order_final'? (allowed: lower_order_final, order)", e.getMessage());
  }

  @Test
  void nestedSections() {
    ConfigSection s = options("    solver: {order: 2, extra: 1}\n");
    ConfigSection solver = s.getSection("solver");
    assertEquals("sampling.options.solver", solver.path());
    assertEquals(2, solver.getInt("order", 1, 1, 3));
    assertEquals("run.yaml:5:24: sampling.options.solver.extra: unknown key; allowed: order",
        assertThrows(ConfigException.class, () -> solver.requireOnly(Set.of("order"))).getMessage());
    assertTrue(s.getSection("absent").isEmpty());
  }

  @Test
  void builtInCodeAndEquality() {
    ConfigSection a = ConfigSection.of("sampling.options", Map.of("order", 2));
    assertEquals(2, a.getInt("order", 1, 1, 3));
    assertEquals("sampling.options.order: must be between 3 and 4, got 2",
        assertThrows(ConfigException.class, () -> a.getInt("order", 3, 3, 4)).getMessage());
    assertEquals(a, options("    order: 2\n"));
    assertEquals(a.hashCode(), options("    order: 2\n").hashCode());
    assertNotEquals(a, options("    order: 3\n"));
    assertEquals(ConfigSection.empty("sampling.options"), options("")); // "options:" with nothing
    assertEquals(ConfigSection.empty("sampling.options"), ConfigLoader.defaults().sampling().options());
  }
}
