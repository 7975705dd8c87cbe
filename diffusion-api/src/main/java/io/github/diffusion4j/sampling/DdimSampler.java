package io.github.diffusion4j.sampling;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;

/**
 * DDIM sampling (Song et al. 2021, eq. 12), as diffusers' {@code DDIMScheduler}: deterministic for
 * {@code eta = 0}, and with {@code eta = 1} on the full plan it has DDPM's posterior variance.
 *
 * <p>For a step from {@code t} to {@code prev} with {@code a_t = alphaBar_t} and {@code a_p =
 * alphaBar_prev} ({@code 1} past the end if {@code set_alpha_to_one}, else {@code alphaBar_0}):
 *
 * <pre>
 *   x0^    = prediction converted to x0, then clipped; eps^ = prediction converted to eps
 *   sigma  = eta * sqrt((1 - a_p) / (1 - a_t) * (1 - a_t / a_p))            (eq. 16)
 *   x_prev = sqrt(a_p) x0^ + sqrt(1 - a_p - sigma^2) eps^ + sigma z          (eq. 12)
 * </pre>
 *
 * <p>The noise is added wherever {@code sigma > 0}, the last step included: with {@code set_alpha_to_one} false
 * and {@code eta > 0} the last step's {@code sigma} is not 0, and diffusers adds its noise there too.
 *
 * <p>Without clipping, {@code x0^} and {@code eps^} are linear in {@code x_t} and the output, so
 * {@code x_prev} is one pass over the batch (with the noise, one
 * {@link Tensor#combine(double, Tensor, double, Tensor, double)}), and {@code x0^} for the step's result is a
 * second, skipped where no one reads it ({@link StepContext#predictedX0Wanted()}).
 */
public final class DdimSampler implements Sampler {
  /** The configuration name, {@code "ddim"}. */
  public static final String NAME = "ddim";

  private final Schedule schedule;
  private final PredictionType predictionType;
  private final double eta;
  private final boolean setAlphaToOne;
  private final SampleClipping clipping;
  private final TensorFactory tensors;

  /**
   * Creates the sampler.
   *
   * @param schedule the training schedule
   * @param predictionType what the model outputs
   * @param eta the stochasticity, at least 0 (0: deterministic DDIM; 1: DDPM's variance)
   * @param setAlphaToOne whether {@code alphaBar} past the last step is 1 (else {@code alphaBar_0})
   * @param clipping what to do to the predicted x0
   * @param tensors the factory used for thresholding
   */
  public DdimSampler(
      Schedule schedule,
      PredictionType predictionType,
      double eta,
      boolean setAlphaToOne,
      SampleClipping clipping,
      TensorFactory tensors) {
    if (!(eta >= 0) || Double.isInfinite(eta)) {
      throw new IllegalArgumentException("eta must be finite and at least 0, got " + eta);
    }
    this.schedule = schedule;
    this.predictionType = predictionType;
    this.eta = eta;
    this.setAlphaToOne = setAlphaToOne;
    this.clipping = clipping;
    this.tensors = tensors;
  }

  @Override
  public String name() {
    return NAME;
  }

  /**
   * {@code alphaBar} of the step after position {@code prev} (-1 past the end).
   *
   * @param prev the previous timestep, or -1
   * @return the value
   */
  double alphaBarPrev(int prev) {
    if (prev >= 0) {
      return schedule.alphaBar(prev);
    }
    return setAlphaToOne ? 1.0 : schedule.alphaBar(0);
  }

  @Override
  public ReverseStepResult step(StepContext c) {
    schedule.checkPlan(c.plan());
    int t = c.timestep();
    double aT = schedule.alphaBar(t);
    double aP = alphaBarPrev(c.prevTimestep());
    Tensor x = c.sample();
    Tensor output = c.modelOutput();
    double variance = schedule.posteriorVariance(t, aP);
    double sigma = eta * Math.sqrt(variance);
    double direction = Math.sqrt(Math.max(1.0 - aP - sigma * sigma, 0.0));
    // as diffusers: the noise goes with the sigma^2 taken from the direction, also at the last step (not 0 there
    // when set_alpha_to_one is false)
    boolean noise = sigma > 0;
    Tensor x0;
    Tensor prev;
    if (!clipping.active()) {
      // x0^ = k0 x_t + k1 output and eps^ = e0 x_t + e1 output
      double[] k = predictionType.sampleCoefficients(aT);
      double[] e = predictionType.epsilonCoefficients(aT);
      double a = Math.sqrt(aP) * k[0] + direction * e[0];
      double b = Math.sqrt(aP) * k[1] + direction * e[1];
      x0 = c.predictedX0Wanted() ? predictionType.toSample(output, x, aT) : null;
      prev = noise ? x.combine(a, output, b, c.noise(), sigma) : x.combine(a, output, b);
    } else {
      x0 = clipping.apply(predictionType.toSample(output, x, aT), tensors);
      Tensor eps = predictionType.toEpsilon(output, x, aT);
      prev = noise ? x0.combine(Math.sqrt(aP), eps, direction, c.noise(), sigma)
          : x0.combine(Math.sqrt(aP), eps, direction);
    }
    return new ReverseStepResult(prev, x0);
  }
}
