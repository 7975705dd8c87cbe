package io.github.diffusion4j.backend.nd4j;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.junit.ArchTests;
import io.github.diffusion4j.testkit.ArchitectureRules;

/** The project's layering rules, checked on this module's classes. */
@AnalyzeClasses(
    packages = "io.github.diffusion4j",
    importOptions = {ImportOption.DoNotIncludeTests.class, ArchitectureTest.NoTestJars.class})
class ArchitectureTest {
  @ArchTest
  static final ArchTests RULES = ArchTests.in(ArchitectureRules.class);

  /**
   * Leaves out the api's test-jar (the testkit) when a build has packaged it: {@code DoNotIncludeTests}
   * knows test classes only as {@code test-classes} directories, which is what the class path holds until
   * the api module is packaged ({@code mvn verify} hands the jar instead).
   */
  static final class NoTestJars implements ImportOption {
    @Override
    public boolean includes(Location location) {
      return !location.contains("-tests.jar");
    }
  }
}
