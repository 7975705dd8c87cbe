package io.github.diffusion4j.schedule;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The curves that give the forward-process variances {@code beta_t}, by diffusers' {@code beta_schedule}
 * names. All are computed in double precision.
 */
public enum BetaSchedule {
  /** {@code linspace(beta_start, beta_end, T)}: Ho et al. (2020), section 4. */
  LINEAR("linear"),
  /** {@code linspace(sqrt(beta_start), sqrt(beta_end), T)^2}: the latent-diffusion schedule. */
  SCALED_LINEAR("scaled_linear"),
  /**
   * The cosine schedule of Nichol and Dhariwal (2021), equation 17, with offset {@code s = 0.008}
   * and each beta capped at 0.999; {@code beta_start} and {@code beta_end} are not used.
   */
  SQUAREDCOS_CAP_V2("squaredcos_cap_v2"),
  /** {@code sigmoid(linspace(-6, 6, T)) * (beta_end - beta_start) + beta_start} (diffusers' form). */
  SIGMOID("sigmoid");

  private final String configName;

  BetaSchedule(String configName) {
    this.configName = configName;
  }

  /**
   * The name used in configuration files ({@code beta_schedule}).
   *
   * @return e.g. {@code "squaredcos_cap_v2"}
   */
  public String configName() {
    return configName;
  }

  /**
   * Looks a schedule up by its configuration name (case-insensitive).
   *
   * @param name e.g. {@code "linear"}
   * @return the schedule, or empty if the name is unknown
   * @throws IllegalArgumentException {@code "name must not be null"} if it is null
   */
  public static Optional<BetaSchedule> fromConfigName(String name) {
    if (name == null) {
      throw new IllegalArgumentException("name must not be null");
    }
    String n = name.toLowerCase(Locale.ROOT);
    return Arrays.stream(values()).filter(b -> b.configName.equals(n)).findFirst();
  }

  /**
   * The configuration names of all schedules.
   *
   * @return the names, in declaration order
   */
  public static java.util.List<String> configNames() {
    return Arrays.stream(values()).map(BetaSchedule::configName).toList();
  }

  /**
   * Computes the betas.
   *
   * @param numTrainTimesteps {@code T}, at least 2
   * @param betaStart the first beta (unused by the cosine schedule)
   * @param betaEnd the last beta (unused by the cosine schedule)
   * @return {@code T} betas
   * @throws IllegalArgumentException if {@code numTrainTimesteps} is below 2
   */
  public double[] betas(int numTrainTimesteps, double betaStart, double betaEnd) {
    if (numTrainTimesteps < 2) {
      throw new IllegalArgumentException("num_train_timesteps must be at least 2, got " + numTrainTimesteps);
    }
    int n = numTrainTimesteps;
    double[] b = new double[n];
    switch (this) {
      case LINEAR -> {
        double[] l = linspace(betaStart, betaEnd, n);
        System.arraycopy(l, 0, b, 0, n);
      }
      case SCALED_LINEAR -> {
        double[] l = linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), n);
        for (int i = 0; i < n; i++) {
          b[i] = l[i] * l[i];
        }
      }
      case SQUAREDCOS_CAP_V2 -> {
        for (int i = 0; i < n; i++) {
          double t1 = (double) i / n;
          double t2 = (double) (i + 1) / n;
          b[i] = Math.min(1.0 - cosineAlphaBar(t2) / cosineAlphaBar(t1), 0.999);
        }
      }
      case SIGMOID -> {
        double[] l = linspace(-6.0, 6.0, n);
        for (int i = 0; i < n; i++) {
          b[i] = 1.0 / (1.0 + StrictMath.exp(-l[i])) * (betaEnd - betaStart) + betaStart;
        }
      }
      default -> throw new AssertionError(this);
    }
    return b;
  }

  private static double cosineAlphaBar(double t) {
    double c = StrictMath.cos((t + 0.008) / 1.008 * Math.PI / 2.0);
    return c * c;
  }

  /**
   * {@code numpy.linspace(start, stop, n)}: {@code n} evenly spaced values, both ends included exactly.
   *
   * @param start the first value
   * @param stop the last value
   * @param n how many values, positive
   * @return the values
   * @throws IllegalArgumentException if {@code n} is not positive
   */
  public static double[] linspace(double start, double stop, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("linspace needs a positive number of values, got n = " + n);
    }
    double[] out = new double[n];
    if (n == 1) {
      out[0] = start;
      return out;
    }
    double step = (stop - start) / (n - 1);
    for (int i = 0; i < n; i++) {
      out[i] = start + i * step;
    }
    out[n - 1] = stop;
    return out;
  }
}
