package io.github.diffusion4j.data;

import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.schedule.BetaSchedule;
import io.github.diffusion4j.tensor.Shape;

/**
 * The tutorial's dataset: colour gradients between two random corner colours.
 *
 * <p>As in the tutorial's {@code gradient_images}: per image, two corner colours with integer channels
 * drawn uniformly from {@code 0..254}; {@code grid = x + y} with {@code x = linspace(0, W / (W + H), W)}
 * along the width and {@code y = linspace(0, H / (W + H), H)} along the height, divided by its last
 * element; {@code pixel = (start + grid * (end - start)) / 255}, in {@code [0, 1]}. Random draws come from
 * the portable generator, so a seed gives the same images everywhere.
 */
public final class GradientImages {
  /** The most values one Java array holds. */
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

  private GradientImages() {}

  /**
   * The normalised ramp {@code grid[h][w]}, 0 at the top-left and 1 at the bottom-right.
   *
   * @param height {@code H}
   * @param width {@code W}
   * @return {@code H * W} values, row-major
   */
  public static double[] grid(int height, int width) {
    double[] xs = BetaSchedule.linspace(0, (double) width / (width + height), width);
    double[] ys = BetaSchedule.linspace(0, (double) height / (width + height), height);
    double[] g = new double[height * width];
    for (int h = 0; h < height; h++) {
      for (int w = 0; w < width; w++) {
        g[h * width + w] = xs[w] + ys[h];
      }
    }
    double last = g[g.length - 1];
    if (last != 0) {
      for (int i = 0; i < g.length; i++) {
        g[i] /= last;
      }
    }
    return g;
  }

  /**
   * Generates images in {@code [0, 1]}.
   *
   * @param count the number of images
   * @param imageShape {@code [C, H, W]}
   * @param noise the stream the corner colours are drawn from (image {@code i} uses {@code
   *     noise.split(i)})
   * @return {@code count * C * H * W} values
   */
  public static float[] generate(int count, Shape imageShape, Noise noise) {
    return generate(0, count, imageShape, noise);
  }

  /**
   * Generates images {@code first .. first + count - 1} of the stream: the same images however a range
   * is sliced.
   *
   * @param first the number of the first image (image {@code i} uses {@code noise.split(i)})
   * @param count the number of images
   * @param imageShape {@code [C, H, W]}
   * @param noise the stream the corner colours are drawn from
   * @return {@code count * C * H * W} values in {@code [0, 1]}
   * @throws IllegalArgumentException if {@code count} is negative or the images are more values than one array holds
   */
  public static float[] generate(long first, int count, Shape imageShape, Noise noise) {
    if (imageShape.rank() != 3) {
      throw new IllegalArgumentException("image shape must be [C, H, W], got " + imageShape);
    }
    int c = imageShape.dim(0);
    int h = imageShape.dim(1);
    int w = imageShape.dim(2);
    double[] g = grid(h, w);
    int k = imageShape.size();
    long values = (long) count * k;
    if (count < 0 || values > MAX_ARRAY) {
      throw new IllegalArgumentException(count + " images of " + imageShape + " are " + values
          + " values; count must be between 0 and " + MAX_ARRAY / k + " (one array holds at most " + MAX_ARRAY + ")");
    }
    float[] out = new float[(int) values];
    for (int n = 0; n < count; n++) {
      RandomGenerator r = noise.split(first + n).generator();
      int[] start = new int[c];
      int[] end = new int[c];
      for (int ch = 0; ch < c; ch++) {
        start[ch] = r.nextInt(255);
      }
      for (int ch = 0; ch < c; ch++) {
        end[ch] = r.nextInt(255);
      }
      for (int ch = 0; ch < c; ch++) {
        int base = n * k + ch * h * w;
        double s = start[ch];
        double range = end[ch] - start[ch];
        for (int p = 0; p < h * w; p++) {
          out[base + p] = (float) ((s + g[p] * range) / 255.0);
        }
      }
    }
    return out;
  }

  /**
   * A normalised dataset (values in {@code [-1, 1]}), seeded.
   *
   * @param count the number of images
   * @param imageShape {@code [C, H, W]}
   * @param noise the stream of the colours
   * @return the dataset
   */
  public static InMemoryDataset dataset(int count, Shape imageShape, Noise noise) {
    return new InMemoryDataset(imageShape, Normalization.normalize(generate(count, imageShape, noise)));
  }
}
