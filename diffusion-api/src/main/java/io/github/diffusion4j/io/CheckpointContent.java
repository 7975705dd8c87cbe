package io.github.diffusion4j.io;

import io.github.diffusion4j.model.StateDict;
import java.util.Optional;

/**
 * What a checkpoint holds: the model's weights (required), the resolved configuration as YAML text
 * (required), and optionally EMA weights, the training state and the scheduler configuration.
 *
 * <p>The configuration is text so that this package stays below the {@code config} package: the
 * caller renders and parses it.
 *
 * @param model the model's weights ({@code model.safetensors})
 * @param ema the exponential moving average of the weights ({@code ema.safetensors})
 * @param trainingState the optimiser state and counters ({@code training_state.safetensors})
 * @param configYaml the resolved configuration ({@code config.yaml})
 * @param scheduler the schedule and sampler settings ({@code scheduler_config.json})
 */
public record CheckpointContent(
    StateDict model,
    Optional<StateDict> ema,
    Optional<TrainingState> trainingState,
    String configYaml,
    Optional<SchedulerConfig> scheduler) {

  /**
   * Checks that the required parts are there.
   *
   * @param model the model's weights ({@code model.safetensors})
   * @param ema the exponential moving average of the weights ({@code ema.safetensors})
   * @param trainingState the optimiser state and counters ({@code training_state.safetensors})
   * @param configYaml the resolved configuration ({@code config.yaml})
   * @param scheduler the schedule and sampler settings ({@code scheduler_config.json})
   * @throws IllegalArgumentException if the model or the configuration is missing
   */
  public CheckpointContent {
    if (model == null) {
      throw new IllegalArgumentException("a checkpoint needs the model's weights");
    }
    if (configYaml == null) {
      throw new IllegalArgumentException("a checkpoint needs the configuration text");
    }
    ema = ema == null ? Optional.empty() : ema;
    trainingState = trainingState == null ? Optional.empty() : trainingState;
    scheduler = scheduler == null ? Optional.empty() : scheduler;
  }

  /**
   * The two required parts, nothing else.
   *
   * @param model the weights
   * @param configYaml the configuration text
   * @return the content
   */
  public static CheckpointContent of(StateDict model, String configYaml) {
    return new CheckpointContent(model, Optional.empty(), Optional.empty(), configYaml, Optional.empty());
  }

  /**
   * This content with EMA weights.
   *
   * @param weights the EMA weights
   * @return the new content
   */
  public CheckpointContent withEma(StateDict weights) {
    return new CheckpointContent(model, Optional.of(weights), trainingState, configYaml, scheduler);
  }

  /**
   * This content with a training state.
   *
   * @param state the state
   * @return the new content
   */
  public CheckpointContent withTrainingState(TrainingState state) {
    return new CheckpointContent(model, ema, Optional.of(state), configYaml, scheduler);
  }

  /**
   * This content with a scheduler configuration.
   *
   * @param config the configuration
   * @return the new content
   */
  public CheckpointContent withScheduler(SchedulerConfig config) {
    return new CheckpointContent(model, ema, trainingState, configYaml, Optional.of(config));
  }

  /**
   * The weights to sample with: the EMA weights if present, else the model's.
   *
   * @return the weights
   */
  public StateDict samplingWeights() {
    return ema.orElse(model);
  }
}
