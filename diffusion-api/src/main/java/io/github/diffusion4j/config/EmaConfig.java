package io.github.diffusion4j.config;

import io.github.diffusion4j.training.EmaSchedule;
import java.util.Optional;

/**
 * The exponential moving average of the weights ({@code training.ema:}), with the parameters of
 * diffusers' {@code EMAModel}.
 *
 * @param enabled keep an average
 * @param decay the largest decay, in [0, 1]
 * @param updateAfterStep steps before the average starts, at least 0
 * @param useWarmup warm the decay up as {@code 1 - (1 + step / invGamma)^-power}; without warm-up the
 *     decay is {@code (1 + step) / (10 + step)}, both capped to {@code [minDecay, decay]}
 * @param invGamma the warm-up's inverse multiplicative factor, positive
 * @param power the warm-up's exponent, positive
 * @param minDecay the smallest decay, in [0, decay]
 */
public record EmaConfig(
    boolean enabled,
    double decay,
    int updateAfterStep,
    boolean useWarmup,
    double invGamma,
    double power,
    double minDecay) {

  /**
   * Validates the values.
   *
   * @param enabled keep an average
   * @param decay the largest decay, in [0, 1]
   * @param updateAfterStep steps before the average starts, at least 0
   * @param useWarmup warm the decay up as {@code 1 - (1 + step / invGamma)^-power}; without warm-up the decay
   *     is {@code (1 + step) / (10 + step)}, both capped to {@code [minDecay, decay]}
   * @param invGamma the warm-up's inverse multiplicative factor, positive
   * @param power the warm-up's exponent, positive
   * @param minDecay the smallest decay, in [0, decay]
   * @throws ConfigException naming the key at fault
   */
  public EmaConfig {
    Schema.EMA_DECAY.check(decay);
    Schema.EMA_UPDATE_AFTER_STEP.check(updateAfterStep);
    Schema.EMA_INV_GAMMA.check(invGamma);
    Schema.EMA_POWER.check(power);
    Schema.EMA_MIN_DECAY.check(minDecay);
    if (minDecay > decay) {
      throw ConfigException.either(
          new ConfigException(Schema.EMA_MIN_DECAY.path(),
              "must be at most decay (" + YamlText.number(decay) + "), got " + YamlText.number(minDecay)),
          new ConfigException(Schema.EMA_DECAY.path(),
              "must be at least min_decay (" + YamlText.number(minDecay) + "), got " + YamlText.number(decay)));
    }
  }

  /**
   * The decay schedule for the trainer.
   *
   * @return the schedule when {@code enabled}, else empty
   */
  public Optional<EmaSchedule> schedule() {
    return enabled
        ? Optional.of(new EmaSchedule(decay, updateAfterStep, useWarmup, invGamma, power, minDecay))
        : Optional.empty();
  }
}
