package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.tensor.ScopeStack;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A {@link Tensor} over a dense, C-ordered float32 {@link INDArray} that it owns alone (never a view), so
 * its memory can be freed the moment it is released.
 *
 * <p>Every operation is one pass of {@link Kernels} over the native memory, on the calling thread: the fused forms
 * (the {@code combine}s, {@link #combinePerSample}, {@link #mulPerSample}) would take ND4J two or three ops (and as
 * many temporaries) each, and ND4J's ops, the plain arithmetic's too, run on libnd4j's threads, whose count is
 * process-wide, so a confined thread would still start them.
 *
 * <p>The array is a flat vector (the tensor keeps the shape), so every array of a size can serve any tensor
 * of that size: a released tensor gives its array back to the backend for reuse ({@link
 * Nd4jBackend#recycle}).
 */
final class Nd4jTensor implements Tensor, ScopeStack.Resource {
  private final Nd4jBackend backend;
  private final Shape shape;
  private volatile INDArray array;
  /** Views of the array's memory, made once (each costs a JNI call through ND4J). */
  private final FloatPointer pointer;
  private final FloatBuffer buffer;

  private Nd4jTensor(Nd4jBackend backend, Shape shape, INDArray array) {
    if (array.length() != shape.size()) {
      throw new IllegalArgumentException(
          "shape " + shape + " needs " + shape.size() + " values, the array has " + array.length());
    }
    this.backend = backend;
    this.shape = shape;
    this.array = array;
    this.pointer = (FloatPointer) array.data().addressPointer();
    this.buffer = array.data().asNioFloat();
  }

  /**
   * A tensor that owns {@code array} and belongs to the calling thread's innermost scope. Where it cannot be
   * made (the backend is closed, or the array does not fit the shape), the array goes back to the backend
   * ({@link Nd4jBackend#recycle}, which frees it once the backend is closed) instead of leaking.
   *
   * @param backend the backend
   * @param shape the shape
   * @param array a dense C-ordered float array of {@code shape.size()} elements, not a view
   * @return the tensor
   */
  static Nd4jTensor owning(Nd4jBackend backend, Shape shape, INDArray array) {
    try {
      Nd4jTensor t = new Nd4jTensor(backend, shape, array);
      backend.scopes().register(t);
      return t;
    } catch (RuntimeException | Error e) {
      backend.recycle(array);
      throw e;
    }
  }

  /**
   * The array, checking that this tensor is still usable.
   *
   * @return the array
   * @throws IllegalStateException if the tensor was released
   */
  INDArray array() {
    INDArray a = array;
    if (a == null) {
      throw new IllegalStateException("tensor " + shape + " was released (closed, or its scope closed)");
    }
    return a;
  }

  /**
   * The native memory as a pointer for BLAS.
   *
   * @return the pointer to element 0
   */
  FloatPointer pointer() {
    array();
    return pointer;
  }

  /**
   * The native memory as a buffer for {@link Kernels}.
   *
   * @return a direct buffer over all elements
   */
  FloatBuffer buffer() {
    array();
    return buffer;
  }

  Nd4jBackend backend() {
    return backend;
  }

  private Nd4jTensor operand(Tensor t) {
    if (!(t instanceof Nd4jTensor n) || n.backend != backend) {
      throw new IllegalArgumentException(
          "operand " + t + " is not a tensor of this nd4j backend; create it with this backend's factory");
    }
    shape.checkSame(n.shape, "operand");
    return n;
  }

  private Nd4jTensor result(INDArray a) {
    return owning(backend, shape, a);
  }

  private Nd4jTensor uninitialized() {
    return result(backend.allocate(shape));
  }

  private void checkBatch(int n) {
    if (n != shape.batch()) {
      throw new IllegalArgumentException("got " + n + " factors for a batch of " + shape.batch());
    }
  }

  @Override
  public Shape shape() {
    return shape;
  }

  @Override
  public Tensor add(Tensor other) {
    return arithmetic(Kernels.Arithmetic.ADD, other);
  }

  @Override
  public Tensor sub(Tensor other) {
    return arithmetic(Kernels.Arithmetic.SUB, other);
  }

  @Override
  public Tensor mul(Tensor other) {
    return arithmetic(Kernels.Arithmetic.MUL, other);
  }

  @Override
  public Tensor div(Tensor other) {
    return arithmetic(Kernels.Arithmetic.DIV, other);
  }

  @Override
  public Tensor add(double s) {
    return scalar(false, s);
  }

  @Override
  public Tensor mul(double s) {
    return scalar(true, s);
  }

  /** {@code this op other}, elementwise. */
  private Nd4jTensor arithmetic(Kernels.Arithmetic op, Tensor other) {
    FloatBuffer y = operand(other).buffer();
    FloatBuffer x = buffer();
    Nd4jTensor r = uninitialized();
    Kernels.apply(op, x, y, r.buffer(), shape.size());
    return r;
  }

  /** {@code this * s} or {@code this + s}, elementwise. */
  private Nd4jTensor scalar(boolean multiply, double s) {
    FloatBuffer x = buffer();
    Nd4jTensor r = uninitialized();
    Kernels.apply(multiply, x, (float) s, r.buffer(), shape.size());
    return r;
  }

  @Override
  public Tensor mulPerSample(double[] scale) {
    checkBatch(scale.length);
    FloatBuffer x = buffer();
    Nd4jTensor r = uninitialized();
    Kernels.scalePerItem(scale, x, r.buffer(), shape.itemSize());
    return r;
  }

  @Override
  public Tensor combine(double a, Tensor other, double b) {
    FloatBuffer y = operand(other).buffer();
    FloatBuffer x = buffer();
    Nd4jTensor r = uninitialized();
    Kernels.combine((float) a, x, (float) b, y, r.buffer(), shape.size());
    return r;
  }

  @Override
  public Tensor combine(double a, Tensor y, double b, Tensor z, double c) {
    FloatBuffer bz = operand(z).buffer();
    FloatBuffer by = operand(y).buffer();
    FloatBuffer x = buffer();
    Nd4jTensor r = uninitialized();
    Kernels.combine3((float) a, x, (float) b, by, (float) c, bz, r.buffer(), shape.size());
    return r;
  }

  @Override
  public Tensor combinePerSample(double[] a, Tensor other, double[] b) {
    checkBatch(a.length);
    checkBatch(b.length);
    FloatBuffer y = operand(other).buffer();
    FloatBuffer x = buffer();
    Nd4jTensor r = uninitialized();
    Kernels.combinePerItem(a, x, b, y, r.buffer(), shape.itemSize());
    return r;
  }

  @Override
  public Tensor sqrt() {
    FloatBuffer x = buffer();
    Nd4jTensor r = uninitialized();
    Kernels.sqrt(x, r.buffer(), shape.size());
    return r;
  }

  @Override
  public Tensor clamp(double min, double max) {
    if (!(min <= max)) { // a NaN bound too (libtorch made every value NaN)
      throw new IllegalArgumentException("clamp: needs min <= max, got min " + min + " and max " + max);
    }
    FloatBuffer x = buffer();
    Nd4jTensor r = uninitialized();
    Kernels.clamp(x, (float) min, (float) max, r.buffer(), shape.size());
    return r;
  }

  @Override
  public double sum() {
    return Kernels.sum(buffer(), shape.size());
  }

  @Override
  public Tensor reshape(Shape newShape) {
    if (newShape.size() != shape.size()) {
      throw new IllegalArgumentException("cannot reshape " + shape + " to " + newShape);
    }
    FloatPointer src = pointer();
    INDArray copy = backend.allocate(newShape);
    FloatPointer dst = (FloatPointer) copy.data().addressPointer();
    FloatPointer.memcpy(dst, src, (long) shape.size() * Float.BYTES);
    return owning(backend, newShape, copy);
  }

  @Override
  public float[] toFloatArray() {
    float[] out = new float[shape.size()];
    pointer().get(out);
    return out;
  }

  @Override
  public void close() {
    release();
  }

  @Override
  public void release() {
    INDArray a;
    synchronized (this) {
      a = array;
      array = null;
    }
    if (a != null) {
      backend.recycle(a);
    }
  }

  @Override
  public boolean isReleased() {
    return array == null;
  }

  @Override
  public String toString() {
    return "Nd4jTensor" + shape + (isReleased() ? " (released)" : "");
  }
}
