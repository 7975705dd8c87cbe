package io.github.diffusion4j.benchmarks;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.junit.ArchTests;
import com.tngtech.archunit.lang.ArchRule;
import io.github.diffusion4j.testkit.ArchitectureRules;
import io.github.diffusion4j.testkit.NoTestJars;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/** The shared rules, and that the benchmarks reach the backends through the SPI only. */
@AnalyzeClasses(packages = "io.github.diffusion4j", importOptions = {ImportOption.DoNotIncludeTests.class, NoTestJars.class})
class ArchitectureTest {
  @ArchTest
  static final ArchTests RULES = ArchTests.in(ArchitectureRules.class);

  @ArchTest
  static final ArchRule BENCHMARKS_FIND_BACKENDS_BY_NAME =
      noClasses()
          .that().resideInAPackage("io.github.diffusion4j.benchmarks..")
          .should().dependOnClassesThat().resideInAnyPackage(
              "io.github.diffusion4j.backend..", "org.nd4j..", "ai.djl..", "org.bytedeco..")
          .because("a benchmark takes its backend by name (ServiceLoader), one per forked JVM");
}
