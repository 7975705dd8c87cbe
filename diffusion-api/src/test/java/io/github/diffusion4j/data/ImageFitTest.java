package io.github.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.ImageFit.Resize;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Resizing, cropping and padding: exact small cases and a brute-force 2D area integral. */
class ImageFitTest {

  /** A one-channel image given as rows of levels. */
  private static PixelRows gray(int[][] rows) {
    return (y, dst) -> {
      for (int c = 0; c < dst.length; c++) {
        for (int x = 0; x < rows[y].length; x++) {
          dst[c][x] = rows[y][x];
        }
      }
    };
  }

  private static int[] fit(ImageFit fit, int[][] rows) {
    byte[] out = new byte[fit.shape().size()];
    fit.apply(rows[0].length, rows.length, gray(rows), out, 0);
    int[] v = new int[out.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = out[i] & 0xff;
    }
    return v;
  }

  private static ImageFit target(int h, int w, Resize r, boolean upscale) {
    return new ImageFit(Shape.of(1, h, w), r, upscale);
  }

  @Test
  void theSameSizeCopiesExactly() {
    int[][] img = {{0, 1, 2, 255}, {7, 8, 9, 254}, {100, 101, 102, 3}};
    assertArrayEquals(new int[] {0, 1, 2, 255, 7, 8, 9, 254, 100, 101, 102, 3},
        fit(target(3, 4, Resize.CROP, false), img));
    assertArrayEquals(new int[] {0, 1, 2, 255, 7, 8, 9, 254, 100, 101, 102, 3},
        fit(target(3, 4, Resize.PAD, false), img));
  }

  @Test
  void halvingAveragesBlocksAndRoundsHalvesUp() {
    int[][] img = {
        {0, 2, 10, 11},
        {4, 6, 10, 10},
        {255, 255, 1, 0},
        {255, 254, 0, 0}};
    // means 3, 10.25, 254.75, 0.25
    assertArrayEquals(new int[] {3, 10, 255, 0}, fit(target(2, 2, Resize.CROP, false), img));
    int[][] halves = {{1, 2}, {0, 0}};
    assertArrayEquals(new int[] {1}, fit(target(1, 1, Resize.CROP, false), halves), "0.75 rounds to 1");
    int[][] half = {{1, 1}, {0, 0}};
    assertArrayEquals(new int[] {1}, fit(target(1, 1, Resize.CROP, false), half), "0.5 rounds up");
  }

