package io.github.diffusion4j.testkit;

import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.ScopeStack;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;

/**
 * The reference backend: plain Java, float32 tensors on the heap and the layer kinds of
 * {@link ReferenceLayers}. Slow and obviously correct; the contract suites compare every real backend
 * against it, and it runs every network.
 */
public final class ReferenceBackend implements Backend, TensorFactory {
  private final ScopeStack scopes = new ScopeStack();
  private final ReferenceLayers layers = new ReferenceLayers(this);
  final java.util.concurrent.atomic.AtomicInteger live = new java.util.concurrent.atomic.AtomicInteger();

  /** Creates the backend. */
  public ReferenceBackend() {}

  /**
   * The number of tensors created and not yet released, for leak tests.
   *
   * @return the count
   */
  public int liveTensors() {
    return live.get();
  }

  ScopeStack scopes() {
    return scopes;
  }

  @Override
  public String name() {
    return "reference";
  }

  @Override
  public String describe() {
    return "reference (plain Java, for tests)";
  }

  @Override
  public TensorFactory tensors() {
    return this;
  }

  @Override
  public LayerBackend layers() {
    return layers;
  }

  @Override
  public void close() {
    scopes.close("the reference backend");
  }

  @Override
  public Tensor zeros(Shape shape) {
    return new ArrayTensor(this, shape, new float[Shape.checkGiven(shape).size()]);
  }

  @Override
  public Tensor fromArray(float[] data, Shape shape) {
    return new ArrayTensor(this, shape, Shape.checkGiven(shape).checkValues(data).clone());
  }

  @Override
  public TensorScope openScope() {
    return scopes.open();
  }

  /**
   * The heap array behind a reference tensor (no copy; do not modify).
   *
   * @param t a tensor of this backend
   * @return its values
   */
  static float[] values(Tensor t) {
    return ((ArrayTensor) t).data();
  }
}
