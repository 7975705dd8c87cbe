package io.github.diffusion4j.architecture;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
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

  /** A backend outside io.github.diffusion4j is checked by backendIn, which the fields would leave unchecked. */
  @Test
  void backendInChecksAThirdPartyBackendsPackage() {
    ClassFileImporter importer = new ClassFileImporter();
    JavaClasses good = importer.importPackages("com.example.archfixture.good");
    assertFalse(ArchitectureRules.backendIn("com.example.archfixture.good").evaluate(good).hasViolation());
    JavaClasses bad = importer.importPackages("com.example.archfixture.bad");
    String report = ArchitectureRules.backendIn("com.example.archfixture.bad").evaluate(bad).getFailureReport().toString();
    assertTrue(report.contains("BadBackendProvider") && report.contains("ReferenceBackend"), "uses the testkit: " + report);
    assertTrue(report.contains("PublicMlpKernels") && report.contains("simple name containing 'Mlp'"), "a network: " + report);
    assertTrue(report.contains("PublicMlpKernels> does not have simple name ending with 'BackendProvider'"),
        "public: " + report);
    assertFalse(ArchitectureRules.BACKENDS_USE_ONLY_THE_SPI.evaluate(bad).hasViolation(),
        "the fields select io.github.diffusion4j's backends only");
  }
}
