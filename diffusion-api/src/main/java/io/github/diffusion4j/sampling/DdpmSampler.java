package io.github.diffusion4j.sampling;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;

/**
 * Ancestral DDPM sampling (Ho et al. 2020, Algorithm 2), in the posterior-mean form of diffusers'
 * {@code DDPMScheduler}, generalised to any descending plan.
 *
 * <p>For a step from {@code t} to {@code prev} (the next element of the plan, -1 after the last) with
 * {@code a_t = alphaBar_t}, {@code a_p = alphaBar_prev} (1 past the end) and
 * {@code beta = 1 - a_t / a_p}:
 *
 * <pre>
 *   x0^   = prediction converted to x0, then clipped              (eq. 15)
 *   mu    = sqrt(a_p) beta / (1 - a_t) * x0^
 *         + sqrt(1 - beta) (1 - a_p) / (1 - a_t) * x_t             (eq. 7)
 *   x_prev = mu + sigma z,  z ~ N(0, I), no noise at the last step
 * </pre>
 *
 * With clipping off and the full plan this equals Algorithm 2's
 * {@code x_{t-1} = (x_t - beta_t / sqrt(1 - a_t) eps) / sqrt(alpha_t) + sigma_t z}. The variance
 * {@code sigma^2} is chosen by {@link VarianceType}. Unlike diffusers, no noise is added at the last step
 * of a plan that does not end at 0 (Algorithm 2's {@code z = 0} for the final step).
 *
 * <p>Without clipping, {@code x0^} is linear in {@code x_t} and the output, so the update is folded into one
 * pass over the batch, {@code x_prev = a x_t + b output + sigma z} (one
 * {@link Tensor#combine(double, Tensor, double, Tensor, double)}), and {@code x0^} for the step's result is a
 * second, skipped where no one reads it ({@link StepContext#predictedX0Wanted()}); with clipping, {@code x0^}
 * comes first and {@code x_prev = cX0 x0^ + cXt x_t + sigma z}.
 */
public final class DdpmSampler implements Sampler {
  /** The configuration name, {@code "ddpm"}. */
  public static final String NAME = "ddpm";

  private final Schedule schedule;
  private final PredictionType predictionType;
  private final VarianceType varianceType;
  private final SampleClipping clipping;
  private final TensorFactory tensors;

  /**
   * Creates the sampler.
   *
   * @param schedule the training schedule
   * @param predictionType what the model outputs
   * @param varianceType the reverse-step variance
   * @param clipping what to do to the predicted x0
   * @param tensors the factory used for thresholding (heap round trip)
   */
  public DdpmSampler(
      Schedule schedule,
      PredictionType predictionType,
      VarianceType varianceType,
      SampleClipping clipping,
      TensorFactory tensors) {
    this.schedule = schedule;
    this.predictionType = predictionType;
    this.varianceType = varianceType;
    this.clipping = clipping;
    this.tensors = tensors;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public ReverseStepResult step(StepContext c) {
    schedule.checkPlan(c.plan());
    int t = c.timestep();
    int prev = c.prevTimestep();
    double aT = schedule.alphaBar(t);
    double aP = schedule.alphaBarOrOne(prev);
    double beta = 1.0 - aT / aP;
    double cX0 = Math.sqrt(aP) * beta / (1.0 - aT);
    double cXt = Math.sqrt(1.0 - beta) * (1.0 - aP) / (1.0 - aT);
    double sigma = prev < 0 ? 0.0 : Math.sqrt(varianceType.variance(aT, aP));
    Tensor x = c.sample();
    Tensor output = c.modelOutput();
    if (!clipping.active()) {
      // x0^ = k0 x_t + k1 output, so mu = (cX0 k0 + cXt) x_t + cX0 k1 output
      double[] k = predictionType.sampleCoefficients(aT);
      double a = cX0 * k[0] + cXt;
      double b = cX0 * k[1];
      Tensor next = prev < 0 ? x.combine(a, output, b) : x.combine(a, output, b, c.noise(), sigma);
      return new ReverseStepResult(next, c.predictedX0Wanted() ? predictionType.toSample(output, x, aT) : null);
    }
    Tensor x0 = clipping.apply(predictionType.toSample(output, x, aT), tensors);
    Tensor next = prev < 0 ? x0.combine(cX0, x, cXt) : x0.combine(cX0, x, cXt, c.noise(), sigma);
    return new ReverseStepResult(next, x0);
  }
}
