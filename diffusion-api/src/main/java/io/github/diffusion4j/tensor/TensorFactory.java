package io.github.diffusion4j.tensor;

import io.github.diffusion4j.random.Noise;

/**
 * Creates tensors on one backend and opens the {@link TensorScope}s that own them.
 *
 * <p>Tensors created while no scope is open on the calling thread belong to the backend until they are
 * closed or the backend closes.
 */
public interface TensorFactory {

  /**
   * A tensor of zeros.
   *
   * @param shape its shape
   * @return the tensor
   */
  Tensor zeros(Shape shape);

  /**
   * A tensor holding a copy of {@code data}.
   *
   * @param data the elements in row-major order; its length must equal {@code shape.size()}
   * @param shape the shape
   * @return the tensor
   */
  Tensor fromArray(float[] data, Shape shape);

  /**
   * A tensor of portable standard-normal noise: item {@code i} of the batch (index {@code i} of the first
   * axis) holds the first {@code shape.itemSize()} values of the stream {@code noise.split(i)}, so the
   * same noise gives the same tensor on every backend, and an item's values do not depend on the batch
   * it is drawn in.
   *
   * @param shape the shape; its first axis is the batch
   * @param noise the root stream
   * @return the noise tensor
   */
  default Tensor normal(Shape shape, Noise noise) {
    float[] data = new float[shape.size()];
    noise.fillPerItem(data, shape.batch(), shape.itemSize(), 0);
    return fromArray(data, shape);
  }

  /**
   * The compute threads the backend was given ({@code threads} in the configuration,
   * {@code BackendOptions.threads()}). The api's loops use a thread of their own to prepare the next inputs
   * (the sampling loop draws a step's portable noise while the model runs) when this is more than 1.
   *
   * @return at least 1; 1 unless the backend says otherwise
   */
  default int threads() {
    return 1;
  }

  /**
   * Opens a scope on the calling thread; it becomes the innermost scope until closed.
   *
   * @return the new scope
   */
  TensorScope openScope();
}
