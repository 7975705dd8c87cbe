package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.engine.PtNDArray;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.StepOutput;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;

/**
 * What every model of this backend shares: its {@link FlatParameters} (weights, Adam state, moving average
 * and their state dicts), input checks, the ownership of the last step's prediction, and closing.
 * Subclasses add the network: {@code predict}, {@code step} and {@code gradients}.
 */
abstract class DjlModel implements TrainableModel {
  /** The backend that created the model. */
  final DjlBackend backend;
  /** The weights and optimiser state. */
  final FlatParameters state;
  private final ModelSpec spec;
  private final String name;
  private DjlTensor lastPrediction;
  private volatile boolean closed;

  /**
   * Allocates the state for a spec's layout.
   *
   * @param backend the backend
   * @param spec the architecture
   * @param layout its state-dict layout
   */
  DjlModel(DjlBackend backend, ModelSpec spec, java.util.Map<String, int[]> layout) {
    this.backend = backend;
    this.spec = spec;
    this.name = spec.kind();
    this.state = new FlatParameters(backend.root(), layout);
  }

  @Override
  public ModelSpec spec() {
    return spec;
  }

  /**
   * Checks a batch and its timesteps (and that the model is open).
   *
   * @param noisy the batch
   * @param timesteps its timesteps
   * @return the batch as this backend's tensor
   */
  DjlTensor input(Tensor noisy, int[] timesteps) {
    checkOpen();
    return ModelInputs.check(backend, spec, name, noisy, timesteps);
  }

  /** Closes the previous step's prediction: a step's prediction is valid until the next step. */
  void releaseLastPrediction() {
    if (lastPrediction != null) {
      lastPrediction.close();
      lastPrediction = null;
    }
  }

  /**
   * The result of a step; the model owns the prediction until its next step.
   *
   * @param loss the loss
   * @param prediction a contiguous array on the root manager, in no scope
   * @param shape its shape
   * @return the step's output
   */
  StepOutput stepOutput(double loss, PtNDArray prediction, Shape shape) {
    lastPrediction = new DjlTensor(backend, prediction, shape);
    return new StepOutput(loss, lastPrediction);
  }

  @Override
  public long stepCount() {
    return state.steps();
  }

  @Override
  public StateDict stateDict() {
    checkOpen();
    return state.stateDict();
  }

  @Override
  public void loadStateDict(StateDict weights) {
    checkOpen();
    state.loadStateDict(weights, name);
  }

  @Override
  public StateDict optimizerState() {
    checkOpen();
    return state.optimizerState();
  }

  @Override
  public void loadOptimizerState(StateDict optimizerState) {
    checkOpen();
    state.loadOptimizerState(optimizerState);
  }

  @Override
  public void updateEma(double decay) {
    checkOpen();
    state.updateEma(decay);
  }

  @Override
  public StateDict emaStateDict() {
    checkOpen();
    return state.emaStateDict();
  }

  @Override
  public void loadEmaStateDict(StateDict weights) {
    checkOpen();
    state.loadEmaStateDict(weights);
  }

  /** Throws if the model is closed. */
  void checkOpen() {
    if (closed) {
      throw new IllegalStateException(name + ": the model is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    releaseLastPrediction();
    state.close();
    backend.closed(this);
  }
}
