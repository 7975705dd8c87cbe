package io.github.diffusion4j.config;

/**
 * Writes a configuration as YAML: every key that applies to it (keys of another {@code kind} and absent
 * optional paths are left out), so that {@link ConfigLoader} reads it back to an equal configuration.
 * Used for the {@code config.yaml} of a run or checkpoint.
 */
public final class ConfigWriter {
  private ConfigWriter() {}

  /**
   * The fully resolved configuration as YAML.
   *
   * @param config the configuration
   * @return the YAML text; {@code ConfigLoader.loadString(toYaml(c), name).equals(c)}
   */
  public static String toYaml(DiffusionConfig config) {
    return YamlEmitter.write(config, false, "diffusion4j configuration (fully resolved)");
  }
}
