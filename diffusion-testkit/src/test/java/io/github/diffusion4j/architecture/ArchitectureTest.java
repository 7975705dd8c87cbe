package io.github.diffusion4j.architecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.junit.ArchTests;
import io.github.diffusion4j.testkit.ArchitectureRules;
import io.github.diffusion4j.testkit.NoTestJars;

/** Checks the shared layering rules on the api module. */
@AnalyzeClasses(
    packages = "io.github.diffusion4j",
    importOptions = {ImportOption.DoNotIncludeTests.class, NoTestJars.class})
class ArchitectureTest {
  @ArchTest
  static final ArchTests RULES = ArchTests.in(ArchitectureRules.class);
}
