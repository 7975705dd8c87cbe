package io.github.diffusion4j.data;

import io.github.diffusion4j.tensor.Shape;
import java.util.Objects;
import java.util.Optional;

/**
 * How an image of any size becomes a {@code [C, H, W]} image of the target shape: resized and centre-cropped
 * ({@link Resize#CROP}, the DDPM paper's preprocessing: the shorter side is scaled to the target) or resized
 * and padded ({@link Resize#PAD}: the longer side is scaled to the target, the rest is black, centred).
 *
 * <p>Resampling is area averaging (a box filter: every output pixel is the mean of the source area it
 * covers, partly covered pixels by their covered fraction), separable, in double precision, rounded once to
 * the nearest level; the same image gives the same bytes on every JVM. An image is enlarged only when
 * {@code upscale} is set; otherwise one smaller than the target is a {@link #problem} when cropping, and is
 * padded without scaling when padding. Scaling by 1 copies pixels exactly.
 *
 * @param shape the target {@code [C, H, W]}; {@code C} is 1 (grayscale) or 3 (RGB)
 * @param resize crop or pad
 * @param upscale whether images smaller than the target are enlarged
 */
public record ImageFit(Shape shape, Resize resize, boolean upscale) {

  /** How the aspect ratio is reconciled with the target's ({@code data.resize}). */
  public enum Resize {
    /** Scale the shorter side to the target, cut the centre out of the longer one. */
    CROP("crop"),
    /** Scale the longer side to the target, pad the shorter one with black, centred. */
    PAD("pad");

    private final String configName;

    Resize(String configName) {
      this.configName = configName;
    }

    /**
     * The configuration name.
     *
     * @return {@code "crop"} or {@code "pad"}
     */
    public String configName() {
      return configName;
    }
  }

  /**
   * Checks the values.
   *
   * @param shape the target {@code [C, H, W]}, {@code C} 1 or 3
   * @param resize crop or pad
   * @param upscale whether images smaller than the target are enlarged
   */
  public ImageFit {
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(resize, "resize");
    if (shape.rank() != 3 || (shape.dim(0) != 1 && shape.dim(0) != 3)) {
      throw new IllegalArgumentException("the target must be [C, H, W] with C 1 (grayscale) or 3 (RGB), got "
          + shape);
    }
  }

  /**
   * The number of channels.
   *
   * @return 1 or 3
   */
  public int channels() {
    return shape.dim(0);
  }

  /**
   * The target height.
   *
   * @return {@code H}
   */
  public int height() {
    return shape.dim(1);
  }

  /**
   * The target width.
   *
   * @return {@code W}
   */
  public int width() {
    return shape.dim(2);
  }

  /**
   * The fit in a few words, e.g. {@code 3x64x64 crop} or {@code 1x32x32 pad upscale}.
   *
   * @return the description
   */
  public String describe() {
    return shape.toCompactString() + " " + resize.configName() + (upscale ? " upscale" : "");
  }

  /**
   * Why an image of this size cannot be fitted, if it cannot: when cropping without {@code upscale}, a side
   * shorter than the target's.
   *
   * @param imageWidth the image's width
   * @param imageHeight the image's height
   * @return the problem, one line, or empty
   */
  public Optional<String> problem(int imageWidth, int imageHeight) {
    if (resize == Resize.CROP && !upscale && (imageWidth < width() || imageHeight < height())) {
      return Optional.of("is " + imageWidth + "x" + imageHeight + ", smaller than the target " + width() + "x"
          + height() + "; " + TOO_SMALL_FIX);
    }
    return Optional.empty();
  }

  /**
   * How {@link #problem} ends, in the configuration's keys: a tool that takes these settings otherwise (the command
   * line's {@code data check --upscale}) says its own in its place.
   */
  public static final String TOO_SMALL_FIX = "set data.upscale: true to enlarge such images, or data.resize: pad to "
      + "pad them";

  /**
   * The factor an image is scaled by: for crop the larger of {@code W / width} and {@code H / height}, for
   * pad the smaller; at most 1 unless {@code upscale}.
   *
   * @param imageWidth the image's width
   * @param imageHeight the image's height
   * @return the factor
   */
  public double scale(int imageWidth, int imageHeight) {
    double sx = (double) width() / imageWidth;
    double sy = (double) height() / imageHeight;
    double s = resize == Resize.CROP ? Math.max(sx, sy) : Math.min(sx, sy);
    return s > 1 && !upscale ? 1 : s;
  }

  /**
   * Decodes one image file and fits it as a folder's training images are fitted (the same bytes): the values
   * of one {@code [C, H, W]} image in the model's range, {@code v / 255 * 2 - 1} for each fitted 8-bit level
   * {@code v}. For images a model starts from ({@link io.github.diffusion4j.sampling.ImageToImage}, DDIM
   * inversion).
   *
   * @param file a PNG, JPEG, BMP or GIF file, or a format of an ImageIO plugin on the class path
   * @return {@code shape().size()} values, channel-major
   * @throws DataFileException naming the file: missing, unreadable, not an image, damaged, or an image this fit
   *     cannot take ({@link #problem})
   */
  public float[] read(java.nio.file.Path file) {
    float[] values = new float[shape.size()];
    read(file, values);
    return values;
  }

