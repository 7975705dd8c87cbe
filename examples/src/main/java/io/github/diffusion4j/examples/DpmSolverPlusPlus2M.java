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
 * solver_order=2, solver_type="midpoint", final_sigmas_type="zero")}. Written against the public
 * {@link Sampler} API only, as any user's sampler would be.
 *
 * <p>With {@code alpha_t = sqrt(alphaBar_t)}, {@code sigma_t = sqrt(1 - alphaBar_t)}, {@code lambda_t =
 * log(alpha_t / sigma_t)}, a step from {@code t} to {@code s} with {@code h = lambda_s - lambda_t} and the
 * data prediction {@code D0 = x0^(x_t, t)} is
 *
 * <pre>
 *   first order:  x_s = (sigma_s / sigma_t) x_t + alpha_s (1 - e^-h) D0                   (= DDIM)
 *   second order: x_s = (sigma_s / sigma_t) x_t + alpha_s (1 - e^-h) (D0 + D1 / 2),
 *                 D1 = (D0 - D0_prev) / r,  r = (lambda_t - lambda_prev) / h
 * </pre>
 *
 * The first step has no history and is first order; the last step goes to {@code sigma = 0} and returns
 * {@code D0} (first order); every other step is second order. diffusers' {@code lower_order_final} (first order
 * for the last step of a plan shorter than 15 steps) therefore changes nothing here, as it changes nothing in
 * diffusers with {@code solver_order=2} and {@code final_sigmas_type="zero"}: its second-to-last step stays second
 * order ({@code lower_order_second} only lowers a third-order step).
 */
public final class DpmSolverPlusPlus2M implements Sampler {
  /** The name used in configuration. */
  public static final String NAME = "dpmpp_2m";

  private final Schedule schedule;
  private final PredictionType predictionType;
  private final SampleClipping clipping;
  private final TensorFactory tensors;

  /**
   * Creates the sampler.
   *
   * @param schedule the training schedule
   * @param predictionType what the model outputs
   * @param clipping what to do to the predicted x0
   * @param tensors the backend's factory
   * @param lowerOrderFinal diffusers' {@code lower_order_final}: first order for the last step of plans shorter than
   *     15 steps, which this solver's last step (to {@code sigma = 0}) is whatever the plan; accepted so that
   *     diffusers' configurations read the same
   */
  public DpmSolverPlusPlus2M(
      Schedule schedule, PredictionType predictionType, SampleClipping clipping, TensorFactory tensors,
      boolean lowerOrderFinal) {
    this.schedule = schedule;
    this.predictionType = predictionType;
    this.clipping = clipping;
    this.tensors = tensors;
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
      data = d0.combine(1 + 0.5 / r, c.previous().predictedX0(), -0.5 / r);
    }
    return new ReverseStepResult(c.sample().combine(sigmaRatio, data, coef), d0);
  }
}
