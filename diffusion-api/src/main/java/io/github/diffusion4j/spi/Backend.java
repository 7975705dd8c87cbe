package io.github.diffusion4j.spi;

import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.tensor.TensorFactory;

/**
 * A loaded numeric engine: it makes tensors and models. One per process.
 */
public interface Backend extends AutoCloseable {

  /**
   * The name of the provider that created it.
   *
   * @return e.g. {@code "djl"}
   */
  String name();

  /**
   * A one-line description of the loaded engine (versions, threads) for {@code diffusion info}.
   *
   * @return the description
   */
  String describe();

  /**
   * The factory for this backend's tensors.
   *
   * @return the factory
   */
  TensorFactory tensors();

  /**
   * Builds a model with freshly initialised weights.
   *
   * @param spec the architecture
   * @param optimizer the optimiser used by {@link TrainableModel#step}
   * @param seed the seed of the portable generator that initialises the weights; the same seed gives
   *     the same initial weights on every backend
   * @return the model
   * @throws UnsupportedOperationException if this backend does not implement {@code spec.kind()}
   */
  TrainableModel createModel(ModelSpec spec, OptimizerSpec optimizer, long seed);

  /** Releases every tensor and model of this backend. */
  @Override
  void close();
}
