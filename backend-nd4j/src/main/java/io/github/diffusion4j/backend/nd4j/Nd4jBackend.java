package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.ScopeStack;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The ND4J backend: float32 tensors in ND4J's native memory, scoped by the api's {@link ScopeStack}, and
 * the models it implements ({@code mlp}, {@code unet}).
 */
final class Nd4jBackend implements Backend, TensorFactory {
  private final NativeRuntime runtime;
  private final ScopeStack scopes = new ScopeStack();
  private final Set<Nd4jModel> models = ConcurrentHashMap.newKeySet();

  Nd4jBackend(NativeRuntime runtime) {
    this.runtime = runtime;
  }

  ScopeStack scopes() {
    return scopes;
  }

  /**
   * A new dense C-ordered float array, contents undefined; owned by the caller.
   *
   * @param shape the shape
   * @return the array
   */
  INDArray allocate(Shape shape) {
    return Nd4j.createUninitialized(DataType.FLOAT, dims(shape), 'c');
  }

  /**
   * A new dense float vector, contents undefined; owned by the caller.
   *
   * @param length the number of elements
   * @return the array
   */
  static INDArray allocate(long length) {
    return Nd4j.createUninitialized(DataType.FLOAT, new long[] {length}, 'c');
  }

  private static long[] dims(Shape shape) {
    long[] d = new long[shape.rank()];
    for (int i = 0; i < d.length; i++) {
      d[i] = shape.dim(i);
    }
    return d;
  }

  @Override
  public String name() {
    return Nd4jBackendProvider.NAME;
  }

  @Override
  public String describe() {
    return runtime.describe();
  }

  @Override
  public TensorFactory tensors() {
    return this;
  }

  @Override
  public TrainableModel createModel(ModelSpec spec, OptimizerSpec optimizer, long seed) {
    Nd4jModel model;
    StateDict initial;
    if (spec instanceof MlpSpec mlp) {
      model = new Nd4jMlp(this, mlp, optimizer);
      initial = mlp.initialWeights(seed);
    } else if (spec instanceof UNetSpec unet) {
      model = new Nd4jUNet(this, unet, optimizer, seed);
      initial = unet.initialWeights(seed);
    } else {
      throw new UnsupportedOperationException(
          "backend 'nd4j' has no model of kind '" + spec.kind() + "'; it implements: " + MlpSpec.KIND + ", "
              + UNetSpec.KIND);
    }
    try {
      model.loadStateDict(initial);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    models.add(model);
    return model;
  }

  void forget(Nd4jModel model) {
    models.remove(model);
  }

  @Override
  public void close() {
    List<Nd4jModel> open = new ArrayList<>(models);
    for (Nd4jModel m : open) {
      m.close();
    }
    scopes.releaseRoot();
  }

  @Override
  public Tensor zeros(Shape shape) {
    return Nd4jTensor.owning(this, shape, Nd4j.create(DataType.FLOAT, dims(shape)));
  }

  @Override
  public Tensor fromArray(float[] data, Shape shape) {
    if (data.length != shape.size()) {
      throw new IllegalArgumentException(
          "shape " + shape + " needs " + shape.size() + " values, got " + data.length);
    }
    INDArray a = allocate(shape);
    ((FloatPointer) a.data().addressPointer()).put(data);
    return Nd4jTensor.owning(this, shape, a);
  }

  @Override
  public TensorScope openScope() {
    return scopes.open();
  }

  @Override
  public int threads() {
    return runtime.threads();
  }

  @Override
  public String toString() {
    return "Nd4jBackend[" + runtime.describe() + "]";
  }
}
