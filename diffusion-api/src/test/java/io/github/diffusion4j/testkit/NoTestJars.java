package io.github.diffusion4j.testkit;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;

/**
 * An ArchUnit import option that leaves out packaged test jars (the api's testkit, a module's
 * {@code -tests.jar}): use it with {@link ImportOption.DoNotIncludeTests} wherever {@link ArchitectureRules}
 * are checked. {@code DoNotIncludeTests} knows test classes only as {@code test-classes} directories, which is
 * what a consumer's class path holds until the api module is packaged; under {@code mvn verify} the testkit
 * arrives as a jar, and its reference models (which live outside {@code model} on purpose) would break the
 * rules meant for the product's classes.
 */
public final class NoTestJars implements ImportOption {
  /** Creates the option (ArchUnit instantiates it by reflection). */
  public NoTestJars() {}

  @Override
  public boolean includes(Location location) {
    return !location.contains("-tests.jar");
  }
}
