package io.github.diffusion4j.backend.djl;

import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;

/** The checks every model of this backend makes on its inputs, with one-line messages. */
final class ModelInputs {
  private ModelInputs() {}

  /**
   * Checks a batch and its timesteps against a spec.
   *
   * @param backend the backend the tensor must belong to
   * @param spec the model's spec (image shape and {@code T})
   * @param what the model's name for messages, e.g. "mlp"
   * @param noisy the batch, {@code [N, C, H, W]}
   * @param timesteps one timestep in {@code [0, T)} per item
   * @return the batch as this backend's tensor
   * @throws IllegalArgumentException naming what is wrong
   */
  static DjlTensor check(DjlBackend backend, ModelSpec spec, String what, Tensor noisy, int[] timesteps) {
    Shape s = noisy.shape();
    if (s.rank() != 4 || !s.item().equals(spec.imageShape())) {
      throw new IllegalArgumentException(
          what + ": input has shape " + s + ", expected [N, " + join(spec.imageShape()) + "]");
    }
    if (timesteps.length != s.batch()) {
      throw new IllegalArgumentException(
          what + ": " + timesteps.length + " timesteps for a batch of " + s.batch());
    }
    int tMax = spec.numTrainTimesteps();
    for (int i = 0; i < timesteps.length; i++) {
      if (timesteps[i] < 0 || timesteps[i] >= tMax) {
        throw new IllegalArgumentException(
            what + ": timestep " + timesteps[i] + " at index " + i + " is outside [0, " + tMax + ")");
      }
    }
    return DjlTensor.of(backend, noisy, s, "input");
  }

  private static String join(Shape s) {
    String t = s.toString();
    return t.substring(1, t.length() - 1);
  }
}
