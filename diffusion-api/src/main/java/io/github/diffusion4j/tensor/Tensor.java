package io.github.diffusion4j.tensor;

/**
 * An immutable float32 array with a {@link Shape}, owned by a backend.
 *
 * <p>{@code Tensor} is deliberately small: the operations a sampler and a trainer need, nothing more.
 * Every operation returns a new tensor and leaves its operands unchanged; the result belongs to the
 * innermost {@link TensorScope} open on the calling thread for the backend (see
 * {@link TensorFactory#openScope()}), so native memory is bounded by scopes rather than by the garbage
 * collector. Binary operations need operands of the same shape and the same backend: an operand of another
 * shape is an {@code IllegalArgumentException} with the message {@code operand has shape [3, 8], expected [3, 2, 2,
 * 2]} (the operand's shape first). Using a released tensor (closed, or its scope closed) is an
 * {@code IllegalStateException}. The testkit's {@code TensorContractTest} holds a backend to these.
 *
 * <p>The fused forms ({@link #combine(double, Tensor, double)},
 * {@link #combine(double, Tensor, double, Tensor, double)} and
 * {@link #combinePerSample(double[], Tensor, double[])}) exist because at the sizes diffusion models
 * often run, the cost of an operation is its call overhead, not its arithmetic; their default
 * implementations compose the primitive operations, and backends override them with one kernel.
 *
 * <p>Tensors may be read from several threads at once. Scopes are confined to the thread that opened them.
 *
 * <p>A tensor is not {@link AutoCloseable}, by design: its owner is its scope ({@link TensorScope} is), and most
 * tensors are intermediate values of expressions that no try-with-resources could hold, which compilers and
 * leak checkers would then flag by the dozen. {@link #close()} frees one early, where a long loop would otherwise
 * hold many until its scope ends.
 */
public interface Tensor {

  /**
   * The shape.
   *
   * @return the shape of this tensor
   */
  Shape shape();

  /**
   * Elementwise {@code this + other}.
   *
   * @param other a tensor of the same shape
   * @return the sum
   */
  Tensor add(Tensor other);

  /**
   * Elementwise {@code this - other}.
   *
   * @param other a tensor of the same shape
   * @return the difference
   */
  Tensor sub(Tensor other);

  /**
   * Elementwise {@code this * other}.
   *
   * @param other a tensor of the same shape
   * @return the product
   */
  Tensor mul(Tensor other);

  /**
   * Elementwise {@code this / other}.
   *
   * @param other a tensor of the same shape
   * @return the quotient
   */
  Tensor div(Tensor other);

  /**
   * {@code this + s} for every element.
   *
   * @param s the scalar
   * @return the sum
   */
  Tensor add(double s);

  /**
   * {@code this * s} for every element.
   *
   * @param s the scalar
   * @return the product
   */
  Tensor mul(double s);

  /**
   * {@code this - s} for every element.
   *
   * @param s the scalar
   * @return the difference
   */
  default Tensor sub(double s) {
    return add(-s);
  }

  /**
   * {@code this / s} for every element.
   *
   * @param s the scalar, not zero
   * @return the quotient
   */
  default Tensor div(double s) {
    return mul(1.0 / s);
  }

  /**
   * Multiplies item {@code i} of the batch (index {@code i} of the first axis) by {@code scale[i]}.
   *
   * @param scale one factor per item, of length {@code shape().batch()}
   * @return the scaled tensor
   * @throws IllegalArgumentException if {@code scale} has another length
   */
  Tensor mulPerSample(double[] scale);

  /**
   * Multiplies item {@code i} of the batch by {@code scale[i]}.
   *
   * @param scale one factor per item, of length {@code shape().batch()}
   * @return the scaled tensor
   */
  default Tensor mulPerSample(float[] scale) {
    double[] d = new double[scale.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = scale[i];
    }
    return mulPerSample(d);
  }

  /**
   * The fused linear combination {@code a * this + b * other}.
   *
   * @param a the factor of this tensor
   * @param other a tensor of the same shape
   * @param b the factor of {@code other}
   * @return the combination
   */
  default Tensor combine(double a, Tensor other, double b) {
    return mul(a).add(other.mul(b));
  }

  /**
   * The fused linear combination of three tensors {@code a * this + b * y + c * z}, in one pass where the
   * backend can (a sampler's update: the sample, the model's output and the noise). The default composes
   * two {@link #combine(double, Tensor, double)}s; a backend that overrides it evaluates
   * {@code (a * this + b * y) + c * z} with each product and sum rounded to float32, or with fused
   * multiply-adds (which round less often).
   *
   * @param a the factor of this tensor
   * @param y a tensor of the same shape
   * @param b the factor of {@code y}
   * @param z a tensor of the same shape
   * @param c the factor of {@code z}
   * @return the combination
   */
  default Tensor combine(double a, Tensor y, double b, Tensor z, double c) {
    Tensor ab = combine(a, y, b);
    Tensor r = ab.combine(1.0, z, c);
    ab.close();
    return r;
  }

  /**
   * The fused per-item linear combination: item {@code i} of the result is
   * {@code a[i] * this[i] + b[i] * other[i]}. The closed-form forward process, its inverse and the
   * sampler updates are all of this form.
   *
   * @param a factors of this tensor, one per item
   * @param other a tensor of the same shape
   * @param b factors of {@code other}, one per item
   * @return the combination
   * @throws IllegalArgumentException if {@code a} or {@code b} has another length than {@code shape().batch()}, or
   *     {@code other} another shape
   */
  default Tensor combinePerSample(double[] a, Tensor other, double[] b) {
    return mulPerSample(a).add(other.mulPerSample(b));
  }

  /**
   * Elementwise square root.
   *
   * @return the square root ({@code NaN} where an element is negative)
   */
  Tensor sqrt();

  /**
   * Elementwise clamp to {@code [min, max]}.
   *
   * @param min the lower bound
   * @param max the upper bound, at least {@code min}
   * @return the clamped tensor
   * @throws IllegalArgumentException if {@code max < min} or a bound is NaN, with the message {@code clamp: needs
   *     min <= max, got min 1.0 and max -1.0}
   */
  Tensor clamp(double min, double max);

  /**
   * The sum of all elements, accumulated in at least float precision.
   *
   * @return the sum
   */
  double sum();

  /**
   * The mean of all elements.
   *
   * @return {@code sum() / shape().size()}
   */
  default double mean() {
    return sum() / shape().size();
  }

  /**
   * The same elements with another shape of the same size.
   *
   * @param shape the new shape
   * @return a tensor with that shape (it may share memory with this one; both stay immutable)
   * @throws IllegalArgumentException if the new shape has another size
   */
  Tensor reshape(Shape shape);

  /**
   * Copies the elements, in row-major order, into a new Java array.
   *
   * @return the elements
   */
  float[] toFloatArray();

  /**
   * Releases this tensor's memory now instead of when its scope closes. Using it afterwards is an
   * error ({@code IllegalStateException}). Closing twice does nothing.
   */
  void close();
}
