package io.github.diffusion4j.eval;

/**
 * The Gaussian quantities of the variational bound, elementwise and in double precision, exactly as the
 * DDPM authors define them (Ho et al. 2020; {@code normal_kl} in {@code diffusion_tf/diffusion_utils_2.py},
 * {@code approx_standard_normal_cdf} and {@code discretized_gaussian_log_likelihood} in
 * {@code diffusion_tf/utils.py} of hojonathanho/diffusion). Results are in nats; divide by {@code ln 2} for
 * bits. Transcendental functions are {@link StrictMath}'s, so the values are the same on every JVM.
 */
public final class GaussianTerms {
  /** Half the width of one of the 256 bins of data scaled to {@code [-1, 1]}: {@code 1 / 255}. */
  public static final double HALF_BIN = 1.0 / 255.0;

  /** The floor under every probability before its logarithm is taken, as in the authors' code. */
  public static final double MIN_PROBABILITY = 1e-12;

  /** {@code sqrt(2 / pi)}, the slope of the tanh approximation of the normal CDF. */
  private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

  private GaussianTerms() {}

  /**
   * {@code KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2)))} of one dimension:
   * {@code 0.5 * (-1 + logvar2 - logvar1 + exp(logvar1 - logvar2) + (mean1 - mean2)^2 * exp(-logvar2))}
   * (the authors' {@code normal_kl}).
   *
   * @param mean1 the mean of the first distribution
   * @param logvar1 the log-variance of the first distribution
   * @param mean2 the mean of the second distribution
   * @param logvar2 the log-variance of the second distribution
   * @return the divergence in nats, at least 0 up to rounding
   */
  public static double normalKl(double mean1, double logvar1, double mean2, double logvar2) {
    double d = mean1 - mean2;
    return 0.5 * (-1.0 + logvar2 - logvar1 + StrictMath.exp(logvar1 - logvar2) + d * d * StrictMath.exp(-logvar2));
  }

  /**
   * The authors' fast approximation of the standard normal CDF,
   * {@code 0.5 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))}: increasing, within about 2e-4 of the
   * exact CDF.
   *
   * @param x the argument
   * @return the approximate {@code Phi(x)}, in {@code [0, 1]}
   */
  public static double approxStandardNormalCdf(double x) {
    return 0.5 * (1.0 + StrictMath.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
  }

  /**
   * The log-probability of one pixel under the discretised Gaussian decoder (the authors'
   * {@code discretized_gaussian_log_likelihood}): data {@code x} on the 256 levels {@code k / 127.5 - 1}
   * has the mass of {@code N(mean, exp(logScale)^2)} over its bin {@code [x - 1/255, x + 1/255]}, the
   * lowest level everything below its upper edge and the highest everything above its lower edge, so the
   * masses of the 256 levels sum to 1. Each probability is floored at {@link #MIN_PROBABILITY}.
   *
   * @param x the pixel, one of the 256 levels in {@code [-1, 1]} (levels are told apart at +-0.999)
   * @param mean the decoder's mean
   * @param logScale the log of the decoder's standard deviation ({@code 0.5 * logvar})
   * @return the log-probability in nats, at most 0
   */
  public static double discretizedLogLikelihood(double x, double mean, double logScale) {
    double centered = x - mean;
    double invStdv = StrictMath.exp(-logScale);
    double cdfPlus = approxStandardNormalCdf(invStdv * (centered + HALF_BIN));
    double cdfMin = approxStandardNormalCdf(invStdv * (centered - HALF_BIN));
    if (x < -0.999) {
      return StrictMath.log(Math.max(cdfPlus, MIN_PROBABILITY));
    }
    if (x > 0.999) {
      return StrictMath.log(Math.max(1.0 - cdfMin, MIN_PROBABILITY));
    }
    return StrictMath.log(Math.max(cdfPlus - cdfMin, MIN_PROBABILITY));
  }

  /**
   * The level of the 256 that a value in {@code [-1, 1]} lies nearest to: {@code k / 127.5 - 1} with
   * {@code k = round((x + 1) * 127.5)} clamped to {@code 0..255}. Pixels read from 8-bit files come back
   * exactly; other data are rounded as an 8-bit image file would store them.
   *
   * @param x a normalised pixel
   * @return the level, in double precision
   */
  public static double level(float x) {
    long k = Math.round((x + 1.0) * 127.5);
    return Math.min(Math.max(k, 0), 255) / 127.5 - 1.0;
  }
}
