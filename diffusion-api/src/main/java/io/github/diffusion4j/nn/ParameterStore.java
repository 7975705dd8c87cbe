package io.github.diffusion4j.nn;

import java.util.Map;

/**
 * A backend's storage of a network's parameters: the weights, their gradient, Adam's two moments and the
 * moving average, each one flat float32 vector in state-dict order (so the optimiser and the average are
 * single fused passes). Created by {@link LayerBackend#parameters}; the {@link Kernel}s of the same backend
 * read the weights and add to the gradient directly. Several kernels may read one parameter ({@link
 * LayerBackend#kernel}); its gradient is then the sum of theirs.
 */
public interface ParameterStore extends AutoCloseable {

  /** The flat vectors of the store. */
  enum Buffer {
    /** The weights. */
    WEIGHTS,
    /** The gradient accumulated since {@link #zeroGradients()}. */
    GRADIENTS,
    /** Adam's first moment. */
    FIRST_MOMENT,
    /** Adam's second moment. */
    SECOND_MOMENT,
    /** The exponential moving average of the weights. */
    AVERAGE
  }

  /**
   * The layout: names, shapes and order.
   *
   * @return the layout the store was created with
   */
  Map<String, int[]> layout();

  /**
   * The number of floats in each vector.
   *
   * @return the parameter count
   */
  int size();

  /**
   * A copy of one vector. Before the moving average has started ({@link #hasAverage()} false), {@link
   * Buffer#AVERAGE} reads as a copy of the weights, the value the first {@link #updateAverage} starts it at.
   *
   * @param buffer which one
   * @return its {@link #size()} values in layout order
   */
  float[] read(Buffer buffer);

  /**
   * Overwrites one vector (a write of {@link Buffer#AVERAGE} starts the moving average at {@code values}). A write
   * of {@link Buffer#GRADIENTS} replaces the gradient: the backward passes that follow add to the values written, as
   * to any gradient ({@link Kernel#backward}, {@link Pass#mseBackward}), whatever their loss factors.
   *
   * @param buffer which one
   * @param values {@link #size()} values in layout order
   * @throws IllegalArgumentException if {@code values} has another length than {@link #size()}
   */
  void write(Buffer buffer, float[] values);

  /** Sets the gradient to zero. */
  void zeroGradients();

  /**
   * One Adam update from the accumulated gradient (PyTorch's {@code torch.optim.Adam} with L2 weight decay,
   * after clipping the gradient's global norm when {@code maxGradNorm > 0}, as
   * {@code clip_grad_norm_}).
   *
   * @param update the hyper-parameters and the step number
   */
  void adam(AdamUpdate update);

  /**
   * {@code average = decay * average + (1 - decay) * weights}; the first call starts the average at the
   * weights, then applies the update.
   *
   * @param decay the decay, in [0, 1]
   */
  void updateAverage(double decay);

  /**
   * Whether the moving average has started (by {@link #updateAverage} or a {@link #write} of it).
   *
   * @return true if it has
   */
  boolean hasAverage();

  /** Releases the store's memory. */
  @Override
  void close();

  /**
   * The hyper-parameters of one Adam step.
   *
   * @param learningRate the step size
   * @param beta1 the first moment's decay
   * @param beta2 the second moment's decay
   * @param epsilon the denominator's constant
   * @param weightDecay the L2 penalty added to the gradient
   * @param maxGradNorm the gradient's largest global norm, or 0 for no clipping
   * @param step Adam's {@code t} for this update, 1-based
   */
  record AdamUpdate(
      double learningRate, double beta1, double beta2, double epsilon, double weightDecay, double maxGradNorm, long step) {}
}
