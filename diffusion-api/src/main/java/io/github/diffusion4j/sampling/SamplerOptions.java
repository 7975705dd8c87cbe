package io.github.diffusion4j.sampling;

import java.util.Set;

/**
 * A sampler's own configuration keys ({@code sampling.options} in YAML), read with defaults and bounds.
 * Implementations report a bad or unknown value as an error that names where it came from (file, line,
 * column and key path for YAML).
 */
public interface SamplerOptions {

  /** No options: every getter returns its default. */
  SamplerOptions EMPTY = new SamplerOptions() {
    @Override
    public int getInt(String key, int defaultValue, int min, int max) {
      return defaultValue;
    }

    @Override
    public double getDouble(String key, double defaultValue, double min, double max) {
      return defaultValue;
    }

    @Override
    public boolean getBoolean(String key, boolean defaultValue) {
      return defaultValue;
    }

    @Override
    public String getString(String key, String defaultValue, Set<String> allowed) {
      return defaultValue;
    }

    @Override
    public void requireOnly(Set<String> allowedKeys) {}
  };

  /**
   * An integer option.
   *
   * @param key the key
   * @param defaultValue the value when absent
   * @param min the smallest allowed value
   * @param max the largest allowed value
   * @return the value
   */
  int getInt(String key, int defaultValue, int min, int max);

  /**
   * A number option.
   *
   * @param key the key
   * @param defaultValue the value when absent
   * @param min the smallest allowed value
   * @param max the largest allowed value
   * @return the value
   */
  double getDouble(String key, double defaultValue, double min, double max);

  /**
   * A boolean option.
   *
   * @param key the key
   * @param defaultValue the value when absent
   * @return the value
   */
  boolean getBoolean(String key, boolean defaultValue);

  /**
   * A string option from a fixed set.
   *
   * @param key the key
   * @param defaultValue the value when absent
   * @param allowed the allowed values (empty: any)
   * @return the value
   */
  String getString(String key, String defaultValue, Set<String> allowed);

  /**
   * Fails on any key outside {@code allowedKeys}, suggesting the closest allowed one.
   *
   * @param allowedKeys the keys this sampler understands
   */
  void requireOnly(Set<String> allowedKeys);
}
