package io.github.diffusion4j.architecture;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import io.github.diffusion4j.testkit.ArchitectureRules;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Test;

/** Every rule that is built is also evaluated: each ArchRule field carries {@code @ArchTest}. */
class ArchitectureRulesTest {
  @Test
  void everyRuleIsAnArchTest() {
    int rules = 0;
    for (Field f : ArchitectureRules.class.getDeclaredFields()) {
      if (ArchRule.class.isAssignableFrom(f.getType())) {
        rules++;
        assertTrue(Modifier.isStatic(f.getModifiers()) && Modifier.isFinal(f.getModifiers()), f.getName());
        assertTrue(f.isAnnotationPresent(ArchTest.class), f.getName() + " is built but never checked");
      }
    }
    assertTrue(rules >= 9, "found " + rules + " rules");
  }
}