  /**
   * {@link #read(java.nio.file.Path)} into a given array, saying what the file held before it was fitted (its size,
   * e.g. to check that an inpainting mask is its picture's size).
   *
   * @param file a PNG, JPEG, BMP or GIF file, or a format of an ImageIO plugin on the class path
   * @param dst takes {@code shape().size()} values at its start, channel-major, in {@code [-1, 1]}
   * @return the file's image before fitting
   * @throws DataFileException naming the file, as {@link #read(java.nio.file.Path)}
   * @throws IllegalArgumentException if {@code dst} is shorter than {@code shape().size()}
   */
  public ImageInfo read(java.nio.file.Path file, float[] dst) {
    Objects.requireNonNull(file, "file must not be null");
    Objects.requireNonNull(dst, "dst must not be null");
    if (dst.length < shape.size()) {
      throw new IllegalArgumentException("dst has " + dst.length + " values, fewer than the " + shape.size()
          + " of " + shape);
    }
    byte[] bytes = new byte[shape.size()];
    ImageInfo info = ImageDecoder.read(file, this, bytes, 0);
    Normalization.fromBytes(bytes, dst, 0);
    return info;
  }

  /**
   * Decodes an inpainting mask for a picture this fit read ({@link #read(java.nio.file.Path, float[])}), fitted as
   * the picture was (the same crop or pad and resampling, in one channel) and thresholded: a fitted pixel of gray
   * level 128 or more (of 255) is <b>white: regenerate</b>, below it <b>black: keep</b>, as image editors and Stable
   * Diffusion's inpainting pipelines have it (the opposite of diffusers' {@code RePaintScheduler}'s
   * {@code mask_image}). The values are what {@link io.github.diffusion4j.sampling.Inpainting} and the inpainting
   * methods of {@code Diffusion} and {@code TrainedModel} take; {@code diffusion sample --mask} reads its files so.
   *
   * @param file a gray or RGB PNG, JPEG, BMP or GIF of the picture's size (colours count by their ITU-R 601 luma,
   *     alpha is ignored)
   * @param picture what the picture's file held before it was fitted, as {@code read(file, dst)} returns it
   * @return {@code H * W} values, 1 (regenerate) or 0 (keep)
   * @throws DataFileException naming the mask's file: missing, unreadable, not an image, damaged, or not of the
   *     picture's size (a mask of another size, fitted, would no longer cover the picture's pixels)
   */
  public float[] readMask(java.nio.file.Path file, ImageInfo picture) {
    Objects.requireNonNull(picture, "picture must not be null");
    float[] gray = new float[height() * width()];
    ImageInfo mask = new ImageFit(Shape.of(1, height(), width()), resize, upscale).read(file, gray);
    if (mask.width() != picture.width() || mask.height() != picture.height()) {
      throw new DataFileException(file, "is " + mask.width() + "x" + mask.height() + ", its picture "
          + picture.width() + "x" + picture.height() + "; a mask must be its picture's size (white: regenerate, "
          + "black: keep)");
    }
    return thresholdMask(gray);
  }

  /**
   * A fitted gray mask thresholded as {@link #readMask} does it: 1 (regenerate) where the level is 128 or more of
   * 255, else 0 (keep).
   *
   * @param gray fitted gray values in {@code [-1, 1]} ({@code v / 255 * 2 - 1} for level {@code v})
   * @return as many values, 1 or 0
   */
  public static float[] thresholdMask(float[] gray) {
    float[] m = new float[gray.length];
    for (int p = 0; p < gray.length; p++) {
      m[p] = gray[p] > 0 ? 1 : 0; // level v is v / 255 * 2 - 1: above 0 exactly for v >= 128
    }
    return m;
  }

  /**
   * Fits an image: {@code C * H * W} bytes, channel-major, written at {@code dst[offset]}.
   *
   * @param imageWidth the image's width
   * @param imageHeight the image's height
   * @param rows the image's rows, in this fit's channels
   * @param dst the destination
   * @param offset where the first byte goes
   */
  void apply(int imageWidth, int imageHeight, PixelRows rows, byte[] dst, int offset) {
    apply(imageWidth, imageHeight, 0, 0, imageWidth, rows, dst, offset);
  }

  /**
   * The part of an image that {@link #apply} reads: {@code {x0, x1, y0, y1}}, the columns {@code [x0, x1)} and rows
   * {@code [y0, y1)}; all of it for pad, the centre for crop (a long, narrow image's middle). Decoding only that part
   * gives the same bytes ({@link #apply(int, int, int, int, int, PixelRows, byte[], int)}).
   *
   * @param imageWidth the image's width
   * @param imageHeight the image's height
   * @return the region
   */
  int[] region(int imageWidth, int imageHeight) {
    double s = scale(imageWidth, imageHeight);
    int[] x = Axis.of(imageWidth, width(), s).span(imageWidth);
    int[] y = Axis.of(imageHeight, height(), s).span(imageHeight);
    return new int[] {x[0], x[1], y[0], y[1]};
  }

