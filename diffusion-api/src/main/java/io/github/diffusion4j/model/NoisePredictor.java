package io.github.diffusion4j.model;

import io.github.diffusion4j.tensor.Tensor;

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
}
