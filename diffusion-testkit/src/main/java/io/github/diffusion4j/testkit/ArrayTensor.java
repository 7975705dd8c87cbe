package io.github.diffusion4j.testkit;

import io.github.diffusion4j.tensor.ScopeStack;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;

/** The reference {@link Tensor}: a float[] on the heap, float32 arithmetic, scope-tracked like a real backend. */
public final class ArrayTensor implements Tensor, ScopeStack.Resource {
  private final ReferenceBackend backend;
  private final Shape shape;
  private float[] data;

  ArrayTensor(ReferenceBackend backend, Shape shape, float[] data) {
    shape.checkValues(data);
    this.backend = backend;
    this.shape = shape;
    this.data = data;
    backend.scopes().register(this);
    backend.live.incrementAndGet();
  }

  float[] data() {
    if (data == null) {
      throw new IllegalStateException("tensor " + shape + " was released");
    }
    return data;
  }

  private float[] other(Tensor t) {
    if (!(t instanceof ArrayTensor a) || a.backend != backend) {
      throw new IllegalArgumentException(
          "operand " + t + " is not a tensor of this reference backend; create it with this backend's factory");
    }
    shape.checkSame(a.shape, "operand");
    return a.data();
  }

  private ArrayTensor make(float[] d) {
    return new ArrayTensor(backend, shape, d);
  }

  @Override
  public Shape shape() {
    return shape;
  }

  @Override
  public Tensor add(Tensor other) {
    float[] a = data(), b = other(other), r = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] + b[i];
    }
    return make(r);
  }

  @Override
  public Tensor sub(Tensor other) {
    float[] a = data(), b = other(other), r = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] - b[i];
    }
    return make(r);
  }

  @Override
  public Tensor mul(Tensor other) {
    float[] a = data(), b = other(other), r = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] * b[i];
    }
    return make(r);
  }

  @Override
  public Tensor div(Tensor other) {
    float[] a = data(), b = other(other), r = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] / b[i];
    }
    return make(r);
  }

  @Override
  public Tensor add(double s) {
    float[] a = data(), r = new float[a.length];
    float f = (float) s;
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] + f;
    }
    return make(r);
  }

  @Override
  public Tensor mul(double s) {
    float[] a = data(), r = new float[a.length];
    float f = (float) s;
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] * f;
    }
    return make(r);
  }

  @Override
  public Tensor mulPerSample(double[] scale) {
    checkBatch(scale.length);
    float[] a = data(), r = new float[a.length];
    int k = shape.itemSize();
    for (int n = 0; n < scale.length; n++) {
      float f = (float) scale[n];
      for (int j = n * k; j < (n + 1) * k; j++) {
        r[j] = a[j] * f;
      }
    }
    return make(r);
  }

  @Override
  public Tensor combine(double a, Tensor other, double b) {
    float[] x = data(), y = other(other), r = new float[x.length];
    float fa = (float) a, fb = (float) b;
    for (int i = 0; i < x.length; i++) {
      r[i] = fa * x[i] + fb * y[i];
    }
    return make(r);
  }

  @Override
  public Tensor combine(double a, Tensor y, double b, Tensor z, double c) {
    float[] xs = data(), ys = other(y), zs = other(z), r = new float[xs.length];
    float fa = (float) a, fb = (float) b, fc = (float) c;
    for (int i = 0; i < xs.length; i++) {
      r[i] = (fa * xs[i] + fb * ys[i]) + fc * zs[i];
    }
    return make(r);
  }

  @Override
  public Tensor combinePerSample(double[] a, Tensor other, double[] b) {
    checkBatch(a.length);
    checkBatch(b.length);
    float[] x = data(), y = other(other), r = new float[x.length];
    int k = shape.itemSize();
    for (int n = 0; n < a.length; n++) {
      float fa = (float) a[n], fb = (float) b[n];
      for (int j = n * k; j < (n + 1) * k; j++) {
        r[j] = fa * x[j] + fb * y[j];
      }
    }
    return make(r);
  }

  @Override
  public Tensor sqrt() {
    float[] a = data(), r = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = (float) Math.sqrt(a[i]);
    }
    return make(r);
  }

  @Override
  public Tensor clamp(double min, double max) {
    if (!(min <= max)) { // a NaN bound too (libtorch made every value NaN)
      throw new IllegalArgumentException("clamp: needs min <= max, got min " + min + " and max " + max);
    }
    float[] a = data(), r = new float[a.length];
    float lo = (float) min, hi = (float) max;
    for (int i = 0; i < a.length; i++) {
      r[i] = Math.min(Math.max(a[i], lo), hi);
    }
    return make(r);
  }

  @Override
  public double sum() {
    double s = 0;
    for (float v : data()) {
      s += v;
    }
    return s;
  }

  @Override
  public Tensor reshape(Shape newShape) {
    if (newShape.size() != shape.size()) {
      throw new IllegalArgumentException("cannot reshape " + shape + " to " + newShape);
    }
    return new ArrayTensor(backend, newShape, data().clone());
  }

  @Override
  public float[] toFloatArray() {
    return data().clone();
  }

  @Override
  public void close() {
    release();
  }

  @Override
  public synchronized void release() {
    if (data != null) {
      data = null;
      backend.live.decrementAndGet();
    }
  }

  @Override
  public boolean isReleased() {
    return data == null;
  }

  private void checkBatch(int n) {
    if (n != shape.batch()) {
      throw new IllegalArgumentException("got " + n + " factors for a batch of " + shape.batch());
    }
  }

  @Override
  public String toString() {
    return "ArrayTensor" + shape;
  }
}