  /**
   * {@link #apply(int, int, PixelRows, byte[], int)} from a part of the image ({@link #region}): the weights are the
   * whole image's, so the bytes are those of the whole image.
   *
   * @param imageWidth the whole image's width
   * @param imageHeight the whole image's height
   * @param x0 the part's first column
   * @param y0 the part's first row
   * @param partWidth the part's width
   * @param rows the part's rows ({@code 0} is the image's row {@code y0}), in this fit's channels
   * @param dst the destination
   * @param offset where the first byte goes
   */
  void apply(int imageWidth, int imageHeight, int x0, int y0, int partWidth, PixelRows rows, byte[] dst, int offset) {
    double s = scale(imageWidth, imageHeight);
    Axis xs = Axis.of(imageWidth, width(), s).shifted(x0);
    Axis ys = Axis.of(imageHeight, height(), s);
    int c = channels();
    int w = width();
    int h = height();
    double[][] src = new double[c][partWidth];
    double[][] across = new double[c][w];
    double[][] out = new double[c][h * w];
    int cachedRow = -1;
    for (int i = 0; i < h; i++) {
      for (int k = ys.start[i]; k < ys.start[i + 1]; k++) {
        int y = ys.index[k];
        if (y != cachedRow) {
          rows.row(y - y0, src);
          for (int ch = 0; ch < c; ch++) {
            xs.resample(src[ch], across[ch]);
          }
          cachedRow = y;
        }
        double wy = ys.weight[k];
        for (int ch = 0; ch < c; ch++) {
          double[] a = across[ch];
          double[] o = out[ch];
          for (int j = 0, at = i * w; j < w; j++, at++) {
            o[at] += wy * a[j];
          }
        }
      }
    }
    for (int ch = 0; ch < c; ch++) {
      double[] o = out[ch];
      int base = offset + ch * h * w;
      for (int p = 0; p < h * w; p++) {
        long v = (long) Math.floor(o[p] + 0.5);
        dst[base + p] = (byte) (v < 0 ? 0 : (v > 255 ? 255 : v));
      }
    }
  }

  /**
   * The area weights of one axis: output pixel {@code j} covers the source interval
   * {@code [(j - o) / s, (j + 1 - o) / s)} with {@code o = (n - length * s) / 2} (centred); source pixel
   * {@code x} contributes {@code s} times the length of its overlap with that interval. Outside the image
   * (padding) nothing contributes, so the output there is black.
   */
  private static final class Axis {
    final int[] start;
    final int[] index;
    final double[] weight;

    private Axis(int[] start, int[] index, double[] weight) {
      this.start = start;
      this.index = index;
      this.weight = weight;
    }

    static Axis of(int length, int n, double s) {
      double o = (n - length * s) / 2;
      int[] start = new int[n + 1];
      int capacity = n * ((int) Math.ceil(1 / s) + 2);
      int[] index = new int[capacity];
      double[] weight = new double[capacity];
      int k = 0;
      for (int j = 0; j < n; j++) {
        start[j] = k;
        double a = (j - o) / s;
        double b = (j + 1 - o) / s;
        int from = (int) Math.max(0, Math.floor(a));
        int to = (int) Math.min(length, Math.ceil(b));
        for (int x = from; x < to; x++) {
          double cover = (Math.min(b, x + 1) - Math.max(a, x)) * s;
          if (cover > 0) {
            index[k] = x;
            weight[k] = cover;
            k++;
          }
        }
      }
      start[n] = k;
      return new Axis(start, index, weight);
    }

    /** The source pixels read: {@code {first, last + 1}}; {@code {0, length}} if none. */
    int[] span(int length) {
      int n = start[start.length - 1];
      if (n == 0) {
        return new int[] {0, length};
      }
      int lo = Integer.MAX_VALUE;
      int hi = -1;
      for (int k = 0; k < n; k++) {
        lo = Math.min(lo, index[k]);
        hi = Math.max(hi, index[k]);
      }
      return new int[] {lo, hi + 1};
    }

    /** The same weights over a source that starts at pixel {@code from}. */
    Axis shifted(int from) {
      if (from == 0) {
        return this;
      }
      int[] moved = index.clone();
      for (int k = 0; k < start[start.length - 1]; k++) {
        moved[k] -= from;
      }
      return new Axis(start, moved, weight);
    }

    void resample(double[] src, double[] dst) {
      for (int j = 0; j < dst.length; j++) {
        double v = 0;
        for (int k = start[j]; k < start[j + 1]; k++) {
          v += weight[k] * src[index[k]];
        }
        dst[j] = v;
      }
    }
  }
}
