package io.github.diffusion4j.schedule;

/**
 * What defines a {@link Schedule}, with diffusers' names: {@code num_train_timesteps}, {@code beta_start},
 * {@code beta_end}, {@code beta_schedule}, {@code rescale_betas_zero_snr}.
 *
 * <p>The one value of a noise schedule: the YAML section {@code schedule:} ({@code config.ScheduleConfig})
 * and diffusers' {@code scheduler_config.json} ({@code io.SchedulerConfig}) are two file formats that parse
 * into it, and two schedules are the same when they are {@code equals}. Its constructor is where the
 * schedule's rules are checked (the configuration words a failure at the YAML key it concerns).
 *
 * @param numTrainTimesteps {@code T}, the number of diffusion steps in training (at least 2)
 * @param betaStart the first beta, in (0, 1)
 * @param betaEnd the last beta, in (0, 1) and greater than {@code betaStart}
 * @param betaSchedule the curve between them
 * @param rescaleBetasZeroSnr rescale so that the last alpha-bar is exactly 0 (Lin et al. 2024,
 *     algorithm 1)
 */
public record ScheduleSpec(
    int numTrainTimesteps,
    double betaStart,
    double betaEnd,
    BetaSchedule betaSchedule,
    boolean rescaleBetasZeroSnr) {

  /**
   * Validates the values; see the component descriptions.
   *
   * @param numTrainTimesteps {@code T}, the number of diffusion steps in training (at least 2)
   * @param betaStart the first beta, in (0, 1)
   * @param betaEnd the last beta, in (0, 1) and greater than {@code betaStart}
   * @param betaSchedule the curve between them
   * @param rescaleBetasZeroSnr rescale so that the last alpha-bar is exactly 0 (Lin et al. 2024, algorithm 1)
   */
  public ScheduleSpec {
    if (numTrainTimesteps < 2) {
      throw new IllegalArgumentException(
          "num_train_timesteps must be at least 2, got " + numTrainTimesteps);
    }
    if (betaSchedule == null) {
      throw new IllegalArgumentException("beta_schedule is required");
    }
    if (!(betaStart > 0 && betaStart < 1)) {
      throw new IllegalArgumentException("beta_start must be in (0, 1), got " + betaStart);
    }
    if (!(betaEnd > 0 && betaEnd < 1)) {
      throw new IllegalArgumentException("beta_end must be in (0, 1), got " + betaEnd);
    }
    if (!(betaEnd > betaStart)) {
      throw new IllegalArgumentException(
          "beta_end (" + betaEnd + ") must be greater than beta_start (" + betaStart + ")");
    }
  }

  /**
   * The schedule of Ho et al. (2020): linear betas from 1e-4 to 0.02.
   *
   * @param numTrainTimesteps {@code T}
   * @return the spec
   */
  public static ScheduleSpec linear(int numTrainTimesteps) {
    return new ScheduleSpec(numTrainTimesteps, 1e-4, 0.02, BetaSchedule.LINEAR, false);
  }

  /**
   * The cosine schedule ({@code squaredcos_cap_v2}).
   *
   * @param numTrainTimesteps {@code T}
   * @return the spec
   */
  public static ScheduleSpec cosine(int numTrainTimesteps) {
    return new ScheduleSpec(numTrainTimesteps, 1e-4, 0.02, BetaSchedule.SQUAREDCOS_CAP_V2, false);
  }
}
