package io.github.diffusion4j.testkit;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;

/**
 * An ArchUnit import option that leaves out test code that arrives as a jar or a module's {@code classes}
 * folder: this testkit (the {@code diffusion-testkit} artifact) and any packaged {@code -tests.jar}. Use it
 * with {@link ImportOption.DoNotIncludeTests} wherever {@link ArchitectureRules} are checked.
 * {@code DoNotIncludeTests} knows test classes only as {@code test-classes} directories, while the testkit is
 * an ordinary jar on a consumer's test class path (its {@code target/classes} inside the reactor), and its
 * reference models (which live outside {@code model} on purpose) would break the rules meant for the
 * product's classes.
 */
public final class NoTestJars implements ImportOption {
  private static final String TESTKIT = "/io/github/diffusion4j/testkit/";

  /** Creates the option (ArchUnit instantiates it by reflection). */
  public NoTestJars() {}

  @Override
  public boolean includes(Location location) {
    return !location.contains("-tests.jar") && !location.contains(TESTKIT);
  }
}
