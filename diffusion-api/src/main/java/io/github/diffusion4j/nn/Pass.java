package io.github.diffusion4j.nn;

import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;

/**
 * One evaluation of a {@link Network} on a contiguous run of a batch's items, on one thread: the backend's
 * working memory for it, and the conversions between the api's {@link Tensor}s and the backend's
 * {@link Value}s. Opened by {@link LayerBackend#open}; closing it releases every value it still holds. A closed
 * pass refuses to make or read values ({@link #input}, {@link #host}, {@link #output}, {@link #accumulate}, the loss)
 * with an {@link IllegalStateException}; releasing a value after close, and closing again, do nothing.
 */
public interface Pass extends AutoCloseable {

  /**
   * The number of items this pass evaluates.
   *
   * @return the item count
   */
  int items();

  /**
   * Whether this pass is for training (a backward pass follows; dropout applies).
   *
   * @return true in training
   */
  boolean training();

  /**
   * The pass's items of a batch: items {@code [from, from + items())} of {@code x}.
   *
   * @param x a batch {@code [N, C, H, W]} of this backend
   * @param from the first item
   * @return the value
   * @throws IllegalArgumentException if {@code x} is not a tensor of this backend or does not hold those items
   */
  Value input(Tensor x, int from);

  /**
   * Values computed in Java (a timestep embedding, a dropout mask). The pass copies {@code data} and keeps no
   * reference to it: the caller may reuse the array as soon as this returns.
   *
   * @param data {@code items() * itemShape.size()} values, row-major {@code [items, itemShape...]}
   * @param itemShape the shape of one item
   * @return the value
   * @throws IllegalArgumentException if {@code data} has another length
   */
  Value host(float[] data, Shape itemShape);

  /**
   * A value as a tensor.
   *
   * @param v the value
   * @param shape the tensor's shape, {@code [items(), item shape...]}
   * @return a new tensor owned by the calling thread's innermost scope; it stays valid after the value is
   *     released and the pass is closed
   * @throws IllegalArgumentException if {@code shape} has another size than the value
   */
  Tensor output(Value v, Shape shape);

  /**
   * {@code sum + addend}, for gradients that reach a node from several readers.
   *
   * @param sum the gradient so far
   * @param addend another gradient of the same shape
   * @return a new value; the operands are unchanged (the model releases them)
   */
  Value accumulate(Value sum, Value addend);

  /**
   * The loss of a backend that differentiates by hand: {@code scale * sum((prediction - target)^2)} over the
   * pass's items, and its gradient {@code 2 * scale * (prediction - target)}.
   *
   * @param prediction the network's output
   * @param target the whole batch's target {@code [N, ...]}; the pass reads items {@code [from, from +
   *     items())}
   * @param from the first item
   * @param scale the factor, {@code 1 / (N * item size)} for the batch's mean
   * @return the loss and its gradient
   * @throws IllegalArgumentException if {@code target} does not hold those items, or its items have another shape
   *     than the prediction's
   */
  default Loss mse(Value prediction, Tensor target, int from, double scale) {
    throw new UnsupportedOperationException("this backend differentiates with its own autograd: use mseBackward");
  }

  /**
   * The loss of a backend with its own autograd, after which its backward pass has run and the parameters'
   * gradients have been added to the store's gradient: {@code scale * sum((prediction - target)^2)}.
   *
   * @param prediction the network's output (recorded in training)
   * @param target the whole batch's target; the pass reads items {@code [from, from + items())}
   * @param from the first item
   * @param scale the factor
   * @return the loss
   * @throws IllegalArgumentException if {@code target} does not hold those items, or its items have another shape
   *     than the prediction's
   */
  default double mseBackward(Value prediction, Tensor target, int from, double scale) {
    throw new UnsupportedOperationException("this backend differentiates by hand: use mse and the kernels' backward");
  }

  /**
   * Gives a value back: the model will not use it again.
   *
   * @param v the value
   */
  void release(Value v);

  /** Ends the pass, releasing every value of it that was not given back; a second call does nothing. */
  @Override
  void close();

  /**
   * A loss and its gradient with respect to the prediction.
   *
   * @param value the loss
   * @param gradient the gradient, a value of the pass
   */
  record Loss(double value, Value gradient) {}
}
