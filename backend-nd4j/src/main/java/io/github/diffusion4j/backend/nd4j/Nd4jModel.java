package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.StepOutput;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What every model of this backend shares: its {@link ModelState} (weights, gradient, Adam state, moving
 * average and their state dicts), the checks on inputs and targets with one-line messages, the ownership
 * of the last step's prediction, and closing. Subclasses add the network: {@code predict}, {@code step}
 * and {@code gradients}, and free their own buffers in {@link #closeResources()}.
 */
abstract class Nd4jModel implements TrainableModel {
  /** The backend that created the model. */
  final Nd4jBackend backend;
  /** The weights and optimiser state. */
  final ModelState state;
  private final ModelSpec spec;
  /** The model's name in messages, its kind ("mlp", "unet"). */
  final String name;
  private Nd4jTensor lastPrediction;
  private volatile boolean closed;

  /**
   * Allocates the state.
   *
   * @param backend the backend
   * @param spec the architecture
   * @param layout its state dict's shapes by name, in order
   * @param size the number of values of the internal layout
   * @param codec maps the internal layout to the state dict
   */
  Nd4jModel(Nd4jBackend backend, ModelSpec spec, Map<String, int[]> layout, int size, ModelState.Codec codec) {
    this.backend = backend;
    this.spec = spec;
    this.name = spec.kind();
    this.state = new ModelState(layout, size, codec, name);
  }

  @Override
  public ModelSpec spec() {
    return spec;
  }

  /** Throws if the model is closed. */
  final void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the nd4j " + name + " model was closed");
    }
  }

  /**
   * Checks a batch and its timesteps against the spec (and that the model is open).
   *
   * @param noisy the batch, {@code [N, C, H, W]}
   * @param timesteps one timestep in {@code [0, T)} per item
   * @return the batch as this backend's tensor
   * @throws IllegalArgumentException naming what is wrong
   */
  final Nd4jTensor input(Tensor noisy, int[] timesteps) {
    checkOpen();
    if (!(noisy instanceof Nd4jTensor x) || x.backend() != backend) {
      throw new IllegalArgumentException(
          name + ": input " + noisy + " is not a tensor of this nd4j backend; create it with its factory");
    }
    Shape s = noisy.shape();
    if (s.rank() != 4 || !s.item().equals(spec.imageShape())) {
      throw new IllegalArgumentException(
          name + ": input has shape " + s + ", expected [N, " + spec.imageShape().toString().substring(1)
              + " (N items of the model's image_shape " + spec.imageShape().toCompactString() + ")");
    }
    if (timesteps.length != s.batch()) {
      throw new IllegalArgumentException(
          name + ": " + timesteps.length + " timesteps for a batch of " + s.batch() + "; give one per item");
    }
    int tMax = spec.numTrainTimesteps();
    for (int i = 0; i < timesteps.length; i++) {
      if (timesteps[i] < 0 || timesteps[i] >= tMax) {
        throw new IllegalArgumentException(
            name + ": timestep " + timesteps[i] + " at index " + i + " is outside [0, " + tMax + ")");
      }
    }
    return x;
  }

  /**
   * Checks a training target.
   *
   * @param target the target
   * @param shape the batch's shape
   * @return the target as this backend's tensor
   */
  final Nd4jTensor target(Tensor target, Shape shape) {
    if (!(target instanceof Nd4jTensor y) || y.backend() != backend) {
      throw new IllegalArgumentException(
          name + ": target " + target + " is not a tensor of this nd4j backend; create it with its factory");
    }
    if (!target.shape().equals(shape)) {
      throw new IllegalArgumentException(name + ": target has shape " + target.shape() + ", expected " + shape);
    }
    return y;
  }

  /**
   * Releases the previous step's prediction; a step calls it first, so that the last prediction given
   * back as an input fails instead of being overwritten.
   */
  final void invalidatePrediction() {
    if (lastPrediction != null) {
      lastPrediction.release();
      lastPrediction = null;
    }
  }

  /**
   * The result of a step; the prediction is memory the model owns, valid until its next step.
   *
   * @param loss the loss
   * @param shape the prediction's shape
   * @param prediction the model's buffer holding it
   * @return the step's output
   */
  final StepOutput stepOutput(double loss, Shape shape, INDArray prediction) {
    lastPrediction = Nd4jTensor.borrowed(backend, shape, prediction);
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
    state.loadStateDict(weights);
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
  public void loadEmaStateDict(StateDict ema) {
    checkOpen();
    state.loadEmaStateDict(ema);
  }

  /** Frees the subclass's buffers; called once, by {@link #close()}. */
  abstract void closeResources();

  @Override
  public final void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    invalidatePrediction();
    closeResources();
    state.close();
    backend.forget(this);
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + spec + "]";
  }
}
