package io.github.diffusion4j.model;

import io.github.diffusion4j.tensor.Tensor;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A {@link TrainableModel} whose every call that reads or writes the model's native memory runs inside a
 * {@link Guard}: for a session that hands its model out and whose close waits for the calls in progress and refuses
 * later ones ({@code io.github.diffusion4j.runtime.TrainedModel#model()}). The calls that read only the spec and
 * counters ({@link #spec()}, {@link #optimizer()}, {@link #stepCount()}) run unguarded; {@link #close()} runs the
 * session's close.
 */
public final class GuardedModel implements TrainableModel {

  /** Runs a call as its session's calls run. */
  public interface Guard {
    /**
     * Runs a call; the session's close waits for it to return.
     *
     * @param call the call
     * @param <T> what it returns
     * @return what it returned
     * @throws IllegalStateException if the session is closed
     */
    <T> T run(Supplier<T> call);
  }

  private final TrainableModel model;
  private final Guard guard;
  private final Runnable close;

  private GuardedModel(TrainableModel model, Guard guard, Runnable close) {
    this.model = Objects.requireNonNull(model, "model");
    this.guard = Objects.requireNonNull(guard, "guard");
    this.close = Objects.requireNonNull(close, "close");
  }

  /**
   * A model whose calls run inside a guard.
   *
   * @param model the model
   * @param guard runs its calls
   * @param close what {@link #close()} does (the session's close)
   * @return the guarded model
   */
  public static GuardedModel of(TrainableModel model, Guard guard, Runnable close) {
    return new GuardedModel(model, guard, close);
  }

  /**
   * The model itself for a caller that already runs inside this model's guard for the whole of a longer call (a
   * sampling call, whose threads would otherwise enter the guard again), else this model.
   *
   * @param caller the guard the caller runs inside
   * @return the unguarded model where {@code caller} is this model's guard, else this
   */
  public NoisePredictor within(Guard caller) {
    return caller == guard ? model : this;
  }

  private void run(Runnable call) {
    guard.run(() -> {
      call.run();
      return null;
    });
  }

  @Override
  public ModelSpec spec() {
    return model.spec();
  }

  @Override
  public Tensor predict(Tensor noisy, int[] timesteps) {
    return guard.run(() -> model.predict(noisy, timesteps));
  }

  @Override
  public TrainingStepResult step(Tensor noisy, int[] timesteps, Tensor target) {
    return guard.run(() -> model.step(noisy, timesteps, target));
  }

  @Override
  public TrainingStepResult step(Tensor noisy, int[] timesteps, Tensor target, double learningRate) {
    return guard.run(() -> model.step(noisy, timesteps, target, learningRate));
  }

  @Override
  public Optional<OptimizerSpec> optimizer() {
    return model.optimizer();
  }

  @Override
  public StateDict gradients(Tensor noisy, int[] timesteps, Tensor target) {
    return guard.run(() -> model.gradients(noisy, timesteps, target));
  }

  @Override
  public long stepCount() {
    return model.stepCount();
  }

  @Override
  public StateDict stateDict() {
    return guard.run(model::stateDict);
  }

  @Override
  public void loadStateDict(StateDict weights) {
    run(() -> model.loadStateDict(weights));
  }

  @Override
  public StateDict optimizerState() {
    return guard.run(model::optimizerState);
  }

  @Override
  public void loadOptimizerState(StateDict state) {
    run(() -> model.loadOptimizerState(state));
  }

  @Override
  public void loadOptimizerState(StateDict state, long stepCount) {
    run(() -> model.loadOptimizerState(state, stepCount));
  }

  @Override
  public void updateEma(double decay) {
    run(() -> model.updateEma(decay));
  }

  @Override
  public StateDict emaStateDict() {
    return guard.run(model::emaStateDict);
  }

  @Override
  public void loadEmaStateDict(StateDict ema) {
    run(() -> model.loadEmaStateDict(ema));
  }

  /** Runs the session's close (which waits for the calls in progress). */
  @Override
  public void close() {
    close.run();
  }

  @Override
  public String toString() {
    return model.toString();
  }
}
