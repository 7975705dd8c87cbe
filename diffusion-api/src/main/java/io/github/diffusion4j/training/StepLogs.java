package io.github.diffusion4j.training;

import io.github.diffusion4j.data.Normalization;
import io.github.diffusion4j.model.PredictionType;
import io.github.diffusion4j.tensor.Shape;
import java.util.Arrays;

/**
 * What the {@link Trainer} logs of a step beyond its loss, as the DDPM tutorial: the mean and variance of
 * an array, and the images of an {@link ImageLog} (the prediction converted to noise and to a
 * reconstruction of {@code x0}).
 */
final class StepLogs {
  private StepLogs() {}

  /**
   * The images of the first {@code m} items of a batch.
   *
   * @param type what the model predicts
   * @param step optimiser steps taken
   * @param image the shape of one image
   * @param m how many images to log
   * @param batch the batch
   * @param prediction the model's output for the batch
   * @return the log, in pixel values
   */
  static ImageLog imageLog(PredictionType type, long step, Shape image, int m, TrainingBatch batch,
      float[] prediction) {
    int k = image.size();
    float[] xt = batch.xt;
    float[] predEps = new float[m * k];
    float[] recon = new float[m * k];
    for (int i = 0; i < m; i++) {
      double a = batch.alphaBar[i];
      double sa = Math.sqrt(a);
      double sb = Math.sqrt(1 - a);
      for (int j = i * k; j < (i + 1) * k; j++) {
        double out = prediction[j];
        double x = xt[j];
        double e;
        double r;
        switch (type) {
          case EPSILON -> {
            e = out;
            r = (x - sb * e) / sa;
          }
          case SAMPLE -> {
            r = out;
            e = (x - sa * r) / sb;
          }
          case V_PREDICTION -> {
            r = sa * x - sb * out;
            e = sa * out + sb * x;
          }
          default -> throw new AssertionError(type);
        }
        predEps[j] = (float) e;
        recon[j] = (float) r;
      }
    }
    return new ImageLog(step, Shape.batchOf(m, image), Arrays.copyOf(batch.timesteps, m),
        Normalization.denormalize(Arrays.copyOf(batch.x0, m * k)),
        Normalization.denormalize(Arrays.copyOf(xt, m * k)),
        Normalization.denormalize(Arrays.copyOf(batch.eps, m * k)),
        Normalization.denormalize(predEps),
        Normalization.denormalize(recon));
  }

  /**
   * The mean and the unbiased variance (as {@code torch.var}) of {@code v}.
   *
   * @param v the values, or null
   * @return {@code {mean, variance}}, NaN for null or empty
   */
  static double[] meanVar(float[] v) {
    if (v == null || v.length == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double m = 0;
    for (float x : v) {
      m += x;
    }
    m /= v.length;
    double var = 0;
    for (float x : v) {
      var += (x - m) * (x - m);
    }
    // torch.var is unbiased by default
    return new double[] {m, v.length > 1 ? var / (v.length - 1) : 0};
  }
}
