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

  // ---- keys: path, type, default and description of each component; Schema assembles them ----

  /** The section's path. */
  static final String SECTION = "training.ema";

  static final Key<EmaConfig, Boolean> ENABLED = Key.of("training.ema.enabled", EmaConfig::enabled,
      ValueType.bool(), false, "keep an exponential moving average of the weights (diffusers EMAModel)");
  static final Key<EmaConfig, Double> DECAY = Key.of("training.ema.decay", EmaConfig::decay,
      ValueType.number(0, true, 1, true), 0.9999, "the largest decay");
  static final Key<EmaConfig, Integer> UPDATE_AFTER_STEP = Key.of("training.ema.update_after_step",
      EmaConfig::updateAfterStep, ValueType.atLeast(0), 0, "steps before the average starts");
  static final Key<EmaConfig, Boolean> USE_WARMUP = Key.of("training.ema.use_warmup",
      EmaConfig::useWarmup, ValueType.bool(), false,
      "warm up the decay as 1 - (1 + step / inv_gamma)^-power (else (1 + step) / (10 + step))");
  static final Key<EmaConfig, Double> INV_GAMMA = Key.of("training.ema.inv_gamma",
      EmaConfig::invGamma, ValueType.positive(), 1.0, "warm-up inverse multiplicative factor");
  static final Key<EmaConfig, Double> POWER = Key.of("training.ema.power", EmaConfig::power,
      ValueType.positive(), 2.0 / 3.0, "warm-up exponential factor");
  static final Key<EmaConfig, Double> MIN_DECAY = Key.of("training.ema.min_decay",
      EmaConfig::minDecay, ValueType.number(0, true, 1, true), 0.0,
      "the smallest decay; at most decay");

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
    DECAY.check(decay);
    UPDATE_AFTER_STEP.check(updateAfterStep);
    INV_GAMMA.check(invGamma);
    POWER.check(power);
    MIN_DECAY.check(minDecay);
    if (minDecay > decay) {
      throw ConfigException.either(
          new ConfigException(MIN_DECAY.path(),
              "must be at most decay (" + YamlText.number(decay) + "), got " + YamlText.number(minDecay)),
          new ConfigException(DECAY.path(),
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
