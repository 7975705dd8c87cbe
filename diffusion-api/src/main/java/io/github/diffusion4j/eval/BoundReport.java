package io.github.diffusion4j.eval;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.sampling.VarianceType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The variational bound of a model on a set of images ({@link VariationalBound#evaluate}), in bits per
 * dimension: the negative log-likelihood bound {@code L = L_T + sum_{t=1}^{T-1} L_t + L_0} of Ho et al.
 * (eq. 5) per image, divided by the number of dimensions and by {@code ln 2}, averaged over the images.
 *
 * @param images how many images were evaluated
 * @param numTrainTimesteps {@code T}
 * @param timestepsPerImage the model evaluations per image: {@code T} for the full bound, fewer for an
 *     estimate
 * @param totalBpd the mean over images of each image's bound (or its unbiased estimate)
 * @param totalStdDev the standard deviation of the per-image values (0 for one image)
 * @param priorBpd the mean prior term {@code L_T = KL(q(x_T | x_0) || N(0, I))}, exact
 * @param decoderBpd the mean decoder term {@code L_0 = -log p(x_0 | x_1)}
 * @param klBpd the mean of the sum of the KL terms {@code L_1 .. L_{T-1}} (estimated unless full)
 * @param terms one entry per timestep {@code t = 0 .. T-1}, in order
 * @param predictionType how the model's output was read
 * @param varianceType the reverse-process variance of the model ({@code fixed_small} or {@code fixed_large})
 * @param clipDenoised whether the predicted {@code x_0} was clipped to {@code [-1, 1]}
 * @param seed the noise seed
 */
public record BoundReport(
    int images,
    int numTrainTimesteps,
    int timestepsPerImage,
    double totalBpd,
    double totalStdDev,
    double priorBpd,
    double decoderBpd,
    double klBpd,
    List<BoundTerm> terms,
    PredictionType predictionType,
    VarianceType varianceType,
    boolean clipDenoised,
    long seed) {

  /**
   * Copies the terms.
   *
   * @param images how many images
   * @param numTrainTimesteps {@code T}
   * @param timestepsPerImage evaluations per image
   * @param totalBpd the mean bound
   * @param totalStdDev the standard deviation over images
   * @param priorBpd the mean prior term
   * @param decoderBpd the mean decoder term
   * @param klBpd the mean sum of the KL terms
   * @param terms one entry per timestep
   * @param predictionType the prediction type
   * @param varianceType the variance type
   * @param clipDenoised whether x0 was clipped
   * @param seed the noise seed
   */
  public BoundReport {
    terms = List.copyOf(terms);
  }

  /**
   * Whether the total is an estimate from a subsample of the timesteps rather than the sum of all
   * {@code T} terms.
   *
   * @return {@code timestepsPerImage < numTrainTimesteps}
   */
  public boolean isEstimate() {
    return timestepsPerImage < numTrainTimesteps;
  }

  /**
   * The standard error of {@link #totalBpd()}: {@code totalStdDev / sqrt(images)}. It covers the choice of
   * images, the one draw of {@code x_t} per term and, for an estimate, the draw of the timesteps.
   *
   * @return the standard error
   */
  public double standardError() {
    return totalStdDev / Math.sqrt(images);
  }

  /**
   * The summary as one JSON object (without the per-term values; see {@link BoundTerm#toJson()}), e.g.
   * {@code {"bpd": 1.234, "estimate": false, ...}}; a value that is not finite is written as {@code null}.
   *
   * @return one line of JSON
   */
  public String toJson() {
    return "{\"bpd\": " + json(totalBpd) + ", \"standard_error\": " + json(standardError())
        + ", \"estimate\": " + isEstimate() + ", \"timesteps_per_image\": " + timestepsPerImage
        + ", \"num_train_timesteps\": " + numTrainTimesteps + ", \"images\": " + images
        + ", \"prior_bpd\": " + json(priorBpd) + ", \"decoder_bpd\": " + json(decoderBpd)
        + ", \"kl_bpd\": " + json(klBpd) + ", \"std_dev\": " + json(totalStdDev)
        + ", \"prediction_type\": \"" + predictionType.configName() + "\", \"variance_type\": \""
        + varianceType.configName() + "\", \"clip_denoised\": " + clipDenoised + ", \"seed\": " + seed + "}";
  }

  /**
   * The terms as JSON lines: one per timestep that was evaluated (see {@link BoundTerm#toJson()}), then the
   * prior as {@code {"term": "prior", "t": T, "bpd": ..., "count": images}}.
   *
   * @return the lines, without line separators
   */
  public List<String> termLines() {
    List<String> lines = new ArrayList<>();
    for (BoundTerm t : terms) {
      if (t.count() > 0) {
        lines.add(t.toJson());
      }
    }
    lines.add("{\"term\": \"prior\", \"t\": " + numTrainTimesteps + ", \"bpd\": " + json(priorBpd) + ", \"count\": "
        + images + ", \"x0_mse\": null}");
    return lines;
  }

  /**
   * One line for people, e.g. {@code 1.2345 +- 0.0100 bits/dim (1000 images, all 100 timesteps)}.
   *
   * @return the summary
   */
  @Override
  public String toString() {
    String how = isEstimate()
        ? "estimate from " + timestepsPerImage + " of " + numTrainTimesteps + " timesteps per image"
        : "all " + numTrainTimesteps + " timesteps";
    return String.format(Locale.ROOT, "%.4f +- %.4f bits/dim (%d images, %s)", totalBpd, standardError(), images, how);
  }

  static String json(double v) {
    return Double.isFinite(v) ? Double.toString(v) : "null";
  }
}
