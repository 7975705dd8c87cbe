package io.github.diffusion4j.tensor;

import io.github.diffusion4j.random.Noise;

/**
 * Creates tensors on one backend and opens the {@link TensorScope}s that own them.
 *
 * <p>Tensors created while no scope is open on the calling thread belong to the backend until they are
 * closed or the backend closes. Once the backend is closed, {@link #zeros}, {@link #fromArray}, {@link #normal}
 * and {@link #openScope} throw {@code IllegalStateException} with the message {@code the NAME backend is closed}
 * ({@link ScopeStack#close(String)} gives it, and releases the backend's tensors).
 *
 * <p>A null argument is refused with an {@code IllegalArgumentException} naming it, as in the rest of the tensor
 * package ({@link Shape#checkGiven}: {@code shape must not be null}), before anything is allocated.
 */
public interface TensorFactory {

  /**
   * A tensor of zeros.
   *
   * @param shape its shape
   * @return the tensor
   * @throws IllegalArgumentException if {@code shape} is null ({@code shape must not be null})
   */
  Tensor zeros(Shape shape);

  /**
   * A tensor holding a copy of {@code data}.
   *
   * @param data the elements in row-major order; its length must equal {@code shape.size()}
   * @param shape the shape
   * @return the tensor
   * @throws IllegalArgumentException if {@code data} is null or of another length, with the message {@code shape
   *     [3, 2, 2, 2] needs 24 values, got 5} (or {@code got null}), or if {@code shape} is null ({@code shape must
   *     not be null})
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
   * @throws IllegalArgumentException if {@code shape} or {@code noise} is null ({@code shape must not be null},
   *     {@code noise must not be null})
   */
  default Tensor normal(Shape shape, Noise noise) {
    Shape.checkGiven(shape);
    if (noise == null) {
      throw new IllegalArgumentException("noise must not be null");
    }
    float[] data = new float[shape.size()];
    noise.fillPerItem(data, shape.batch(), shape.itemSize(), 0);
    return fromArray(data, shape);
  }

  /**
   * The compute threads the backend was given ({@code threads} in the configuration,
   * {@code BackendOptions.threads()}). When this is more than 1 the sampling loop splits a batch into that
   * many slices, each walked on a thread of its own under {@link #confineToCallingThread()} (a batch of one
   * image is not split: a thread of the loop's own then draws each step's noise while the model runs).
   *
   * @return at least 1; 1 unless the backend says otherwise
   */
  default int threads() {
    return 1;
  }

  /**
   * Keeps the backend's compute for the calling thread on that thread until the returned confinement is closed:
   * its own worker threads and native thread pools stay out of that thread's work. The sampling loop opens one
   * on each thread that walks a slice of a batch, so that {@link #threads()} such threads use the cores the
   * backend was given and no more. Confinements may be open on several threads at once; close each on the
   * thread that opened it, in the reverse order of opening.
   *
   * @return the confinement; {@link ThreadConfinement#NONE} by default (a backend without threads of its own)
   */
  default ThreadConfinement confineToCallingThread() {
    return ThreadConfinement.NONE;
  }

  /**
   * Opens a scope on the calling thread; it becomes the innermost scope until closed.
   *
   * @return the new scope
   */
  TensorScope openScope();
}
