package io.github.diffusion4j.eval;

import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.tensor.Shape;

/**
 * How far images are from the tutorial's colour gradients: per image and channel, the root mean
 * square residual of the least-squares fit {@code v = a + b * g}, where {@code g} is the normalised
 * ramp {@link GradientImages#grid(int, int)} (0 at the top-left, 1 at the bottom-right). Every
 * training image fits exactly (residual 0); noise does not. The score is the mean over images and
 * channels, in the units of the pixel values (images in {@code [0, 1]}).
 */
public final class GradientResidual {
  private GradientResidual() {}

  /**
   * The mean residual over all images and channels.
   *
   * @param images {@code N x C x H x W} values in {@code [0, 1]}
   * @param imageShape {@code [C, H, W]}
   * @return the mean RMS residual, at least 0 (0 for perfect gradients)
   */
  public static double mean(float[] images, Shape imageShape) {
    double[] r = perChannel(images, imageShape);
    double sum = 0;
    for (double v : r) {
      sum += v;
    }
    return sum / r.length;
  }

  /**
   * The residual of each image and channel.
   *
   * @param images {@code N x C x H x W} values
   * @param imageShape {@code [C, H, W]}
   * @return {@code N * C} RMS residuals, image-major
   */
  public static double[] perChannel(float[] images, Shape imageShape) {
    int n = ImageBatch.count(images, imageShape, "images");
    int c = imageShape.dim(0);
    int p = imageShape.dim(1) * imageShape.dim(2);
    double[] g = GradientImages.grid(imageShape.dim(1), imageShape.dim(2));
    double gMean = 0;
    for (double v : g) {
      gMean += v;
    }
    gMean /= p;
    double sgg = 0;
    for (double v : g) {
      sgg += (v - gMean) * (v - gMean);
    }
    double[] out = new double[n * c];
    for (int k = 0; k < n * c; k++) {
      int off = k * p;
      double vMean = 0;
      for (int i = 0; i < p; i++) {
        vMean += images[off + i];
      }
      vMean /= p;
      double sgv = 0;
      for (int i = 0; i < p; i++) {
        sgv += (g[i] - gMean) * (images[off + i] - vMean);
      }
      double slope = sgg > 0 ? sgv / sgg : 0; // a 1x1 image has a constant grid: fit the mean only
      double ss = 0;
      for (int i = 0; i < p; i++) {
        double r = images[off + i] - vMean - slope * (g[i] - gMean);
        ss += r * r;
      }
      out[k] = Math.sqrt(ss / p);
    }
    return out;
  }
}
