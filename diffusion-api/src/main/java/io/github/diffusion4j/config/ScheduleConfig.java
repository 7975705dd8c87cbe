package io.github.diffusion4j.config;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.schedule.ScheduleSpec;

/**
 * The noise schedule and what the model predicts ({@code schedule:}), with diffusers'
 * {@code DDPMScheduler}/{@code DDIMScheduler} names.
 *
 * @param numTrainTimesteps {@code T}, at least 2
 * @param betaStart the first beta, in (0, 1)
 * @param betaEnd the last beta, in (0, 1), greater than {@code betaStart}
 * @param betaSchedule the curve between them
 * @param predictionType what the model predicts
 * @param rescaleBetasZeroSnr rescale to zero terminal SNR; not with {@link PredictionType#EPSILON}
 */
public record ScheduleConfig(
    int numTrainTimesteps,
    double betaStart,
    double betaEnd,
    BetaSchedule betaSchedule,
    PredictionType predictionType,
    boolean rescaleBetasZeroSnr) {

  /**
   * Validates the values.
   *
   * @param numTrainTimesteps {@code T}, at least 2
   * @param betaStart the first beta, in (0, 1)
   * @param betaEnd the last beta, in (0, 1), greater than {@code betaStart}
   * @param betaSchedule the curve between them
   * @param predictionType what the model predicts
   * @param rescaleBetasZeroSnr rescale to zero terminal SNR; not with {@link PredictionType#EPSILON}
   * @throws ConfigException naming the key at fault
   */
  public ScheduleConfig {
    Schema.NUM_TRAIN_TIMESTEPS.check(numTrainTimesteps);
    Schema.BETA_START.check(betaStart);
    Schema.BETA_END.check(betaEnd);
    Schema.BETA_SCHEDULE.check(betaSchedule);
    Schema.PREDICTION_TYPE.check(predictionType);
    if (!(betaEnd > betaStart)) {
      throw ConfigException.either(
          new ConfigException(Schema.BETA_END.path(), "must be greater than beta_start ("
              + YamlText.number(betaStart) + "), got " + YamlText.number(betaEnd)),
          new ConfigException(Schema.BETA_START.path(), "must be less than beta_end ("
              + YamlText.number(betaEnd) + "), got " + YamlText.number(betaStart)));
    }
    if (rescaleBetasZeroSnr && predictionType == PredictionType.EPSILON) {
      String why = "zero terminal SNR makes alpha-bar 0 at the last step, where x0 cannot be recovered "
          + "from a predicted noise, so DDPM and DDIM cannot sample";
      throw ConfigException.either(
          new ConfigException(Schema.RESCALE_BETAS_ZERO_SNR.path(),
              "cannot be true with prediction_type epsilon: " + why
                  + "; set prediction_type to v_prediction (or sample)"),
          new ConfigException(Schema.PREDICTION_TYPE.path(),
              "epsilon cannot be used with rescale_betas_zero_snr: true: " + why
                  + "; use v_prediction (or sample), or set rescale_betas_zero_snr to false"));
    }
  }

  /**
   * The schedule definition for the api.
   *
   * @return the spec
   */
  public ScheduleSpec toSpec() {
    return new ScheduleSpec(numTrainTimesteps, betaStart, betaEnd, betaSchedule, rescaleBetasZeroSnr);
  }
}
