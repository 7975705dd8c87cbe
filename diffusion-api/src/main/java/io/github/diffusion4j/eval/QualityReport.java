package io.github.diffusion4j.eval;

import java.util.Locale;

/**
 * The sample-quality scores of a set of generated images (see {@link QualityMetrics}); lower is better
 * for all of them.
 *
 * @param frechet the pixel-space Frechet distance to the reference set ({@link FrechetDistance})
 * @param gradientResidual the mean RMS residual of a gradient fit ({@link GradientResidual})
 * @param cornerKsPooled the KS statistic of all corner pixels pooled, against Uniform(0, 1) ({@link
 *     CornerUniformity#pooledKsStatistic})
 * @param cornerKsMean the mean of the KS statistics of each corner in each channel, against Uniform(0, 1): the
 *     PyTorch reference's definition ({@link CornerUniformity#meanKsStatistic})
 * @param sampleCount the number of generated images scored
 */
public record QualityReport(
    double frechet, double gradientResidual, double cornerKsPooled, double cornerKsMean, int sampleCount) {

  /**
   * The scores as a JSON object, e.g. {@code {"frechet": 0.0123, "gradient_residual": 0.0042,
   * "corner_ks_pooled": 0.027, "corner_ks_mean": 0.034, "corner_ks": 0.027, "sample_count": 1000}}; a value
   * that is not finite is written as {@code null}. {@code corner_ks} is the pooled statistic under the name
   * that earlier versions wrote, kept so that files read before still read the same.
   *
   * @return one line of JSON
   */
  public String toJson() {
    return "{\"frechet\": " + json(frechet) + ", \"gradient_residual\": " + json(gradientResidual)
        + ", \"corner_ks_pooled\": " + json(cornerKsPooled) + ", \"corner_ks_mean\": " + json(cornerKsMean)
        + ", \"corner_ks\": " + json(cornerKsPooled) + ", \"sample_count\": " + sampleCount + "}";
  }

  /**
   * This report with the metrics that describe the colour-gradient data only (the gradient residual and both
   * corner statistics) left out, as NaN: what is reported for other data.
   *
   * @return the Frechet distance and the sample count of this report
   */
  public QualityReport frechetOnly() {
    return new QualityReport(frechet, Double.NaN, Double.NaN, Double.NaN, sampleCount);
  }

  /**
   * One line: {@code FD 0.01230  gradient residual 0.00420  corner KS pooled 0.0270 mean 0.0340  (n = 1000)}.
   */
  @Override
  public String toString() {
    return String.format(
        Locale.ROOT, "FD %.5f  gradient residual %.5f  corner KS pooled %.4f mean %.4f  (n = %d)", frechet,
        gradientResidual, cornerKsPooled, cornerKsMean, sampleCount);
  }

  private static String json(double v) {
    return Double.isFinite(v) ? Double.toString(v) : "null";
  }
}