  @Test
  void cropCutsTheCentreOfTheLongerSide() {
    int[][] wide = {{1, 2, 3, 4, 5, 6}, {11, 12, 13, 14, 15, 16}};
    assertArrayEquals(new int[] {2, 3, 4, 5, 12, 13, 14, 15}, fit(target(2, 4, Resize.CROP, false), wide));
    // 8x4 to 2x2: scale 1/2 (the shorter side), 4x2 after scaling, columns 1..2 of it kept
    int[][] big = new int[4][8];
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 8; x++) {
        big[y][x] = 10 * x + y;
      }
    }
    // output (i, j) averages rows 2i..2i+1 and columns 2(j+1)..2(j+1)+1
    assertArrayEquals(new int[] {26, 46, 28, 48}, fit(target(2, 2, Resize.CROP, false), big));
  }

  @Test
  void padCentresTheImageOnBlack() {
    int[][] wide = {{10, 20, 30, 40}, {50, 60, 70, 80}};
    assertArrayEquals(new int[] {
        0, 0, 0, 0,
        10, 20, 30, 40,
        50, 60, 70, 80,
        0, 0, 0, 0}, fit(target(4, 4, Resize.PAD, false), wide));
    // an odd margin: 3 columns in 4 are offset by half a pixel, the edge columns half covered
    int[][] three = {{100, 200, 40}};
    assertArrayEquals(new int[] {50, 150, 120, 20}, fit(target(1, 4, Resize.PAD, false), three));
    // the longer side is scaled to the target: 8x2 into 4x4 is halved to 4x1 and padded
    int[][] strip = {{10, 30, 10, 30, 10, 30, 10, 30}, {10, 30, 10, 30, 10, 30, 10, 30}};
    int[] padded = fit(target(4, 4, Resize.PAD, false), strip);
    assertArrayEquals(new int[] {0, 0, 0, 0, 10, 10, 10, 10, 10, 10, 10, 10, 0, 0, 0, 0}, padded,
        "one row of 20s over 4 output rows: rows 1 and 2 are each half covered");
  }

  @Test
  void smallImagesAreAProblemWhenCroppingUnlessUpscaled() {
    ImageFit crop = target(4, 4, Resize.CROP, false);
    Optional<String> p = crop.problem(3, 8);
    assertEquals("is 3x8, smaller than the target 4x4; set data.upscale: true to enlarge such images, or "
        + "data.resize: pad to pad them", p.orElseThrow());
    assertTrue(crop.problem(4, 4).isEmpty());
    assertTrue(target(4, 4, Resize.PAD, false).problem(3, 8).isEmpty());
    assertTrue(target(4, 4, Resize.CROP, true).problem(3, 8).isEmpty());
    assertEquals(1.0, target(4, 4, Resize.PAD, false).scale(2, 2), 0.0, "padding never enlarges by itself");
    assertEquals(2.0, target(4, 4, Resize.PAD, true).scale(2, 2), 0.0);
  }

  @Test
  void upscalingByTwoRepeatsPixels() {
    int[][] img = {{1, 2}, {3, 4}};
    assertArrayEquals(new int[] {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4},
        fit(target(4, 4, Resize.CROP, true), img));
  }

  @Test
  void targetsMustBeGrayOrRgb() {
    assertThrows(IllegalArgumentException.class, () -> new ImageFit(Shape.of(2, 4, 4), Resize.CROP, false));
    assertThrows(IllegalArgumentException.class, () -> new ImageFit(Shape.of(4, 4), Resize.CROP, false));
  }

  /**
   * The separable implementation equals the definition: every output pixel is the integral of the image
   * (zero outside it) over the output pixel's area mapped back to the image, divided by that area. Sizes,
   * modes and contents are random; the comparison is on the unrounded values through a 1-level tolerance
   * after rounding (both round a double; they can differ only where a value is within 1e-9 of a half).
   */
  @Test
  void equalsTheTwoDimensionalAreaIntegral() {
    RandomGenerator r = Noise.seeded(3).generator();
    for (int trial = 0; trial < 300; trial++) {
      int w = 1 + r.nextInt(40);
      int h = 1 + r.nextInt(40);
      int tw = 1 + r.nextInt(20);
      int th = 1 + r.nextInt(20);
      Resize mode = r.nextInt(2) == 0 ? Resize.CROP : Resize.PAD;
      ImageFit fit = target(th, tw, mode, true);
      int[][] img = new int[h][w];
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          img[y][x] = r.nextInt(256);
        }
      }
      int[] got = fit(fit, img);
      double s = fit.scale(w, h);
      double ox = (tw - w * s) / 2;
      double oy = (th - h * s) / 2;
      for (int i = 0; i < th; i++) {
        for (int j = 0; j < tw; j++) {
          double ya = (i - oy) / s;
          double yb = (i + 1 - oy) / s;
          double xa = (j - ox) / s;
          double xb = (j + 1 - ox) / s;
          double sum = 0;
          for (int y = 0; y < h; y++) {
            double cy = Math.max(0, Math.min(yb, y + 1) - Math.max(ya, y));
            for (int x = 0; x < w && cy > 0; x++) {
              double cx = Math.max(0, Math.min(xb, x + 1) - Math.max(xa, x));
              sum += cy * cx * img[y][x];
            }
          }
          double expected = sum * s * s;
          assertEquals(expected, got[i * tw + j], 0.5 + 1e-9,
              () -> "trial " + w + "x" + h + " -> " + tw + "x" + th + " " + mode);
        }
      }
    }
  }

  /**
   * {@link ImageFit#read} gives the fitted bytes as the model's values, {@code v / 255 * 2 - 1}: an RGB PNG of the
   * target's size comes back level for level (float32 of {@code v / 255f * 2 - 1}, so compared exactly), channel-major.
   */
  @Test
  void readingAFileGivesItsLevelsInTheModelsRange(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws java.io.IOException {
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(3, 2, java.awt.image.BufferedImage.TYPE_INT_RGB);
    int[][] rgb = {{0, 10, 255}, {128, 64, 1}, {200, 7, 33}, {90, 91, 92}, {5, 250, 17}, {60, 70, 80}};
    for (int i = 0; i < 6; i++) {
      img.setRGB(i % 3, i / 3, rgb[i][0] << 16 | rgb[i][1] << 8 | rgb[i][2]);
    }
    java.nio.file.Path png = dir.resolve("a.png");
    javax.imageio.ImageIO.write(img, "png", png.toFile());
    float[] v = new ImageFit(Shape.of(3, 2, 3), Resize.CROP, false).read(png);
    assertEquals(18, v.length);
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < 6; i++) {
        assertEquals(rgb[i][c] / 255f * 2f - 1f, v[c * 6 + i], "channel " + c + ", pixel " + i);
      }
    }
    // one channel: PIL's luma of each pixel, rounded to a level
    float[] gray = new ImageFit(Shape.of(1, 2, 3), Resize.CROP, false).read(png);
    assertEquals(Math.round(0.299 * 128 + 0.587 * 64 + 0.114 * 1) / 255f * 2f - 1f, gray[1]);
    DataFileException small = assertThrows(DataFileException.class,
        () -> new ImageFit(Shape.of(3, 4, 4), Resize.CROP, false).read(png));
    assertEquals(png, small.file());
    assertTrue(small.getMessage().contains("is 3x2, smaller than the target 4x4"), small.getMessage());
    assertEquals(48, new ImageFit(Shape.of(3, 4, 4), Resize.CROP, true).read(png).length, "enlarged when upscale");
    // into a given array, with the file's size before the fit (an inpainting mask is checked against its picture's)
    float[] into = new float[50];
    ImageInfo info = new ImageFit(Shape.of(3, 4, 4), Resize.CROP, true).read(png, into);
    assertEquals(new ImageInfo(3, 2, "RGB"), info);
    assertArrayEquals(new ImageFit(Shape.of(3, 4, 4), Resize.CROP, true).read(png), java.util.Arrays.copyOf(into, 48));
    assertThrows(IllegalArgumentException.class, () -> new ImageFit(Shape.of(3, 4, 4), Resize.CROP, true).read(png,
        new float[47]));
    DataFileException missing = assertThrows(DataFileException.class,
        () -> new ImageFit(Shape.of(3, 2, 3), Resize.CROP, false).read(dir.resolve("none.png")));
    assertTrue(missing.getMessage().startsWith(dir.resolve("none.png") + ": no such file"), missing.getMessage());
  }

  /**
   * An inpainting mask from Java reads as {@code sample --mask} does: fitted as its picture (here an enlarged 4x2 file
   * to 8x8, crop), thresholded at level 128 (white regenerate), and refused naming the file where its size is not
   * the picture's.
   */
  @Test
  void aMaskIsFittedAsItsPictureThresholdedAndCheckedAgainstItsSize(@org.junit.jupiter.api.io.TempDir
      java.nio.file.Path dir) throws java.io.IOException {
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(4, 2, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
    int[] levels = {255, 128, 127, 0, 0, 200, 255, 10};
    for (int i = 0; i < levels.length; i++) {
      img.getRaster().setSample(i % 4, i / 4, 0, levels[i]);
    }
    java.nio.file.Path mask = dir.resolve("mask.png");
    javax.imageio.ImageIO.write(img, "png", mask.toFile());
    ImageFit fit = new ImageFit(Shape.of(3, 4, 4), Resize.CROP, true);
    float[] m = fit.readMask(mask, new ImageInfo(4, 2, "RGB"));
    // the same fit in one channel, then level >= 128 -> 1: computed here from the levels, not from the method
    float[] gray = new ImageFit(Shape.of(1, 4, 4), Resize.CROP, true).read(mask);
    assertEquals(16, m.length);
    for (int p = 0; p < 16; p++) {
      int level = Math.round((gray[p] + 1) / 2 * 255);
      assertEquals(level >= 128 ? 1f : 0f, m[p], "pixel " + p + " at level " + level);
    }
    // the 4x2 crops to its centre 2x2 (x 1..2) enlarged by 2: levels 128, 127 / 200, 255
    assertArrayEquals(new float[] {1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}, m);
    DataFileException other = assertThrows(DataFileException.class,
        () -> fit.readMask(mask, new ImageInfo(5, 2, "RGB")));
    assertEquals(mask, other.file());
    assertEquals(mask + ": is 4x2, its picture 5x2; a mask must be its picture's size (white: regenerate, black: keep)",
        other.getMessage());
    assertThrows(NullPointerException.class, () -> fit.readMask(mask, null));
    assertArrayEquals(new float[] {1, 1, 0, 0}, ImageFit.thresholdMask(new float[] {1, 1 / 255f, -1 / 255f, -1}));
  }

  /** A decoder's bare number (ImageIO's decoders throw "-3" on some damaged files) is said in words. */
  @Test
  void aDecodersBareNumberIsSaidInWords() {
    assertEquals("the decoder read outside its data (-3)",
        ImageDecoder.describe(new ArrayIndexOutOfBoundsException("-3")));
    assertEquals("the decoder failed (42)", ImageDecoder.describe(new IllegalStateException("42")));
    assertEquals("Unexpected end of ZLIB input stream",
        ImageDecoder.describe(new java.io.IOException("Unexpected end of ZLIB input stream")));
  }

  /**
   * The old path: the whole image decoded (every step-th pixel past 16.7 million), then fitted. A crop now decodes
   * only the part it reads; the bytes must be the same, PNG and JPEG, gray and RGB, wide and tall.
   */
  private static byte[] fittedWhole(java.nio.file.Path file, ImageFit fit) throws java.io.IOException {
    try (javax.imageio.stream.ImageInputStream in = javax.imageio.ImageIO.createImageInputStream(file.toFile())) {
      javax.imageio.ImageReader reader = javax.imageio.ImageIO.getImageReaders(in).next();
      try {
        reader.setInput(in, true, true);
        int w = reader.getWidth(0);
        int h = reader.getHeight(0);
        javax.imageio.ImageReadParam param = reader.getDefaultReadParam();
        int step = ImageDecoder.subsampling(w, h, fit);
        if (step > 1) {
          param.setSourceSubsampling(step, step, 0, 0);
        }
        java.awt.image.BufferedImage image = reader.read(0, param);
        byte[] out = new byte[fit.shape().size()];
        fit.apply(image.getWidth(), image.getHeight(), ImageDecoder.rows(image, fit.channels()), out, 0);
        return out;
      } finally {
        reader.dispose();
      }
    }
  }

  @Test
  void aCropDecodesOnlyItsPartAndGivesTheBytesOfTheWholeImage(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws java.io.IOException {
    java.util.Random random = new java.util.Random(11);
    int[][] sizes = {{97, 61}, {61, 97}, {300, 40}, {33, 33}, {40, 301}, {4400, 3900}};
    int n = 0;
    for (int[] size : sizes) {
      int w = size[0];
      int h = size[1];
      boolean big = (long) w * h > ImageDecoder.MAX_DECODED_PIXELS; // decoded every 2nd pixel: the part on that grid
      java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h,
          big ? java.awt.image.BufferedImage.TYPE_BYTE_GRAY : java.awt.image.BufferedImage.TYPE_INT_RGB);
      if (big) {
        byte[] data = ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int p = 0; p < data.length; p++) {
          data[p] = (byte) ((p % w) * 7 + (p / w) * 13 + ((p * 2654435761L) >>> 28));
        }
      }
      for (int y = 0; y < (big ? 0 : h); y++) {
        for (int x = 0; x < w; x++) {
          // smooth with some noise: JPEG's blocks and chroma subsampling have something to work on
          int r = (x * 255 / w + random.nextInt(40)) & 0xff;
          int g = (y * 255 / h + random.nextInt(40)) & 0xff;
          img.setRGB(x, y, (r << 16) | (g << 8) | ((r ^ g) & 0xff));
        }
      }
      for (String format : big ? new String[] {"png"} : new String[] {"png", "jpg"}) {
        java.nio.file.Path file = dir.resolve(w + "x" + h + "." + format);
        assertTrue(javax.imageio.ImageIO.write(img, format, file.toFile()));
        for (ImageFit fit : List.of(new ImageFit(Shape.of(3, 16, 16), Resize.CROP, false),
            new ImageFit(Shape.of(1, 8, 24), Resize.CROP, false), new ImageFit(Shape.of(3, 32, 32), Resize.CROP, true),
            new ImageFit(Shape.of(3, 16, 16), Resize.PAD, false))) {
          if (fit.problem(w, h).isPresent()) {
            continue;
          }
          byte[] part = new byte[fit.shape().size()];
          ImageDecoder.read(file, fit, part, 0);
          assertArrayEquals(fittedWhole(file, fit), part, file.getFileName() + " " + fit);
          n++;
        }
      }
    }
    assertTrue(n >= 30, n + " comparisons");
    int[] region = new ImageFit(Shape.of(3, 1024, 1024), Resize.CROP, false).region(1 << 20, 1024);
    assertArrayEquals(new int[] {(1 << 19) - 512, (1 << 19) + 512, 0, 1024}, region,
        "a 2^20 x 1024 image cropped to 1024 x 1024 reads its middle 1024 columns");
  }
}
