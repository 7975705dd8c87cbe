package io.github.diffusion4j.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.tensor.Shape;
import org.junit.jupiter.api.Test;

class StepLogsTest {

  /**
   * The inputs are floats and the arithmetic double, rounded once to float: the logged values are within a few float
   * ulps (about 1e-7 here) of the exact ones; 1e-6 is well clear of that and far below any wrong formula's error.
   */
  private static final float TOLERANCE = 1e-6f;

  @Test
  void meanAndUnbiasedVariance() {
    // {1, 2, 3, 4}: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5 over n - 1 = 3
    double[] mv = StepLogs.meanVar(new float[] {1, 2, 3, 4});
    assertEquals(2.5, mv[0], 1e-15);
    assertEquals(5.0 / 3.0, mv[1], 1e-15);
    // one value: no spread, and no division by n - 1 = 0
    assertArrayEquals(new double[] {7, 0}, StepLogs.meanVar(new float[] {7}));
    assertTrue(Double.isNaN(StepLogs.meanVar(new float[0])[0]));
    assertTrue(Double.isNaN(StepLogs.meanVar(null)[1]));
  }

  /**
   * Two logged images of a batch of three, alpha_bar 0.64 and 0.36 (sqrt: 0.8/0.6 and 0.6/0.8), two values each:
   * x_t = sqrt(a) x0 + sqrt(1 - a) eps worked by hand, and an exact prediction of each type must give back x0 and eps.
   */
  @Test
  void anExactPredictionOfEachTypeGivesBackTheNoiseAndTheImage() {
    float[] x0 = {0.5f, -0.25f, 0.25f, 0f};
    float[] eps = {0.5f, -0.5f, -0.5f, 0.25f};
    float[] xt = {0.7f, -0.5f, -0.25f, 0.2f};
    // v = sqrt(a) eps - sqrt(1 - a) x0
    float[] v = {0.1f, -0.25f, -0.5f, 0.15f};
    Shape image = Shape.of(1, 1, 2);
    TrainingBatch batch = TrainingBatch.ofSize(null, 3, 2);
    batch.alphaBar[0] = 0.64;
    batch.alphaBar[1] = 0.36;
    batch.alphaBar[2] = 0.5;
    batch.timesteps[0] = 11;
    batch.timesteps[1] = 22;
    batch.timesteps[2] = 33;
    System.arraycopy(x0, 0, batch.x0, 0, 4);
    System.arraycopy(eps, 0, batch.eps, 0, 4);
    System.arraycopy(xt, 0, batch.xt, 0, 4);
    batch.x0[4] = 0.9f;
    batch.xt[4] = 0.9f;
    float[][] predictions = {
        {eps[0], eps[1], eps[2], eps[3], 0.9f, 0.9f},
        {x0[0], x0[1], x0[2], x0[3], 0.9f, 0.9f},
        {v[0], v[1], v[2], v[3], 0.9f, 0.9f}};
    PredictionType[] types = {PredictionType.EPSILON, PredictionType.SAMPLE, PredictionType.V_PREDICTION};
    for (int p = 0; p < 3; p++) {
      ImageLog log = StepLogs.imageLog(types[p], 42, image, 2, batch, predictions[p]);
      String what = types[p].toString();
      assertEquals(42, log.step());
      assertEquals(Shape.of(2, 1, 1, 2), log.batchShape());
      assertArrayEquals(new int[] {11, 22}, log.timesteps());
      // pixel values: (v + 1) / 2
      assertArrayEquals(pixels(x0), log.x0(), TOLERANCE, what);
      assertArrayEquals(pixels(xt), log.noised(), TOLERANCE, what);
      assertArrayEquals(pixels(eps), log.noise(), TOLERANCE, what);
      assertArrayEquals(pixels(eps), log.predictedNoise(), TOLERANCE, what);
      assertArrayEquals(pixels(x0), log.reconstruction(), TOLERANCE, what);
    }
  }

  private static float[] pixels(float[] v) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (v[i] + 1) / 2;
    }
    return out;
  }
}
