package io.github.diffusion4j.sampling;

import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;

/**
 * Tools on the latent noise {@code x_T}: spherical interpolation between two latents, and the latent a sampling run
 * starts a given sample from. Because DDIM with {@code eta = 0} is a deterministic map from latents to images,
 * walking between two latents walks between two images (Song et al. 2021, section 5.3), and walking between the
 * latents of two samples of a run walks between those two images.
 */
public final class Latents {
  private Latents() {}

  /**
   * The initial latent {@code x_T} that a sampling run draws for one of its samples: sample number {@code sample} of
   * {@code request}'s seed and noise version, by the request's noise layout (its count, plan and first sample do not
   * matter). With it, an interpolation can start and end at images that {@code sample} produced: with DDIM at
   * {@code eta = 0} and the same plan, the image of this latent is that sample (up to the rounding of the model's
   * products, which may differ in the last bits between batches of other sizes).
   *
   * @param request the run's request (its seed and noise version)
   * @param sample the number of the sample, at least 0
   * @return the {@code C * H * W} values of its {@code x_T}
   * @throws IllegalArgumentException if {@code sample} is negative
   */
  public static float[] initialLatent(SamplingRequest request, long sample) {
    if (sample < 0) {
      throw new IllegalArgumentException("sample must be at least 0, got " + sample);
    }
    return SamplingLoop.noiseValues(request.slice(sample, 1), -1);
  }

  /**
   * Spherical linear interpolation {@code slerp(a, b, t) = sin((1-t) theta)/sin(theta) a + sin(t
   * theta)/sin(theta) b} with {@code theta} the angle between {@code a} and {@code b}; falls back to linear
   * interpolation when they are nearly parallel ({@code |cos theta| > 0.9995}), where the spherical form
   * is numerically unstable.
   *
   * @param a the first latent
   * @param b the second, same length
   * @param t the position, 0 gives {@code a} and 1 gives {@code b} (exactly: the weights are then 1 and 0)
   * @return the interpolated latent
   * @throws IllegalArgumentException if the latents differ in size or {@code t} is NaN or infinite (outside
   *     {@code [0, 1]} it extrapolates along the same arc)
   */
  public static float[] slerp(float[] a, float[] b, double t) {
    if (!Double.isFinite(t)) {
      throw new IllegalArgumentException("t must be a finite position (0: a, 1: b), got " + t);
    }
    if (a.length != b.length) {
      throw new IllegalArgumentException("latents differ in size: " + a.length + " vs " + b.length);
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    double cos = dot / Math.sqrt(na * nb);
    double wa;
    double wb;
    if (!(Math.abs(cos) <= 0.9995)) {
      wa = 1 - t;
      wb = t;
    } else {
      double theta = Math.acos(cos);
      double s = Math.sin(theta);
      wa = Math.sin((1 - t) * theta) / s;
      wb = Math.sin(t * theta) / s;
    }
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = (float) (wa * a[i] + wb * b[i]);
    }
    return out;
  }

  /**
   * {@code count} latents evenly spaced along the great circle from {@code a} to {@code b}, both ends
   * included, as a batch.
   *
   * @param tensors the factory
   * @param a the first latent, one item of shape {@code image}
   * @param b the last latent
   * @param image the shape of one latent, {@code [C, H, W]}
   * @param count the number of latents, at least 2
   * @return a tensor {@code [count, C, H, W]}
   * @throws IllegalArgumentException if {@code count} is below 2, a latent is not of {@code image}'s size, or
   *     {@code count} latents hold more values than an array can or than half of the heap takes
   *     ({@link io.github.diffusion4j.tensor.HeapBudget})
   */
  public static Tensor interpolate(TensorFactory tensors, float[] a, float[] b, Shape image, int count) {
    if (count < 2) {
      throw new IllegalArgumentException("interpolation needs at least 2 points, got " + count);
    }
    int k = image.size();
    if (a.length != k || b.length != k) {
      throw new IllegalArgumentException("latents must have " + k + " values (" + image + ")");
    }
    Shape batch = Shape.batchOf(count, image); // refuses a count whose values overflow an array, before allocating
    io.github.diffusion4j.tensor.HeapBudget.requireArray("count: " + count + " latents of " + image + " are "
        + batch.size() + " values", batch.size(), Float.BYTES,
        "interpolate fewer points, or give the JVM more heap (-Xmx)");
    float[] all = new float[batch.size()];
    for (int i = 0; i < count; i++) {
      System.arraycopy(slerp(a, b, (double) i / (count - 1)), 0, all, i * k, k);
    }
    return tensors.fromArray(all, batch);
  }
}
