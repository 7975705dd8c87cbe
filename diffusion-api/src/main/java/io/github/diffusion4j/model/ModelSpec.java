package io.github.diffusion4j.model;

import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.tensor.Shape;
import java.util.Map;

/**
 * The architecture of a noise predictor, independent of any backend: its {@link Network} of layer kinds,
 * its state-dict layout and its portable initial weights. {@link NetworkModel} runs it on any backend; the
 * same spec and the same weights give the same function on every backend.
 */
public interface ModelSpec {

  /**
   * The architecture name used in configuration ({@code model.kind}).
   *
   * @return e.g. {@code "mlp"}
   */
  String kind();

  /**
   * The shape of one image, {@code [C, H, W]}.
   *
   * @return the image shape
   */
  Shape imageShape();

  /**
   * {@code T}: timesteps given to the model are in {@code [0, T)}.
   *
   * @return the number of training timesteps
   */
  int numTrainTimesteps();

  /**
   * The state-dict layout: names, shapes and order, as the equivalent PyTorch module's {@code state_dict()}.
   *
   * @return the shapes by name
   */
  Map<String, int[]> parameterShapes();

  /**
   * The initial weights for a seed, the same on every backend.
   *
   * @param seed the run's seed
   * @return the weights, in {@link #parameterShapes()}'s layout
   */
  StateDict initialWeights(long seed);

  /**
   * The architecture as a graph of layer kinds, which every backend evaluates ({@link NetworkModel}).
   *
   * @return the network; its parameters are {@link #parameterShapes()}
   */
  Network network();
}
