package io.github.diffusion4j.model;

import io.github.diffusion4j.tensor.Tensor;

/**
 * A noise predictor that a backend can train: forward, mean-squared-error loss, backward and one
 * {@link OptimizerSpec Adam} update per {@link #step}, plus its weights, optimiser state and an optional
 * exponential moving average of the weights, all as {@link StateDict}s.
 *
 * <p>{@link #predict} is thread-safe; {@link #step} and the state methods must not run concurrently
 * with each other or with {@code predict}.
 */
public interface TrainableModel extends NoisePredictor, AutoCloseable {

  /**
   * The architecture.
   *
   * @return the spec this model was built from
   */
  ModelSpec spec();

  /**
   * One optimiser step on a batch: predicts, computes {@code mean((prediction - target)^2)}, backpropagates
   * and updates the weights.
   *
   * @param noisy {@code x_t}, shape {@code [N, C, H, W]}
   * @param timesteps one timestep per item
   * @param target what the model should output, same shape as {@code noisy}
   * @return the loss and the prediction (before the update)
   */
  TrainingStepResult step(Tensor noisy, int[] timesteps, Tensor target);

  /**
   * {@link #step(Tensor, int[], Tensor)} with this step's learning rate in place of the optimiser's (a
   * learning-rate schedule's, {@code io.github.diffusion4j.training.LearningRateSchedule}); every other Adam setting
   * is the optimiser's. Adam's moments and step count are what they would be with the optimiser's rate: the rate
   * scales only the update, as PyTorch's {@code LambdaLR} changes {@code lr} between steps.
   *
   * <p>The default takes only the optimiser's own rate ({@link #optimizer()}), which it passes to the
   * three-argument step; any other rate, or a model that does not report its optimiser, is refused: implement this
   * method to train with a schedule.
   *
   * @param noisy {@code x_t}, shape {@code [N, C, H, W]}
   * @param timesteps one timestep per item
   * @param target what the model should output, same shape as {@code noisy}
   * @param learningRate this step's rate, finite and at least 0
   * @return the loss and the prediction (before the update)
   * @throws UnsupportedOperationException if this model takes only its optimiser's rate and was given another
   */
  default TrainingStepResult step(Tensor noisy, int[] timesteps, Tensor target, double learningRate) {
    java.util.Optional<OptimizerSpec> own = optimizer();
    if (own.isPresent() && own.get().learningRate() == learningRate) {
      return step(noisy, timesteps, target);
    }
    throw new UnsupportedOperationException(getClass().getName() + " takes only its optimiser's learning rate"
        + own.map(o -> " (" + o.learningRate() + ")").orElse("") + ", not " + learningRate + ": it cannot follow a "
        + "learning-rate schedule (training.lr_schedule, training.lr_warmup_steps); implement "
        + "TrainableModel.step(noisy, timesteps, target, learningRate) to train it with one");
  }

  /**
   * The optimiser this model steps with, where it reports one (a learning-rate schedule scales its rate).
   *
   * @return the optimiser's settings; empty by default
   */
  default java.util.Optional<OptimizerSpec> optimizer() {
    return java.util.Optional.empty();
  }

  /**
   * The gradient of the loss {@code mean((predict(noisy, timesteps) - target)^2)} with respect to every
   * weight, without changing anything (for gradient checks and diagnostics). Gradient clipping and
   * weight decay are not applied.
   *
   * @param noisy {@code x_t}
   * @param timesteps one timestep per item
   * @param target the target
   * @return the gradients, with the state dict's names and shapes
   */
  StateDict gradients(Tensor noisy, int[] timesteps, Tensor target);

  /**
   * How many optimiser steps have been taken (Adam's {@code t}).
   *
   * @return the step count
   */
  long stepCount();

  /**
   * A copy of the weights, with PyTorch's names and layouts.
   *
   * @return the state dict
   */
  StateDict stateDict();

  /**
   * Replaces the weights.
   *
   * @param weights a state dict with exactly this model's names and shapes, all values finite
   * @throws IllegalArgumentException naming the first missing, extra, misshapen or non-finite entry
   */
  void loadStateDict(StateDict weights);

  /**
   * The optimiser's state (Adam's first and second moments, named {@code <param>.exp_avg} and
   * {@code <param>.exp_avg_sq}, and the step count as {@code step}), for exact resumption.
   *
   * @return the state
   */
  StateDict optimizerState();

  /**
   * Restores the optimiser's state written by {@link #optimizerState()}.
   *
   * @param state the state
   * @throws IllegalArgumentException if it does not match this model
   */
  void loadOptimizerState(StateDict state);

  /**
   * Restores the optimiser's state written by {@link #optimizerState()} with Adam's exact step count, which a
   * checkpoint keeps beside it: the state's {@code step} entry is float32 (as PyTorch's), which counts exactly only up
   * to 2^24 = 16,777,216 steps, so past that it holds the count rounded.
   *
   * <p>The default loads the state alone ({@link #loadOptimizerState(StateDict)}), so its step count is the
   * {@code step} entry's; a model that counts its steps in a {@code long} overrides this method to take the exact
   * count.
   *
   * @param state the state
   * @param stepCount Adam's step count ({@link #stepCount()} when the state was written), at least 0; the state's
   *     {@code step} entry holds it rounded to float32
   * @throws IllegalArgumentException if the state does not match this model, or its {@code step} entry is not the
   *     count rounded to float32 (the two were not written together)
   */
  default void loadOptimizerState(StateDict state, long stepCount) {
    loadOptimizerState(state);
  }

  /**
   * Updates the exponential moving average of the weights: {@code ema = decay * ema + (1 - decay) *
   * weights}. The first call starts the average at the current weights (then applies the update).
   *
   * @param decay the decay for this step, in [0, 1]
   */
  void updateEma(double decay);

  /**
   * A copy of the moving average of the weights, or of the weights if {@link #updateEma} was never
   * called.
   *
   * @return the averaged state dict
   */
  StateDict emaStateDict();

  /**
   * Replaces the moving average (for resumption).
   *
   * @param ema a state dict with this model's names and shapes
   */
  void loadEmaStateDict(StateDict ema);

  /**
   * Releases the model's native memory. Call it once no call of this model is in progress on any thread: a model
   * is not a session that waits for its callers ({@code TrainedModel} and {@code Diffusion} are; use them where
   * other threads may still be predicting); a second close does nothing.
   */
  @Override
  void close();
}
