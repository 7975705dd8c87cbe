package io.github.diffusion4j.model;

import io.github.diffusion4j.tensor.Shape;

/**
 * The architecture of a noise predictor, independent of any backend. A backend builds a
 * {@link TrainableModel} from it; the same spec and the same weights give the same function on every
 * backend.
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
}
