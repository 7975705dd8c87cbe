package io.github.diffusion4j.model;

/**
 * Adam with PyTorch's semantics ({@code torch.optim.Adam}): bias-corrected moments, {@code eps} added
 * to the bias-corrected square root, L2 {@code weight_decay} added to the gradient; optionally the
 * gradient is first clipped to a maximum global L2 norm ({@code torch.nn.utils.clip_grad_norm_}).
 *
 * @param learningRate the step size, positive
 * @param beta1 the first-moment decay, in [0, 1)
 * @param beta2 the second-moment decay, in [0, 1)
 * @param epsilon the denominator term, positive
 * @param weightDecay the L2 penalty, at least 0
 * @param maxGradNorm the clipping threshold, positive, or 0 for no clipping
 */
public record OptimizerSpec(
    double learningRate,
    double beta1,
    double beta2,
    double epsilon,
    double weightDecay,
    double maxGradNorm) {

  /**
   * Validates the values; see the component descriptions.
   *
   * @param learningRate the step size, positive
   * @param beta1 the first-moment decay, in [0, 1)
   * @param beta2 the second-moment decay, in [0, 1)
   * @param epsilon the denominator term, positive
   * @param weightDecay the L2 penalty, at least 0
   * @param maxGradNorm the clipping threshold, positive, or 0 for no clipping
   */
  public OptimizerSpec {
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
      throw new IllegalArgumentException("learning rate must be positive and finite, got " + learningRate);
    }
    if (!(beta1 >= 0 && beta1 < 1)) {
      throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
    }
    if (!(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
    }
    if (!(epsilon > 0)) {
      throw new IllegalArgumentException("epsilon must be positive, got " + epsilon);
    }
    if (!(weightDecay >= 0)) {
      throw new IllegalArgumentException("weight decay must be at least 0, got " + weightDecay);
    }
    if (!(maxGradNorm >= 0)) {
      throw new IllegalArgumentException("max gradient norm must be at least 0 (0 = off), got " + maxGradNorm);
    }
  }

  /**
   * PyTorch's defaults with a given learning rate: betas (0.9, 0.999), eps 1e-8, no weight decay, no
   * clipping.
   *
   * @param learningRate the learning rate
   * @return the spec
   */
  public static OptimizerSpec adam(double learningRate) {
    return new OptimizerSpec(learningRate, 0.9, 0.999, 1e-8, 0.0, 0.0);
  }
}
