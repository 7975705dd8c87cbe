package io.github.diffusion4j.training;

/**
 * The decay of the exponential moving average of the weights, as diffusers' {@code EMAModel.get_decay}:
 * with {@code s = max(0, step - updateAfterStep - 1)} (step counted from 1), the decay is 0 while
 * {@code s <= 0}; otherwise {@code 1 - (1 + s / invGamma)^-power} with warm-up or {@code (1 + s) / (10 + s)}
 * without, then clamped to {@code [minDecay, decay]}.
 *
 * @param decay the largest decay, in [0, 1]
 * @param updateAfterStep steps before averaging starts (the average equals the weights until then)
 * @param useWarmup use the power warm-up instead of {@code (1 + s) / (10 + s)}
 * @param invGamma the warm-up's inverse multiplicative factor, positive
 * @param power the warm-up's exponential factor, positive
 * @param minDecay the smallest decay, in [0, decay]
 */
public record EmaSchedule(
    double decay, int updateAfterStep, boolean useWarmup, double invGamma, double power, double minDecay) {

  /**
   * Validates the values.
   *
   * @param decay the largest decay, in [0, 1]
   * @param updateAfterStep steps before averaging starts (the average equals the weights until then)
   * @param useWarmup use the power warm-up instead of {@code (1 + s) / (10 + s)}
   * @param invGamma the warm-up's inverse multiplicative factor, positive
   * @param power the warm-up's exponential factor, positive
   * @param minDecay the smallest decay, in [0, decay]
   */
  public EmaSchedule {
    if (!(decay >= 0 && decay <= 1)) {
      throw new IllegalArgumentException("ema decay must be in [0, 1], got " + decay);
    }
    if (updateAfterStep < 0) {
      throw new IllegalArgumentException("ema update_after_step must be at least 0, got " + updateAfterStep);
    }
    if (!(invGamma > 0) || !(power > 0)) {
      throw new IllegalArgumentException("ema inv_gamma and power must be positive");
    }
    if (!(minDecay >= 0 && minDecay <= decay)) {
      throw new IllegalArgumentException("ema min_decay must be in [0, decay], got " + minDecay);
    }
  }

  /**
   * diffusers' defaults with a given maximum decay.
   *
   * @param decay the maximum decay
   * @return the schedule
   */
  public static EmaSchedule of(double decay) {
    return new EmaSchedule(decay, 0, false, 1.0, 2.0 / 3.0, 0.0);
  }

  /**
   * The decay to use after optimisation step {@code step}.
   *
   * @param step the number of optimiser steps taken so far, from 1
   * @return the decay
   */
  public double decayAt(long step) {
    long s = Math.max(0, step - updateAfterStep - 1);
    if (s <= 0) {
      return 0.0;
    }
    double d = useWarmup ? 1 - Math.pow(1 + s / invGamma, -power) : (1.0 + s) / (10.0 + s);
    return Math.max(Math.min(d, decay), minDecay);
  }
}
