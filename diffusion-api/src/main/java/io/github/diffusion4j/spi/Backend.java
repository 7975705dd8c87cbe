package io.github.diffusion4j.spi;

import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.NetworkModel;
import io.github.diffusion4j.model.OptimizerSpec;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.tensor.TensorFactory;

/**
 * A loaded numeric engine: its tensors and its implementation of the layer kinds. One per process.
 * Models are not a backend's business: {@link #createModel} runs any architecture's network through
 * {@link #layers()}.
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
   * This backend's layer kinds: parameter storage, a kernel per layer kind, evaluation passes.
   *
   * @return the layer SPI
   */
  LayerBackend layers();

  /**
   * Builds a model with freshly initialised weights: the spec's network evaluated on {@link #layers()}.
   *
   * @param spec the architecture
   * @param optimizer the optimiser used by {@link TrainableModel#step}
   * @param seed the seed of the portable generator that initialises the weights; the same seed gives
   *     the same initial weights on every backend
   * @return the model
   * @throws UnsupportedOperationException if this backend lacks one of the network's layer kinds: {@code backend
   *     'NAME' cannot run model 'KIND': node N (LAYER): } and the message of {@link LayerBackend#kernel}'s exception
   */
  default TrainableModel createModel(ModelSpec spec, OptimizerSpec optimizer, long seed) {
    try {
      return NetworkModel.create(spec, layers(), tensors(), optimizer, seed);
    } catch (UnsupportedOperationException e) {
      String m = String.valueOf(e.getMessage());
      throw new UnsupportedOperationException("backend '" + name() + "' cannot run "
          + (m.startsWith("model '") ? m : "model '" + spec.kind() + "': " + m), e);
    }
  }

  /**
   * Releases every tensor and model of this backend; closing twice does nothing. Its factory then refuses new
   * tensors and scopes ({@code IllegalStateException}: "the NAME backend is closed"). Close it after the scopes
   * opened on it: a tensor in a scope still open when the backend closes is released at the latest when that
   * scope closes (a backend may release it at once).
   */
  @Override
  void close();
}
