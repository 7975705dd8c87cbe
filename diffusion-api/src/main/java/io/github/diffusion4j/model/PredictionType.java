package io.github.diffusion4j.model;

import io.github.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What a model's output means (diffusers' {@code prediction_type}), and the conversions between the
 * three parameterisations. With {@code a = alphaBar_t}, {@code x_t = sqrt(a) x0 + sqrt(1 - a) eps}
 * (Ho et al. eq. 4) and {@code v = sqrt(a) eps - sqrt(1 - a) x0} (Salimans and Ho 2022, section 4).
 */
public enum PredictionType {
  /** The model predicts the noise {@code eps} (Ho et al. eq. 14). */
  EPSILON("epsilon"),
  /** The model predicts the clean sample {@code x0}. */
  SAMPLE("sample"),
  /** The model predicts the velocity {@code v}. */
  V_PREDICTION("v_prediction");

  private final String configName;

  PredictionType(String configName) {
    this.configName = configName;
  }

  /**
   * The configuration name.
   *
   * @return e.g. {@code "epsilon"}
   */
  public String configName() {
    return configName;
  }

  /**
   * Looks a type up by configuration name (case-insensitive).
   *
   * @param name the name
   * @return the type, or empty
   * @throws IllegalArgumentException {@code "name must not be null"} if it is null
   */
  public static Optional<PredictionType> fromConfigName(String name) {
    if (name == null) {
      throw new IllegalArgumentException("name must not be null");
    }
    String n = name.toLowerCase(Locale.ROOT);
    return Arrays.stream(values()).filter(p -> p.configName.equals(n)).findFirst();
  }

  /**
   * All configuration names.
   *
   * @return the names
   */
  public static List<String> configNames() {
    return Arrays.stream(values()).map(PredictionType::configName).toList();
  }

  /**
   * The clean sample the model output implies.
   *
   * @param output the model output
   * @param noisy {@code x_t}
   * @param alphaBar {@code alphaBar_t} (the same for the whole batch)
   * @return the predicted {@code x0}: a new tensor, except for {@link #SAMPLE}, where it is {@code output} itself
   *     (close it only if it is not {@code output})
   */
  public Tensor toSample(Tensor output, Tensor noisy, double alphaBar) {
    if (this == SAMPLE) {
      return output;
    }
    double[] c = sampleCoefficients(alphaBar);
    return noisy.combine(c[0], output, c[1]);
  }

  /**
   * The clean sample the model output implies, as numbers: {@code x0 = c[0] * x_t + c[1] * output} with
   * {@code (c[0], c[1])} = {@code (1 / sqrt(a), -sqrt(1 - a) / sqrt(a))} for epsilon, {@code (0, 1)} for
   * sample and {@code (sqrt(a), -sqrt(1 - a))} for v, where {@code a = alphaBar_t}.
   *
   * @param alphaBar {@code alphaBar_t}
   * @return the coefficients of {@code x_t} and of the output
   */
  public double[] sampleCoefficients(double alphaBar) {
    double sa = Math.sqrt(alphaBar);
    double sb = Math.sqrt(1.0 - alphaBar);
    return switch (this) {
      case EPSILON -> new double[] {1.0 / sa, -sb / sa};
      case SAMPLE -> new double[] {0.0, 1.0};
      case V_PREDICTION -> new double[] {sa, -sb};
    };
  }

  /**
   * The noise the model output implies.
   *
   * @param output the model output
   * @param noisy {@code x_t}
   * @param alphaBar {@code alphaBar_t}
   * @return the predicted {@code eps}: a new tensor, except for {@link #EPSILON}, where it is {@code output} itself
   *     (close it only if it is not {@code output})
   */
  public Tensor toEpsilon(Tensor output, Tensor noisy, double alphaBar) {
    double sa = Math.sqrt(alphaBar);
    double sb = Math.sqrt(1.0 - alphaBar);
    return switch (this) {
      case EPSILON -> output;
      case SAMPLE -> noisy.combine(1.0 / sb, output, -sa / sb);
      case V_PREDICTION -> output.combine(sa, noisy, sb);
    };
  }

  /**
   * The noise the model output implies, as numbers: {@code eps = e[0] * x_t + e[1] * output} with
   * {@code (e[0], e[1])} = {@code (0, 1)} for epsilon, {@code (1 / sqrt(1 - a), -sqrt(a) / sqrt(1 - a))} for
   * sample and {@code (sqrt(1 - a), sqrt(a))} for v, where {@code a = alphaBar_t} (the coefficients of
   * {@link #toEpsilon}).
   *
   * @param alphaBar {@code alphaBar_t}
   * @return the coefficients of {@code x_t} and of the output
   */
  public double[] epsilonCoefficients(double alphaBar) {
    double sa = Math.sqrt(alphaBar);
    double sb = Math.sqrt(1.0 - alphaBar);
    return switch (this) {
      case EPSILON -> new double[] {0.0, 1.0};
      case SAMPLE -> new double[] {1.0 / sb, -sa / sb};
      case V_PREDICTION -> new double[] {sb, sa};
    };
  }

  /**
   * Writes the training target for a batch: {@code eps}, {@code x0} or {@code v}, item by item.
   *
   * @param x0 the clean batch
   * @param eps the noise
   * @param alphaBar {@code alphaBar_t} of each item
   * @param out where the target is written (may be {@code eps} or {@code x0} itself)
   * @throws IllegalArgumentException unless {@code x0}, {@code eps} and {@code out} have the same length, a whole
   *     number of items per {@code alphaBar}
   */
  public void target(float[] x0, float[] eps, double[] alphaBar, float[] out) {
    if (alphaBar.length == 0 || x0.length % alphaBar.length != 0 || eps.length != x0.length
        || out.length != x0.length) {
      throw new IllegalArgumentException("x0, eps and out must be items of one size per alphaBar; got "
          + x0.length + ", " + eps.length + " and " + out.length + " values for " + alphaBar.length + " items");
    }
    int itemSize = x0.length / alphaBar.length;
    switch (this) {
      case EPSILON -> System.arraycopy(eps, 0, out, 0, eps.length);
      case SAMPLE -> System.arraycopy(x0, 0, out, 0, x0.length);
      case V_PREDICTION -> {
        for (int i = 0; i < alphaBar.length; i++) {
          double sa = Math.sqrt(alphaBar[i]);
          double sb = Math.sqrt(1.0 - alphaBar[i]);
          for (int j = i * itemSize, end = j + itemSize; j < end; j++) {
            out[j] = (float) (sa * eps[j] - sb * x0[j]);
          }
        }
      }
      default -> throw new AssertionError(this);
    }
  }
}
