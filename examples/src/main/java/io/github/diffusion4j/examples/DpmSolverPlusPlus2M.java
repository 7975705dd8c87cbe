package io.github.diffusion4j.examples;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.sampling.SampleClipping;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.StepContext;
import io.github.diffusion4j.sampling.ReverseStepResult;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;

/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
 * Probabilistic Models", algorithm 2), a second-order multistep solver of the diffusion ODE in the data
 * prediction form, as diffusers' {@code DPMSolverMultistepScheduler(algorithm_type="dpmsolver++",
 * solver_order=2, final_sigmas_type="zero")} with either {@code solver_type}. Written against the public
 * {@link Sampler} API only, as any user's sampler would be.
 *
 * <p>With {@code alpha_t = sqrt(alphaBar_t)}, {@code sigma_t = sqrt(1 - alphaBar_t)}, {@code lambda_t =
 * log(alpha_t / sigma_t)}, a step from {@code t} to {@code s} with {@code h = lambda_s - lambda_t} and the
 * data prediction {@code D0 = x0^(x_t, t)} is
 *
 * <pre>
 *   first order:  x_s = (sigma_s / sigma_t) x_t + alpha_s (1 - e^-h) D0                   (= DDIM)
 *   second order: x_s = (sigma_s / sigma_t) x_t + alpha_s (1 - e^-h) (D0 + w D1),
 *                 D1 = (D0 - D0_prev) / r,  r = (lambda_t - lambda_prev) / h
 *   midpoint:     w = 1 / 2
 *   heun:         w = (1 + (e^-h - 1) / h) / (1 - e^-h)        (-> 1 / 2 as h -> 0)
 * </pre>
 *
 * (diffusers' {@code multistep_dpm_solver_second_order_update}, its two {@code solver_type}s.) The first step has
 * no history and is first order; the last step goes to {@code sigma = 0} and returns {@code D0}; every other step is
 * second order. diffusers' {@code lower_order_final} (first order for the last step of a plan shorter than 15 steps)
 * would change nothing here, as it changes nothing in diffusers with {@code solver_order=2} and {@code
 * final_sigmas_type="zero"}: the last step is first order anyway and the second-to-last stays second order
 * ({@code lower_order_second} only lowers a third-order step).
 */
public final class DpmSolverPlusPlus2M implements Sampler {
  /** The name used in configuration. */
  public static final String NAME = "dpmpp_2m";

  private final Schedule schedule;
  private final PredictionType predictionType;
  private final SampleClipping clipping;
  private final TensorFactory tensors;
  private final boolean heun;

  /**
   * Creates the sampler.
   *
   * @param schedule the training schedule
   * @param predictionType what the model outputs
   * @param clipping what to do to the predicted x0
   * @param tensors the backend's factory
   * @param heun diffusers' {@code solver_type="heun"} for the second-order steps, else {@code "midpoint"}
   */
  public DpmSolverPlusPlus2M(
      Schedule schedule, PredictionType predictionType, SampleClipping clipping, TensorFactory tensors,
      boolean heun) {
    this.schedule = schedule;
    this.predictionType = predictionType;
    this.clipping = clipping;
    this.tensors = tensors;
    this.heun = heun;
  }

  @Override
  public String name() {
    return NAME;
  }

  private double lambda(int t) {
    double ab = schedule.alphaBar(t);
    return 0.5 * Math.log(ab) - 0.5 * Math.log(1 - ab);
  }

  @Override
  public ReverseStepResult step(StepContext c) {
    int t = c.timestep();
    int s = c.prevTimestep();
    double abT = schedule.alphaBar(t);
    Tensor d0 = clipping.apply(predictionType.toSample(c.modelOutput(), c.sample(), abT), tensors);
    if (s < 0) {
      return new ReverseStepResult(d0, d0);
    }
    double abS = schedule.alphaBar(s);
    double sigmaRatio = Math.sqrt((1 - abS) / (1 - abT));
    double h = lambda(s) - lambda(t);
    double coef = Math.sqrt(abS) * -Math.expm1(-h);
    Tensor data = d0;
    if (c.previous() != null) {
      double r = (lambda(t) - lambda(c.plan().get(c.index() - 1))) / h;
      double w = heun ? (1 + Math.expm1(-h) / h) / -Math.expm1(-h) : 0.5;
      data = d0.combine(1 + w / r, c.previous().predictedX0(), -w / r);
    }
    return new ReverseStepResult(c.sample().combine(sigmaRatio, data, coef), d0);
  }
}
