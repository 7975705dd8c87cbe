package io.github.diffusion4j.config;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.ScheduleSpec;

/**
 * The YAML section {@code schedule:}: the noise schedule, one {@link ScheduleSpec} value (the same value a
 * diffusers {@code scheduler_config.json} is read into), and what the model predicts, with diffusers'
 * {@code DDPMScheduler}/{@code DDIMScheduler} key names.
 *
 * @param spec the noise schedule ({@code num_train_timesteps}, {@code beta_start}, {@code beta_end},
 *     {@code beta_schedule}, {@code rescale_betas_zero_snr}), checked by its own constructor
 * @param predictionType what the model predicts; not {@link PredictionType#EPSILON} with
 *     {@code rescale_betas_zero_snr}
 */
public record ScheduleConfig(ScheduleSpec spec, PredictionType predictionType) {

  // ---- keys: path, type, default and description of each component; Schema assembles them ----

  static final Key<ScheduleConfig, Integer> NUM_TRAIN_TIMESTEPS = Key.of("schedule.num_train_timesteps",
      (ScheduleConfig c) -> c.spec().numTrainTimesteps(), ValueType.atLeast(2), 100,
      "T, the number of diffusion steps in training");
  static final Key<ScheduleConfig, Double> BETA_START = Key.of("schedule.beta_start",
      (ScheduleConfig c) -> c.spec().betaStart(), ValueType.number(0, false, 1, false), 1e-4,
      "first beta (linear, scaled_linear, sigmoid)");
  static final Key<ScheduleConfig, Double> BETA_END = Key.of("schedule.beta_end",
      (ScheduleConfig c) -> c.spec().betaEnd(), ValueType.number(0, false, 1, false), 0.02,
      "last beta; greater than beta_start");
  static final Key<ScheduleConfig, BetaSchedule> BETA_SCHEDULE = Key.of("schedule.beta_schedule",
      (ScheduleConfig c) -> c.spec().betaSchedule(),
      ValueType.enumeration(BetaSchedule.class, BetaSchedule::configName), BetaSchedule.LINEAR,
      "curve of the betas; squaredcos_cap_v2 is the cosine schedule");
  static final Key<ScheduleConfig, PredictionType> PREDICTION_TYPE = Key.of("schedule.prediction_type",
      ScheduleConfig::predictionType,
      ValueType.enumeration(PredictionType.class, PredictionType::configName), PredictionType.EPSILON,
      "what the model predicts: epsilon (the noise), sample (x0) or v_prediction (v); the loss is the plain mean "
          + "squared error against it (for sample not weighted by the SNR as diffusers' `train_unconditional.py` "
          + "weights it)");
  static final Key<ScheduleConfig, Boolean> RESCALE_BETAS_ZERO_SNR = Key.of(
      "schedule.rescale_betas_zero_snr", (ScheduleConfig c) -> c.spec().rescaleBetasZeroSnr(), ValueType.bool(),
      false,
      "rescale the betas to zero terminal SNR (Lin et al. 2024); needs v_prediction or sample");

  /**
   * Validates the combination (the schedule itself was checked when it was made).
   *
   * @param spec the noise schedule
   * @param predictionType what the model predicts
   * @throws ConfigException naming the key at fault
   */
  public ScheduleConfig {
    if (spec == null) {
      throw new ConfigException("schedule", "a value is required");
    }
    PREDICTION_TYPE.check(predictionType);
    if (spec.rescaleBetasZeroSnr() && predictionType == PredictionType.EPSILON) {
      String why = "zero terminal SNR makes alpha-bar 0 at the last step, where x0 cannot be recovered "
          + "from a predicted noise, so DDPM and DDIM cannot sample";
      throw ConfigException.either(
          new ConfigException(RESCALE_BETAS_ZERO_SNR.path(),
              "cannot be true with prediction_type epsilon: " + why
                  + "; set prediction_type to v_prediction (or sample)"),
          new ConfigException(PREDICTION_TYPE.path(),
              "epsilon cannot be used with rescale_betas_zero_snr: true: " + why
                  + "; use v_prediction (or sample), or set rescale_betas_zero_snr to false"));
    }
  }

  /**
   * The section from its keys' values, with errors that name the YAML key at fault.
   *
   * @param numTrainTimesteps {@code T}, at least 2
   * @param betaStart the first beta, in (0, 1)
   * @param betaEnd the last beta, in (0, 1), greater than {@code betaStart}
   * @param betaSchedule the curve between them
   * @param predictionType what the model predicts
   * @param rescaleBetasZeroSnr rescale to zero terminal SNR; not with {@link PredictionType#EPSILON}
   * @return the section
   * @throws ConfigException naming the key at fault
   */
  public static ScheduleConfig of(
      int numTrainTimesteps,
      double betaStart,
      double betaEnd,
      BetaSchedule betaSchedule,
      PredictionType predictionType,
      boolean rescaleBetasZeroSnr) {
    NUM_TRAIN_TIMESTEPS.check(numTrainTimesteps);
    BETA_START.check(betaStart);
    BETA_END.check(betaEnd);
    BETA_SCHEDULE.check(betaSchedule);
    PREDICTION_TYPE.check(predictionType);
    ScheduleSpec spec;
    try {
      spec = new ScheduleSpec(numTrainTimesteps, betaStart, betaEnd, betaSchedule, rescaleBetasZeroSnr);
    } catch (IllegalArgumentException e) {
      // Each key's own range was checked above, so what the schedule refuses is the order of its betas;
      // the rule is ScheduleSpec's, the wording (at the key the user wrote) is the configuration's.
      throw ConfigException.either(
          new ConfigException(BETA_END.path(), "must be greater than beta_start ("
              + YamlText.number(betaStart) + "), got " + YamlText.number(betaEnd)),
          new ConfigException(BETA_START.path(), "must be less than beta_end ("
              + YamlText.number(betaEnd) + "), got " + YamlText.number(betaStart)));
    }
    return new ScheduleConfig(spec, predictionType);
  }
}
