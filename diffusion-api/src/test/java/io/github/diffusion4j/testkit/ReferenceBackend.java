package io.github.diffusion4j.testkit;

import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.ScopeStack;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;

/**
 * The reference backend: plain Java, float32 tensors on the heap and a double-precision MLP. Slow and
 * obviously correct; the contract suites compare every real backend against it.
 */
public final class ReferenceBackend implements Backend, TensorFactory {
  private final ScopeStack scopes = new ScopeStack();
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
  public TrainableModel createModel(ModelSpec spec, OptimizerSpec optimizer, long seed) {
    if (spec instanceof MlpSpec mlp) {
      ReferenceMlp m = new ReferenceMlp(this, mlp, optimizer);
      m.loadStateDict(mlp.initialWeights(seed));
      return m;
    }
    throw new UnsupportedOperationException("reference backend has no model of kind " + spec.kind());
  }

  @Override
  public void close() {
    scopes.releaseRoot();
  }

  @Override
  public Tensor zeros(Shape shape) {
    return new ArrayTensor(this, shape, new float[shape.size()]);
  }

  @Override
  public Tensor fromArray(float[] data, Shape shape) {
    return new ArrayTensor(this, shape, data.clone());
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
