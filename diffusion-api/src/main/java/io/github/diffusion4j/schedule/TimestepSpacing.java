package io.github.diffusion4j.schedule;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How a plan of {@code N} inference steps is laid over {@code T} training timesteps (diffusers'
 * {@code timestep_spacing}; see table 2 of Lin et al. 2024).
 */
public enum TimestepSpacing {
  /** {@code (arange(N) * (T // N))} reversed, plus {@code steps_offset}: e.g. T=1000, N=10 gives 900..0. */
  LEADING("leading"),
  /** {@code round(arange(T, 0, -T/N)) - 1}: always starts at {@code T - 1}; T=1000, N=3 gives 999, 666, 332. */
  TRAILING("trailing"),
  /** {@code round(linspace(0, T - 1, N))} reversed: both ends included. */
  LINSPACE("linspace");

  private final String configName;

  TimestepSpacing(String configName) {
    this.configName = configName;
  }

  /**
   * The configuration name.
   *
   * @return e.g. {@code "trailing"}
   */
  public String configName() {
    return configName;
  }

  /**
   * Looks a spacing up by its configuration name (case-insensitive).
   *
   * @param name the name
   * @return the spacing, or empty if unknown
   * @throws IllegalArgumentException {@code "name must not be null"} if it is null
   */
  public static Optional<TimestepSpacing> fromConfigName(String name) {
    if (name == null) {
      throw new IllegalArgumentException("name must not be null");
    }
    String n = name.toLowerCase(Locale.ROOT);
    return Arrays.stream(values()).filter(s -> s.configName.equals(n)).findFirst();
  }

  /**
   * All configuration names.
   *
   * @return the names
   */
  public static List<String> configNames() {
    return Arrays.stream(values()).map(TimestepSpacing::configName).toList();
  }
}
