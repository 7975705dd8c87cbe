package io.github.diffusion4j.model;

import io.github.diffusion4j.tensor.Tensor;
import java.util.function.Supplier;

/**
 * The network a sampler calls: given a noisy batch {@code x_t} and each item's integer timestep, it
 * returns the model output (noise, clean sample or velocity, see {@link PredictionType}) with the shape
 * of the batch.
 *
 * <p>Implementations must be safe to call from several threads at once.
 */
@FunctionalInterface
public interface NoisePredictor {

  /**
   * Predicts for a batch.
   *
   * @param noisy the noisy batch {@code [N, C, H, W]}
   * @param timesteps one timestep per item, each in {@code [0, T)}
   * @return the model output, of the same shape as {@code noisy}, in the current scope
   * @throws java.util.concurrent.CancellationException if the calling thread is interrupted (the networks of this
   *     SDK check between two layers; the thread stays interrupted)
   */
  Tensor predict(Tensor noisy, int[] timesteps);

  /**
   * Checks what a model returned for a batch, where a walk takes it (the sampling loop, DDIM inversion, the
   * likelihood bound): a model of the user's own, such as a network from another framework whose output comes back
   * flattened or as one item, is then named at the step where it went wrong instead of failing inside the next
   * tensor operation.
   *
   * @param output what {@link #predict} returned
   * @param noisy the batch it was given
   * @param where the walk and step, e.g. {@code sampler 'ddim', step 1 of 4 (timestep 39)}; asked for only when the
   *     output is refused
   * @return {@code output}
   * @throws IllegalStateException {@code WHERE: the model returned no output} for null, or {@code WHERE: the model
   *     returned an output of shape S for a batch of B (a NoisePredictor returns its input's shape)}
   */
  static Tensor checkOutput(Tensor output, Tensor noisy, Supplier<String> where) {
    if (output == null) {
      throw new IllegalStateException(where.get() + ": the model returned no output");
    }
    if (!output.shape().equals(noisy.shape())) {
      throw new IllegalStateException(where.get() + ": the model returned an output of shape " + output.shape()
          + " for a batch of " + noisy.shape() + " (a NoisePredictor returns its input's shape)");
    }
    return output;
  }
}
