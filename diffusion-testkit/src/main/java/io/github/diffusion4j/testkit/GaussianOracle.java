package io.github.diffusion4j.testkit;

import io.github.diffusion4j.model.NoisePredictor;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.schedule.Schedule;
import io.github.diffusion4j.tensor.TensorFactory;
import java.util.Arrays;

/**
 * The exact noise predictor of a known data distribution, for testing samplers without training: when
 * every pixel of {@code x0} is {@code N(mu, s^2)} independently,
 * {@code E[eps | x_t] = sqrt(1 - a) (x_t - sqrt(a) mu) / (a s^2 + 1 - a)} with {@code a = alphaBar_t}.
 * A perfect sampler driven by it reproduces {@code N(mu, s^2)}.
 */
public final class GaussianOracle {
  private GaussianOracle() {}

  /**
   * The oracle.
   *
   * @param schedule the schedule
   * @param mu the data mean
   * @param s2 the data variance (0 for a point mass)
   * @param tensors the factory its outputs are made with
   * @return the predictor
   */
  public static NoisePredictor of(Schedule schedule, double mu, double s2, TensorFactory tensors) {
    return (x, ts) -> {
      int n = ts.length;
      double[] scale = new double[n];
      double[] shift = new double[n];
      for (int i = 0; i < n; i++) {
        double a = schedule.alphaBar(ts[i]);
        double d = a * s2 + 1 - a;
        scale[i] = Math.sqrt(1 - a) / d;
        shift[i] = -Math.sqrt(1 - a) * Math.sqrt(a) * mu / d;
      }
      float[] ones = new float[x.shape().size()];
      Arrays.fill(ones, 1f);
      return x.combinePerSample(scale, tensors.fromArray(ones, x.shape()), shift);
    };
  }

  /**
   * The oracle as a model of any prediction type, computed on the heap in doubles (then rounded once to float32): at
   * each value, the posterior mean {@code m = E[x0 | x_t] = mu + sqrt(a) s^2 (x_t - sqrt(a) mu) / (a s^2 + 1 - a)} and
   * the noise it implies, {@code eps = (x_t - sqrt(a) m) / sqrt(1 - a)}, given as {@code eps}, as {@code m}, or as
   * {@code v = sqrt(a) eps - sqrt(1 - a) m}.
   *
   * @param schedule the schedule
   * @param mu the data mean
   * @param s2 the data variance (0 for a point mass)
   * @param tensors the factory its outputs are made with
   * @param type what the model predicts
   * @return the predictor
   */
  public static NoisePredictor of(Schedule schedule, double mu, double s2, TensorFactory tensors,
      PredictionType type) {
    return (x, ts) -> {
      float[] v = x.toFloatArray();
      float[] out = new float[v.length];
      int k = v.length / ts.length;
      for (int i = 0; i < v.length; i++) {
        double a = schedule.alphaBar(ts[i / k]);
        double m = mu + Math.sqrt(a) * s2 / (a * s2 + 1 - a) * (v[i] - Math.sqrt(a) * mu);
        double eps = (v[i] - Math.sqrt(a) * m) / Math.sqrt(1 - a);
        out[i] = (float) switch (type) {
          case EPSILON -> eps;
          case SAMPLE -> m;
          case V_PREDICTION -> Math.sqrt(a) * eps - Math.sqrt(1 - a) * m;
        };
      }
      return tensors.fromArray(out, x.shape());
    };
  }

  /**
   * The sample mean and (unbiased) variance of all values.
   *
   * @param v the values
   * @return {@code {mean, variance}}
   */
  public static double[] moments(float[] v) {
    double m = 0;
    for (float x : v) {
      m += x;
    }
    m /= v.length;
    double var = 0;
    for (float x : v) {
      var += (x - m) * (x - m);
    }
    return new double[] {m, var / (v.length - 1)};
  }
}
