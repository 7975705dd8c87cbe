package io.github.diffusion4j.sampling;

import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import java.util.Arrays;

/**
 * What a sampler does to its predicted {@code x0} before using it (diffusers' {@code clip_sample},
 * {@code clip_sample_range}, {@code thresholding}, {@code dynamic_thresholding_ratio},
 * {@code sample_max_value}).
 *
 * <p>Dynamic thresholding (Saharia et al. 2022, section 2.3): per sample, {@code s} is the
 * {@code ratio}-quantile of {@code |x0|}, clamped to {@code [1, sampleMaxValue]}; then
 * {@code x0 = clamp(x0, -s, s) / s}. It takes precedence over {@code clip_sample}, as in diffusers.
 *
 * @param clipSample clamp {@code x0} to {@code [-clipSampleRange, clipSampleRange]}
 * @param clipSampleRange the clamp bound, positive and finite
 * @param thresholding use dynamic thresholding
 * @param dynamicThresholdingRatio the quantile, in (0, 1]
 * @param sampleMaxValue the largest threshold, at least 1 and finite
 */
public record SampleClipping(
    boolean clipSample,
    double clipSampleRange,
    boolean thresholding,
    double dynamicThresholdingRatio,
    double sampleMaxValue) {

  /** No clipping, no thresholding. */
  public static final SampleClipping NONE = new SampleClipping(false, 1.0, false, 0.995, 1.0);

  /**
   * Validates the values.
   *
   * @param clipSample clamp {@code x0} to {@code [-clipSampleRange, clipSampleRange]}
   * @param clipSampleRange the clamp bound, positive and finite
   * @param thresholding use dynamic thresholding
   * @param dynamicThresholdingRatio the quantile, in (0, 1]
   * @param sampleMaxValue the largest threshold, at least 1 and finite
   */
  public SampleClipping {
    if (!(clipSampleRange > 0 && clipSampleRange < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException("clip_sample_range must be positive and finite, got " + clipSampleRange);
    }
    if (!(dynamicThresholdingRatio > 0 && dynamicThresholdingRatio <= 1)) {
      throw new IllegalArgumentException(
          "dynamic_thresholding_ratio must be in (0, 1], got " + dynamicThresholdingRatio);
    }
    if (!(sampleMaxValue >= 1 && sampleMaxValue < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException("sample_max_value must be at least 1 and finite, got " + sampleMaxValue);
    }
  }

  /**
   * Clamping to {@code [-range, range]}.
   *
   * @param range the bound
   * @return the setting
   */
  public static SampleClipping clip(double range) {
    return new SampleClipping(true, range, false, 0.995, 1.0);
  }

  /**
   * Whether this setting changes anything.
   *
   * @return true if clipping or thresholding is on
   */
  public boolean active() {
    return clipSample || thresholding;
  }

  /**
   * Applies the setting to a predicted {@code x0}.
   *
   * @param x0 the prediction
   * @param tensors the factory (thresholding computes per-sample quantiles on the heap)
   * @return the clipped prediction ({@code x0} itself if inactive)
   */
  public Tensor apply(Tensor x0, TensorFactory tensors) {
    if (thresholding) {
      return threshold(x0, tensors);
    }
    if (clipSample) {
      return x0.clamp(-clipSampleRange, clipSampleRange);
    }
    return x0;
  }

  private Tensor threshold(Tensor x0, TensorFactory tensors) {
    float[] v = x0.toFloatArray();
    int n = x0.shape().batch();
    int k = v.length / n;
    float[] abs = new float[k];
    for (int i = 0; i < n; i++) {
      int off = i * k;
      for (int j = 0; j < k; j++) {
        abs[j] = Math.abs(v[off + j]);
      }
      double s = quantile(abs, dynamicThresholdingRatio);
      s = Math.min(Math.max(s, 1.0), sampleMaxValue);
      for (int j = off; j < off + k; j++) {
        v[j] = (float) (Math.min(Math.max(v[j], -s), s) / s);
      }
    }
    return tensors.fromArray(v, x0.shape());
  }

  /** {@code torch.quantile} with linear interpolation; sorts {@code values} in place. */
  static double quantile(float[] values, double q) {
    Arrays.sort(values);
    double pos = q * (values.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, values.length - 1);
    double frac = pos - lo;
    return values[lo] + (values[hi] - values[lo]) * frac;
  }
}
