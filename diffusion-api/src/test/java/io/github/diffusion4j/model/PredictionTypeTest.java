package io.github.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * The three parameterisations against their definitions: {@code x_t = sqrt(a) x0 + sqrt(1 - a) eps} and
 * {@code v = sqrt(a) eps - sqrt(1 - a) x0} (Salimans and Ho 2022); from {@code x_t} and the model's output each
 * must give back {@code x0} and {@code eps}.
 */
class PredictionTypeTest {
  // numbers with nothing in common, and alpha-bars from nearly clean to nearly pure noise
  private static final double X0 = 0.37;
  private static final double EPS = -1.21;
  private static final double[] ALPHA_BARS = {0.9999, 0.64, 0.3, 0.01};

  private static double output(PredictionType type, double a) {
    return switch (type) {
      case EPSILON -> EPS;
      case SAMPLE -> X0;
      case V_PREDICTION -> Math.sqrt(a) * EPS - Math.sqrt(1 - a) * X0;
    };
  }

  @Test
  void theCoefficientsRecoverTheCleanSampleAndTheNoise() {
    for (PredictionType type : PredictionType.values()) {
      for (double a : ALPHA_BARS) {
        double xt = Math.sqrt(a) * X0 + Math.sqrt(1 - a) * EPS;
        double out = output(type, a);
        double[] c = type.sampleCoefficients(a);
        double[] e = type.epsilonCoefficients(a);
        // double arithmetic on O(1) values; 1 / sqrt(0.01) = 10 amplifies rounding tenfold at most: 1e-12
        assertEquals(X0, c[0] * xt + c[1] * out, 1e-12, type + " x0 at alphaBar " + a);
        assertEquals(EPS, e[0] * xt + e[1] * out, 1e-12, type + " eps at alphaBar " + a);
      }
    }
  }

  @Test
  void theTrainingTargetIsEpsX0OrVItemByItem() {
    float[] x0 = {0.5f, -0.25f, 1f, 0f};
    float[] eps = {-1f, 2f, 0.5f, 0.75f};
    double[] alphaBar = {0.81, 0.36}; // sqrt: 0.9 and 0.6; sqrt(1 - a): ~0.43589 and 0.8
    float[] out = new float[4];
    PredictionType.EPSILON.target(x0, eps, alphaBar, out);
    assertArrayEquals(eps, out, 0f);
    PredictionType.SAMPLE.target(x0, eps, alphaBar, out);
    assertArrayEquals(x0, out, 0f);
    PredictionType.V_PREDICTION.target(x0, eps, alphaBar, out);
    double s = Math.sqrt(1 - 0.81);
    float[] v = {(float) (0.9 * -1 - s * 0.5), (float) (0.9 * 2 - s * -0.25), (float) (0.6 * 0.5 - 0.8 * 1),
        (float) (0.6 * 0.75 - 0.8 * 0)};
    // float32 results of the same double expressions: equal to a float's rounding (1e-6 on values below 2)
    assertArrayEquals(v, out, 1e-6f);

    // two items of 2 values each: 4 values split, 3 do not; eps and out must be as long as x0
    assertThrows(IllegalArgumentException.class,
        () -> PredictionType.V_PREDICTION.target(new float[3], new float[3], alphaBar, new float[3]));
    assertThrows(IllegalArgumentException.class,
        () -> PredictionType.V_PREDICTION.target(x0, new float[3], alphaBar, out));
    assertThrows(IllegalArgumentException.class,
        () -> PredictionType.V_PREDICTION.target(x0, eps, alphaBar, new float[5]));
    assertThrows(IllegalArgumentException.class,
        () -> PredictionType.V_PREDICTION.target(x0, eps, new double[0], out));
  }
}
