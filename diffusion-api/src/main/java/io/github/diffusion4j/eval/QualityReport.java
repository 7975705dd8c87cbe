package io.github.diffusion4j.eval;

import java.util.Locale;

/**
 * The sample-quality scores of a set of generated images (see {@link QualityMetrics}); lower is better
 * for all three.
 *
 * @param frechet the pixel-space Frechet distance to the reference set ({@link FrechetDistance})
 * @param gradientResidual the mean RMS residual of a gradient fit ({@link GradientResidual})
 * @param cornerKs the KS statistic of the corner pixels against Uniform(0, 1) ({@link
 *     CornerUniformity})
 * @param sampleCount the number of generated images scored
 */
public record QualityReport(double frechet, double gradientResidual, double cornerKs, int sampleCount) {

  /**
   * The scores as a JSON object, e.g. {@code {"frechet": 0.0123, "gradient_residual": 0.0042,
   * "corner_ks": 0.031, "sample_count": 1000}}; a value that is not finite is written as {@code null}.
   *
   * @return one line of JSON
   */
  public String toJson() {
    return "{\"frechet\": " + json(frechet) + ", \"gradient_residual\": " + json(gradientResidual)
        + ", \"corner_ks\": " + json(cornerKs) + ", \"sample_count\": " + sampleCount + "}";
  }

  /** One line: {@code FD 0.01230  gradient residual 0.00420  corner KS 0.0310  (n = 1000)}. */
  @Override
  public String toString() {
    return String.format(
        Locale.ROOT, "FD %.5f  gradient residual %.5f  corner KS %.4f  (n = %d)", frechet,
        gradientResidual, cornerKs, sampleCount);
  }

  private static String json(double v) {
    return Double.isFinite(v) ? Double.toString(v) : "null";
  }
}
