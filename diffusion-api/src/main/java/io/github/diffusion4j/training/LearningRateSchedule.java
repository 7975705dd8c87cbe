package io.github.diffusion4j.training;

import java.util.Locale;

/**
 * How the learning rate follows the optimiser steps: a linear warm-up from 0, then constant, linear decay to 0 or
 * a half cosine to 0, as diffusers' {@code get_constant_schedule_with_warmup}, {@code
 * get_linear_schedule_with_warmup} and {@code get_cosine_schedule_with_warmup} (with {@code num_cycles = 0.5})
 * in {@code diffusers/optimization.py}.
 *
 * <p>The rate of a step is {@code learning_rate * factor(k, N)}, where {@code k} is the number of optimiser steps
 * taken before it (0 for the first step, as diffusers' {@code LambdaLR} counts, so with a warm-up the first step's
 * rate is 0), {@code N} the run's total steps ({@code epochs x batches per epoch}) and {@code W} the warm-up steps:
 *
 * <ul>
 *   <li>{@code k < W}: {@code k / W};
 *   <li>otherwise, {@link Kind#CONSTANT}: {@code 1}; {@link Kind#LINEAR}: {@code max(0, (N - k) / max(1, N - W))};
 *       {@link Kind#COSINE}: {@code max(0, 0.5 * (1 + cos(pi * (k - W) / max(1, N - W))))}.
 * </ul>
 *
 * <p>The {@code max(1, N - W)} is diffusers' guard for {@code W >= N}. Past {@code N} the linear factor stays 0 and
 * the cosine's rises again, as diffusers' do (a run never gets there). With {@link #CONSTANT} (no warm-up) the
 * factor is exactly {@code 1.0}, so the rate is exactly {@code learning_rate}.
 *
 * @param kind what follows the warm-up
 * @param warmupSteps the warm-up steps {@code W}, at least 0 (more than the run's steps is allowed: the rate then
 *     never reaches {@code learning_rate})
 */
public record LearningRateSchedule(Kind kind, long warmupSteps) {

  /** The constant rate without warm-up: every step takes the optimiser's own rate. */
  public static final LearningRateSchedule CONSTANT = new LearningRateSchedule(Kind.CONSTANT, 0);

  /** What follows the warm-up. */
  public enum Kind {
    /** The base rate ({@code get_constant_schedule_with_warmup}). */
    CONSTANT("constant"),
    /** Linear decay to 0 at the last step ({@code get_linear_schedule_with_warmup}). */
    LINEAR("linear"),
    /** Half a cosine from the base rate to 0 ({@code get_cosine_schedule_with_warmup}, {@code num_cycles=0.5}). */
    COSINE("cosine");

    private final String configName;

    Kind(String configName) {
      this.configName = configName;
    }

    /**
     * The configuration name ({@code training.lr_schedule}).
     *
     * @return e.g. {@code "cosine"}
     */
    public String configName() {
      return configName;
    }

    @Override
    public String toString() {
      return configName;
    }
  }

  /**
   * Validates the values.
   *
   * @param kind what follows the warm-up
   * @param warmupSteps the warm-up steps, at least 0
   */
  public LearningRateSchedule {
    if (kind == null) {
      throw new IllegalArgumentException("kind must not be null");
    }
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("warm-up steps must be at least 0, got " + warmupSteps);
    }
  }

  /**
   * Whether every step takes exactly the optimiser's own rate (constant, no warm-up).
   *
   * @return true for {@link #CONSTANT}
   */
  public boolean isConstant() {
    return kind == Kind.CONSTANT && warmupSteps == 0;
  }

  /**
   * The factor of the base rate for a step.
   *
   * @param k the optimiser steps taken before this one, at least 0
   * @param total the run's total steps {@code N}, at least 0
   * @return the factor, in [0, 1]
   */
  public double factor(long k, long total) {
    if (k < 0 || total < 0) {
      throw new IllegalArgumentException("steps must be at least 0, got k = " + k + ", total = " + total);
    }
    if (k < warmupSteps) {
      return (double) k / (double) warmupSteps;
    }
    double span = Math.max(1.0, (double) (total - warmupSteps));
    return switch (kind) {
      case CONSTANT -> 1.0;
      case LINEAR -> Math.max(0.0, (double) (total - k) / span);
      case COSINE -> Math.max(0.0, 0.5 * (1.0 + StrictMath.cos(Math.PI * ((double) (k - warmupSteps) / span))));
    };
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%s (%d warm-up steps)", kind.configName(), warmupSteps);
  }
}
