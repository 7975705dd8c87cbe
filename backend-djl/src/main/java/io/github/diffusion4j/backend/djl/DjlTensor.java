package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.tensor.ScopeStack;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;

/**
 * A float32 tensor backed by one contiguous PyTorch {@code NDArray}. Each operation is one or a few
 * native calls; scalars and per-item factors are created natively, and intermediates are closed before the
 * operation returns, so the only array an operation leaves behind is its result, owned by the caller's
 * scope.
 *
 * <p>Arithmetic is float32 elementwise, in the same order as the reference ({@code a * x + b * y} is
 * two products and a sum, each rounded), so results match the reference to the last bit or close to it.
 */
final class DjlTensor implements Tensor, ScopeStack.Resource {
  private final DjlBackend backend;
  private final PtNDArray array;
  private final Shape shape;

  /**
   * Wraps an array; the caller registers the tensor with a scope or owns it.
   *
   * @param backend the backend
   * @param array a float32 array of the given shape; a non-contiguous one is replaced by a contiguous copy
   *     (and closed)
   * @param shape its shape
   */
  DjlTensor(DjlBackend backend, PtNDArray array, Shape shape) {
    this.backend = backend;
    this.array = contiguous(array);
    this.shape = shape;
  }

  /**
   * The array, or a contiguous copy of it that replaces (and closes) it: {@link PtArrays#read} needs one. The copy
   * belongs to the tensor, so it is kept out of any DJL scope open on this thread.
   */
  private static PtNDArray contiguous(PtNDArray array) {
    PtNDArray c = PtArrays.contiguous(array);
    if (c != array) {
      NDScope.unregister(c);
      array.close();
    }
    return c;
  }

  /**
   * The array, checked to be live.
   *
   * @return the array
   * @throws IllegalStateException if this tensor was released
   */
  PtNDArray nd() {
    if (array.isReleased()) {
      throw new IllegalStateException(
          "tensor " + shape + " was released (closed, or its scope closed); keep() it to use it later");
    }
    return array;
  }

  /**
   * Another tensor's array, checked to belong to this backend and to have this shape.
   *
   * @param other the operand
   * @return its array
   */
  PtNDArray operand(Tensor other) {
    return of(backend, other, shape, "operand").nd();
  }

  /**
   * Checks that a tensor is one of this backend's with the expected shape.
   *
   * @param backend the backend
   * @param t the tensor
   * @param expected the shape it must have
   * @param what what it is, for the message
   * @return it, as a {@code DjlTensor}
   */
  static DjlTensor of(DjlBackend backend, Tensor t, Shape expected, String what) {
    if (!(t instanceof DjlTensor d) || d.backend != backend) {
      throw new IllegalArgumentException(
          what + " is not a tensor of this djl backend: " + (t == null ? "null" : t.getClass().getName()));
    }
    expected.checkSame(d.shape, what);
    return d;
  }

  private Tensor result(PtNDArray a) {
    return backend.wrap(a, shape);
  }

  @Override
  public Shape shape() {
    return shape;
  }

  @Override
  public Tensor add(Tensor other) {
    return result(JniUtils.add(nd(), operand(other)));
  }

  @Override
  public Tensor sub(Tensor other) {
    return result(JniUtils.sub(nd(), operand(other)));
  }

  @Override
  public Tensor mul(Tensor other) {
    return result(JniUtils.mul(nd(), operand(other)));
  }

  @Override
  public Tensor div(Tensor other) {
    return result(JniUtils.div(nd(), operand(other)));
  }

  @Override
  public Tensor add(double s) {
    PtNDArray x = nd();
    try (PtNDArray c = PtArrays.scalar(backend.root(), s)) {
      return result(JniUtils.add(x, c));
    }
  }

  @Override
  public Tensor mul(double s) {
    PtNDArray x = nd();
    try (PtNDArray c = PtArrays.scalar(backend.root(), s)) {
      return result(JniUtils.mul(x, c));
    }
  }

  @Override
  public Tensor mulPerSample(double[] scale) {
    checkBatch(scale.length);
    PtNDArray x = nd();
    try (PtNDArray f = PtArrays.perItem(backend.root(), scale, shape.rank())) {
      return result(JniUtils.mul(x, f));
    }
  }

  /** {@code a * this + b * other}: a product and a fused multiply-add ({@link ScriptOps#combine}). */
  @Override
  public Tensor combine(double a, Tensor other, double b) {
    return result(backend.scriptOps().combine(nd(), a, operand(other), b, null, 0));
  }

  /** {@code (a * this + b * y) + c * z}: a product and two fused multiply-adds ({@link ScriptOps#combine}). */
  @Override
  public Tensor combine(double a, Tensor y, double b, Tensor z, double c) {
    return result(backend.scriptOps().combine(nd(), a, operand(y), b, operand(z), c));
  }

  /** Item {@code i} is {@code a[i] * this[i] + b[i] * other[i]}: two broadcast products and a sum. */
  @Override
  public Tensor combinePerSample(double[] a, Tensor other, double[] b) {
    checkBatch(a.length);
    checkBatch(b.length);
    PtNDArray x = nd();
    PtNDArray y = operand(other);
    try (PtNDArray fa = PtArrays.perItem(backend.root(), a, shape.rank());
        PtNDArray fb = PtArrays.perItem(backend.root(), b, shape.rank());
        PtNDArray by = JniUtils.mul(y, fb)) {
      PtNDArray r = JniUtils.mul(x, fa);
      JniUtils.addi(r, by);
      return result(r);
    }
  }

  @Override
  public Tensor sqrt() {
    return result(JniUtils.sqrt(nd()));
  }

  @Override
  public Tensor clamp(double min, double max) {
    if (!(min <= max)) { // a NaN bound too (libtorch made every value NaN)
      throw new IllegalArgumentException("clamp: needs min <= max, got min " + min + " and max " + max);
    }
    PtNDArray x = nd();
    try (PtNDArray lo = PtArrays.scalar(backend.root(), min);
        PtNDArray hi = PtArrays.scalar(backend.root(), max);
        PtNDArray low = JniUtils.max(x, lo)) {
      return result(JniUtils.min(low, hi));
    }
  }

  @Override
  public double sum() {
    try (PtNDArray s = JniUtils.sum(nd())) {
      return PtArrays.readScalar(s);
    }
  }

  @Override
  public Tensor reshape(Shape newShape) {
    if (newShape.size() != shape.size()) {
      throw new IllegalArgumentException(
          "cannot reshape " + shape + " (" + shape.size() + " values) to " + newShape + " ("
              + newShape.size() + " values)");
    }
    return backend.wrap(JniUtils.reshape(nd(), PtArrays.dims(newShape)), newShape);
  }

  @Override
  public float[] toFloatArray() {
    return PtArrays.read(nd(), shape.size());
  }

  @Override
  public void close() {
    array.close();
  }

  @Override
  public void release() {
    array.close();
  }

  @Override
  public boolean isReleased() {
    return array.isReleased();
  }

  private void checkBatch(int n) {
    if (n != shape.batch()) {
      throw new IllegalArgumentException(
          "got " + n + " per-item factors for a batch of " + shape.batch() + " (shape " + shape + ")");
    }
  }

  @Override
  public String toString() {
    return "DjlTensor" + shape + (array.isReleased() ? " (released)" : "");
  }
}
