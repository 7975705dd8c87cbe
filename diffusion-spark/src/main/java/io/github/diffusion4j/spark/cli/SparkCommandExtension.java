package io.github.diffusion4j.spark.cli;

import io.github.diffusion4j.cli.CommandExtension;

/**
 * Adds {@code diffusion spark} to the command line when this module (and Spark) is on the class path; listed
 * in {@code META-INF/services/io.github.diffusion4j.cli.CommandExtension}.
 */
public final class SparkCommandExtension implements CommandExtension {
  /** The Log4j 2 configuration of the command line: warnings and errors only, on standard error. */
  static final String LOGGING = "log4j2-cli.properties";

  /** The extension (created by {@link java.util.ServiceLoader}). */
  public SparkCommandExtension() {}

  @Override
  public String name() {
    return "spark";
  }

  @Override
  public Object command() {
    // Spark logs through Log4j 2, at INFO by default; the command line shows warnings only unless the user
    // gives a configuration of their own. Set before anything logs (the command line is being built).
    if (System.getProperty("log4j2.configurationFile") == null) {
      java.net.URL config = SparkCommandExtension.class.getResource(LOGGING);
      if (config != null) {
        System.setProperty("log4j2.configurationFile", config.toString());
      }
    }
    return new SparkCommand();
  }
}
