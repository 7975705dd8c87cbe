package io.github.diffusion4j.data;

import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;

/**
 * The forward (noising) process {@code q} of a {@link Schedule}, batched with a timestep per item.
 *
 * <p>Index convention (diffusers'): timestep {@code t} means {@code t + 1} noising steps have been
 * applied, so {@code x_t = sqrt(alphaBar_t) x0 + sqrt(1 - alphaBar_t) eps} with {@code alphaBar_t} the
 * product of {@code alpha_0 .. alpha_t}. The tutorial's {@code num_steps} is {@code t + 1}.
 */
public final class ForwardProcess {
  private final Schedule schedule;

  /**
   * Creates the process.
   *
   * @param schedule the schedule
   */
  public ForwardProcess(Schedule schedule) {
    this.schedule = java.util.Objects.requireNonNull(schedule, "schedule must not be null");
  }

  /**
   * Closed form (Ho et al. eq. 4): {@code x_t = sqrt(alphaBar_t) x0 + sqrt(1 - alphaBar_t) eps}, item by
   * item. The tutorial's {@code noise_img}.
   *
   * @param x0 the clean batch
   * @param timesteps one timestep per item
   * @param eps standard-normal noise of the same shape
   * @return {@code x_t}
   */
  public Tensor noise(Tensor x0, int[] timesteps, Tensor eps) {
    int n = checkBatch(x0, timesteps);
    double[] a = new double[n];
    double[] b = new double[n];
    for (int i = 0; i < n; i++) {
      double ab = schedule.alphaBar(timesteps[i]);
      a[i] = Math.sqrt(ab);
      b[i] = Math.sqrt(1.0 - ab);
    }
    return x0.combinePerSample(a, eps, b);
  }

  /**
   * The exact inverse of {@link #noise}: {@code x0 = (x_t - sqrt(1 - alphaBar_t) eps) /
   * sqrt(alphaBar_t)}. With a predicted {@code eps} this is the tutorial's {@code reconstruct}.
   *
   * @param noisy {@code x_t}
   * @param timesteps one timestep per item
   * @param eps the (true or predicted) noise
   * @return the reconstructed {@code x0}
   */
  public Tensor reconstruct(Tensor noisy, int[] timesteps, Tensor eps) {
    int n = checkBatch(noisy, timesteps);
    double[] a = new double[n];
    double[] b = new double[n];
    for (int i = 0; i < n; i++) {
      double ab = schedule.alphaBar(timesteps[i]);
      a[i] = 1.0 / Math.sqrt(ab);
      b[i] = -Math.sqrt(1.0 - ab) / Math.sqrt(ab);
    }
    return noisy.combinePerSample(a, eps, b);
  }

  /**
   * Iterative form (Ho et al. eq. 2): {@code x <- sqrt(1 - beta_s) x + sqrt(beta_s) z_s} for
   * {@code s = 0 .. t}, item by item; {@code z_s} is {@code tensors.normal(shape, noise.split(s))}.
   * Equal in distribution to {@link #noise}, not sample by sample.
   *
   * @param x0 the clean batch
   * @param timesteps one timestep per item
   * @param noise the noise stream
   * @param tensors the factory for the noise tensors
   * @return {@code x_t}
   */
  public Tensor noiseIteratively(Tensor x0, int[] timesteps, Noise noise, TensorFactory tensors) {
    int n = checkBatch(x0, timesteps);
    int max = 0;
    for (int t : timesteps) {
      max = Math.max(max, t);
    }
    Tensor x = x0;
    double[] a = new double[n];
    double[] b = new double[n];
    for (int s = 0; s <= max; s++) {
      for (int i = 0; i < n; i++) {
        boolean active = s <= timesteps[i];
        a[i] = active ? Math.sqrt(schedule.alpha(s)) : 1.0;
        b[i] = active ? Math.sqrt(schedule.beta(s)) : 0.0;
      }
      Tensor z = tensors.normal(x0.shape(), noise.split(s));
      Tensor next = x.combinePerSample(a, z, b);
      z.close();
      if (x != x0) {
        x.close();
      }
      x = next;
    }
    return x;
  }

  /**
   * The closed form on the heap, for the training loop: writes {@code x_t} item by item.
   *
   * @param x0 the clean batch
   * @param timesteps one timestep per item
   * @param eps the noise
   * @param out where {@code x_t} goes (may not alias {@code x0} or {@code eps})
   * @throws IllegalArgumentException unless {@code x0}, {@code eps} and {@code out} have the same length, a whole
   *     number of items per timestep
   */
  public void noise(float[] x0, int[] timesteps, float[] eps, float[] out) {
    if (timesteps.length == 0 || x0.length % timesteps.length != 0 || eps.length != x0.length
        || out.length != x0.length) {
      throw new IllegalArgumentException("x0, eps and out must be items of one size per timestep; got "
          + x0.length + ", " + eps.length + " and " + out.length + " values for " + timesteps.length + " timesteps");
    }
    int k = x0.length / timesteps.length;
    for (int i = 0; i < timesteps.length; i++) {
      double ab = schedule.alphaBar(timesteps[i]);
      float a = (float) Math.sqrt(ab);
      float b = (float) Math.sqrt(1.0 - ab);
      for (int j = i * k, end = j + k; j < end; j++) {
        out[j] = a * x0[j] + b * eps[j];
      }
    }
  }

  /**
   * The schedule.
   *
   * @return the schedule
   */
  public Schedule schedule() {
    return schedule;
  }

  private static int checkBatch(Tensor x, int[] timesteps) {
    int n = x.shape().batch();
    if (timesteps.length != n) {
      throw new IllegalArgumentException(
          "got " + timesteps.length + " timesteps for a batch of " + n);
    }
    return n;
  }
}
