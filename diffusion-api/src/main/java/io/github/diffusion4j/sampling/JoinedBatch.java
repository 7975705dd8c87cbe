package io.github.diffusion4j.sampling;

import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;

/**
 * A batch walked in slices, as one tensor for a {@link SamplingListener}: its shape is the whole batch's, its
 * {@link #toFloatArray()} the slices' values one after the other (each slice's tensor lives on the thread that
 * walks it and is only read here); any operation computes on a joined copy, made on the first one, which
 * belongs to the scope open on the calling thread then. Nothing is copied unless the listener reads.
 */
final class JoinedBatch implements Tensor {
  private final TensorFactory tensors;
  private final Tensor[] slices;
  private final Shape shape;
  private Tensor whole;

  private JoinedBatch(TensorFactory tensors, Tensor[] slices, Shape shape) {
    this.tensors = tensors;
    this.slices = slices;
    this.shape = shape;
  }

  /**
   * The slices joined along the batch axis.
   *
   * @param tensors the factory of the joined copy
   * @param slices the slices in order, {@code [n_k, C, H, W]} each; null if any is null
   * @return the joined batch, or null
   */
  static Tensor of(TensorFactory tensors, Tensor... slices) {
    int batch = 0;
    for (Tensor s : slices) {
      if (s == null) {
        return null;
      }
      batch += s.shape().batch();
    }
    return new JoinedBatch(tensors, slices.clone(), slices[0].shape().withBatch(batch));
  }

  private Tensor whole() {
    if (whole == null) {
      whole = tensors.fromArray(toFloatArray(), shape);
    }
    return whole;
  }

  private static Tensor own(Tensor t) {
    return t instanceof JoinedBatch j ? j.whole() : t;
  }

  @Override
  public Shape shape() {
    return shape;
  }

  @Override
  public float[] toFloatArray() {
    float[] all = new float[shape.size()];
    int at = 0;
    for (Tensor s : slices) {
      float[] v = s.toFloatArray();
      System.arraycopy(v, 0, all, at, v.length);
      at += v.length;
    }
    return all;
  }

  @Override
  public Tensor add(Tensor other) {
    return whole().add(own(other));
  }

  @Override
  public Tensor sub(Tensor other) {
    return whole().sub(own(other));
  }

  @Override
  public Tensor mul(Tensor other) {
    return whole().mul(own(other));
  }

  @Override
  public Tensor div(Tensor other) {
    return whole().div(own(other));
  }

  @Override
  public Tensor add(double s) {
    return whole().add(s);
  }

  @Override
  public Tensor mul(double s) {
    return whole().mul(s);
  }

  @Override
  public Tensor mulPerSample(double[] scale) {
    return whole().mulPerSample(scale);
  }

  @Override
  public Tensor sqrt() {
    return whole().sqrt();
  }

  @Override
  public Tensor clamp(double min, double max) {
    return whole().clamp(min, max);
  }

  @Override
  public double sum() {
    return whole().sum();
  }

  @Override
  public Tensor reshape(Shape newShape) {
    return whole().reshape(newShape);
  }

  /** Releases the joined copy, if one was made; the slices belong to their walks. */
  @Override
  public void close() {
    if (whole != null) {
      whole.close();
      whole = null;
    }
  }
}
