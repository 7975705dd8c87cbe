package io.github.diffusion4j.sampling;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The variance of DDPM's reverse step (diffusers' {@code variance_type}), for a step from {@code t} to
 * {@code prev} with {@code beta = 1 - alphaBar_t / alphaBar_prev}.
 */
public enum VarianceType {
  /** {@code sigma^2 = (1 - alphaBar_prev) / (1 - alphaBar_t) * beta}, the posterior variance (Ho et al. eq. 7). */
  FIXED_SMALL("fixed_small"),
  /** {@code sigma^2 = beta}: Algorithm 2 of Ho et al. as printed. */
  FIXED_LARGE("fixed_large"),
  /**
   * {@code sigma = beta}, i.e. {@code sigma^2 = beta^2}: the variant in the DDPM tutorial's
   * {@code sample()} that diffusion4j reproduces; smaller noise than the paper's.
   */
  TUTORIAL("tutorial");

  private final String configName;

  VarianceType(String configName) {
    this.configName = configName;
  }

  /**
   * The configuration name.
   *
   * @return e.g. {@code "fixed_small"}
   */
  public String configName() {
    return configName;
  }

  /**
   * Looks a type up by configuration name (case-insensitive).
   *
   * @param name the name
   * @return the type, or empty
   * @throws IllegalArgumentException {@code "name must not be null"} if it is null
   */
  public static Optional<VarianceType> fromConfigName(String name) {
    if (name == null) {
      throw new IllegalArgumentException("name must not be null");
    }
    String n = name.toLowerCase(Locale.ROOT);
    return Arrays.stream(values()).filter(v -> v.configName.equals(n)).findFirst();
  }

  /**
   * All configuration names.
   *
   * @return the names
   */
  public static List<String> configNames() {
    return Arrays.stream(values()).map(VarianceType::configName).toList();
  }

  /**
   * The variance for one step.
   *
   * @param alphaBarT {@code alphaBar_t}
   * @param alphaBarPrev {@code alphaBar_prev} (1 past the end)
   * @return {@code sigma^2}
   */
  public double variance(double alphaBarT, double alphaBarPrev) {
    double beta = 1.0 - alphaBarT / alphaBarPrev;
    return switch (this) {
      case FIXED_SMALL -> Math.max((1.0 - alphaBarPrev) / (1.0 - alphaBarT) * beta, 1e-20);
      case FIXED_LARGE -> beta;
      case TUTORIAL -> beta * beta;
    };
  }
}
