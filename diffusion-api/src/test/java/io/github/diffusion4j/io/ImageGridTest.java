package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import java.awt.GraphicsEnvironment;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageGridTest {
  @TempDir Path dir;

  static int rgb(int r, int g, int b) {
    return (r << 16) | (g << 8) | b;
  }

  /** Two 2x2 RGB images: image 0 has pixel (y, x) = (x/2, y/2, 1), image 1 is (1, 0, 0.5). */
  static float[] twoImages() {
    float[] v = new float[2 * 3 * 4];
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 2; x++) {
        v[0 * 4 + y * 2 + x] = x / 2f;
        v[1 * 4 + y * 2 + x] = y / 2f;
        v[2 * 4 + y * 2 + x] = 1f;
        v[12 + y * 2 + x] = 1f;
        v[16 + y * 2 + x] = 0f;
        v[20 + y * 2 + x] = 0.5f;
      }
    }
    return v;
  }

  @Test
  void laysOutScalesAndConvertsLikeTorchvision() throws IOException {
    ImageGrid.Options o = ImageGrid.Options.defaults().withNrow(2).withPadding(1).withMinCellPixels(4);
    BufferedImage img = ImageGrid.render(twoImages(), Shape.of(2, 3, 2, 2), o);
    // scale 2: cells of 4x4; width = 2 * (4 + 1) + 1, height = 1 * (4 + 1) + 1
    assertEquals(11, img.getWidth());
    assertEquals(6, img.getHeight());
    int[][] expected = new int[6][11]; // zeros: black padding
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 2; x++) {
        // 0.5 -> (int) (0.5 * 255 + 0.5) = 128
        int c0 = rgb(x == 0 ? 0 : 128, y == 0 ? 0 : 128, 255);
        int c1 = rgb(255, 0, 128);
        for (int dy = 0; dy < 2; dy++) {
          for (int dx = 0; dx < 2; dx++) {
            expected[1 + 2 * y + dy][1 + 2 * x + dx] = c0;
            expected[1 + 2 * y + dy][6 + 2 * x + dx] = c1;
          }
        }
      }
    }
    for (int y = 0; y < 6; y++) {
      for (int x = 0; x < 11; x++) {
        assertEquals(expected[y][x], img.getRGB(x, y) & 0xffffff, "pixel " + x + "," + y);
      }
    }
    // the PNG on disk decodes to the same pixels
    Path png = dir.resolve("grid.png");
    ImageGrid.writePng(png, twoImages(), Shape.of(2, 3, 2, 2), o);
    BufferedImage back = ImageIO.read(png.toFile());
    assertEquals(11, back.getWidth());
    assertEquals(6, back.getHeight());
    for (int y = 0; y < 6; y++) {
      for (int x = 0; x < 11; x++) {
        assertEquals(expected[y][x], back.getRGB(x, y) & 0xffffff);
      }
    }
    try (var s = Files.list(dir)) {
      assertEquals(List.of(png), s.toList(), "no temporary left behind");
    }
  }

  /**
   * Grey levels are the bytes torchvision's {@code save_image} writes, {@code x.mul(255).add_(0.5).clamp_(0, 255)
   * .to(torch.uint8)}: the expected bytes were computed with PyTorch 1.13 for these float32 values. A floor of
   * {@code x * 256} (equal to the rounding at 0.5 and 0.2) differs at 0.1, 0.3, 0.002 and 0.998.
   */
  @Test
  void greyLevelsAreTheBytesTorchvisionWrites() {
    float[] v = {0.1f, 0.3f, 0.7f, 0.999f, 0.002f, 0.998f};
    int[] torch = {26, 77, 179, 255, 1, 254};
    ImageGrid.Options o = ImageGrid.Options.defaults().withPadding(0).withMinCellPixels(1);
    BufferedImage img = ImageGrid.render(v, Shape.of(1, 1, 1, v.length), o);
    assertEquals(v.length, img.getWidth());
    for (int x = 0; x < v.length; x++) {
      assertEquals(rgb(torch[x], torch[x], torch[x]), img.getRGB(x, 0) & 0xffffff, "value " + v[x]);
    }
  }

  @Test
  void enlargesTheTutorialsFiveByFiveImagesToVisibleCells() {
    float[] v = new float[10 * 3 * 25];
    BufferedImage img = ImageGrid.render(v, Shape.of(10, 3, 5, 5), ImageGrid.Options.defaults());
    // scale ceil(64 / 5) = 13: 65-pixel cells; 8 per row, 2 rows, padding 2
    assertEquals(13, ImageGrid.scaleFor(5, 5, 64));
    assertEquals(8 * (65 + 2) + 2, img.getWidth());
    assertEquals(2 * (65 + 2) + 2, img.getHeight());
    assertEquals(1, ImageGrid.scaleFor(100, 80, 64));
    assertEquals(3, ImageGrid.scaleFor(28, 28, 64));
  }

  @Test
  void greyImagesClampingAndPadValue() {
    float[] v = {-0.5f, 1.5f, Float.NaN, 0.2f};
    ImageGrid.Options o =
        ImageGrid.Options.defaults().withPadding(1).withMinCellPixels(1).withPadValue(1.0);
    BufferedImage img = ImageGrid.render(v, Shape.of(1, 1, 2, 2), o);
    assertEquals(4, img.getWidth());
    assertEquals(0xffffff, img.getRGB(0, 0) & 0xffffff, "white padding");
    assertEquals(0x000000, img.getRGB(1, 1) & 0xffffff, "-0.5 clamps to 0");
    assertEquals(0xffffff, img.getRGB(2, 1) & 0xffffff, "1.5 clamps to 255");
    assertEquals(0x000000, img.getRGB(1, 2) & 0xffffff, "NaN is 0");
    int g = (int) (0.2f * 255 + 0.5f); // 51
    assertEquals(rgb(g, g, g), img.getRGB(2, 2) & 0xffffff);
  }

  @Test
  void titlesGetTheirOwnBandAndLeaveTheCellsAlone() {
    float[] v = new float[3 * 3 * 25];
    java.util.Arrays.fill(v, 1f);
    ImageGrid.Options o =
        ImageGrid.Options.defaults().withColumnTitles(List.of("Step 0", "Step 40", "Step 80"));
    BufferedImage titled = ImageGrid.render(v, Shape.of(3, 3, 5, 5), o);
    BufferedImage plain = ImageGrid.render(v, Shape.of(3, 3, 5, 5), ImageGrid.Options.defaults());
    assertEquals(plain.getHeight() + ImageGrid.TITLE_BAND, titled.getHeight());
    assertEquals(plain.getWidth(), titled.getWidth(), "short titles fit in 65-pixel cells");
    for (int y = 0; y < plain.getHeight(); y++) {
      for (int x = 0; x < plain.getWidth(); x++) {
        assertEquals(plain.getRGB(x, y), titled.getRGB(x, y + ImageGrid.TITLE_BAND));
      }
    }
    boolean fonts = GraphicsEnvironment.getLocalGraphicsEnvironment().getAvailableFontFamilyNames().length > 0;
    if (fonts) {
      int ink = 0;
      for (int y = 0; y < ImageGrid.TITLE_BAND; y++) {
        for (int x = 0; x < titled.getWidth(); x++) {
          ink += (titled.getRGB(x, y) & 0xffffff) != 0 ? 1 : 0;
        }
      }
      assertTrue(ink > 20, "title text drawn: " + ink + " lit pixels");
    }
    BufferedImage rows =
        ImageGrid.render(v, Shape.of(3, 3, 5, 5), ImageGrid.Options.defaults().withNrow(1).withRowTitles(List.of("a", "b", "c")));
    assertTrue(rows.getWidth() > 65 + 4, "a band left of the rows");
  }

  @Test
  void longTitlesWidenTheCells() {
    float[] v = new float[2 * 25];
    ImageGrid.Options o =
        ImageGrid.Options.defaults()
            .withColumnTitles(List.of("Batch 0: Gradient with Noise Applied", "x"));
    BufferedImage img = ImageGrid.render(v, Shape.of(2, 1, 5, 5), o);
    assertTrue(img.getWidth() > 2 * (65 + 2) + 2, "cells grow to fit the title: " + img.getWidth());
    assertEquals(0, (img.getWidth() - 2 - 2 * 2) % (2 * 5), "still an integer scale of 5 pixels");
  }

  @Test
  void moreColumnTitlesThanImagesAreRefused() {
    // nrow 8 but 2 images: 2 columns, and a third title would be drawn past the grid's right edge
    ImageGrid.Options o = ImageGrid.Options.defaults().withColumnTitles(List.of("a", "b", "c"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.render(new float[50], Shape.of(2, 1, 5, 5), o));
    assertEquals("3 column titles for 2 columns (2 images, nrow 8)", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ImageGrid.checkSize(Shape.of(2, 1, 5, 5), o));
    assertThrows(IllegalArgumentException.class, () -> ImageGrid.canvas(Shape.of(1, 1, 5, 5), o));
    // as many titles as columns, or fewer, are drawn
    ImageGrid.render(new float[75], Shape.of(3, 1, 5, 5), o);
    ImageGrid.render(new float[100], Shape.of(4, 1, 5, 5), o);
  }

  @Test
  void rejectsBadInput() {
    ImageGrid.Options d = ImageGrid.Options.defaults();
    assertThrows(IllegalArgumentException.class, () -> ImageGrid.render(new float[50], Shape.of(2, 25), d));
    assertThrows(IllegalArgumentException.class, () -> ImageGrid.render(new float[50], Shape.of(1, 2, 5, 5), d));
    assertThrows(IllegalArgumentException.class, () -> ImageGrid.render(new float[49], Shape.of(2, 1, 5, 5), d));
    assertThrows(IllegalArgumentException.class, () -> d.withNrow(0));
    assertThrows(IllegalArgumentException.class, () -> d.withPadValue(2));
    assertThrows(IllegalArgumentException.class, () -> d.withNrow(1).withColumnTitles(List.of("a", "b")));
    assertThrows(
        IllegalArgumentException.class,
        () -> ImageGrid.render(new float[25], Shape.of(1, 1, 5, 5), d.withRowTitles(List.of("a", "b"))));
  }

  /**
   * The likely slips name what the grid takes: an image's shape where the batch's belongs ({@code d.imageShape()} for
   * {@code Shape.batchOf(n, d.imageShape())}) is told so, not counted as a length mismatch, and a count that does not
   * match the values says how many images of that shape they are.
   */
  @Test
  void anImageShapeForTheBatchShapeAndAWrongCountAreNamed() {
    ImageGrid.Options d = ImageGrid.Options.defaults();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ImageGrid.writePng(Path.of("unwritten.png"), new float[150], Shape.of(3, 5, 5), d));
    assertEquals("images must have shape [N, C, H, W] (Shape.batchOf(n, imageShape)) with C = 1 or 3, got [3, 5, 5]",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.render(new float[150], Shape.of(4, 3, 5, 5), d));
    assertEquals("images: shape [4, 3, 5, 5] needs 300 values, got 150 (2 images of [3, 5, 5])", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.render(new float[149], Shape.of(2, 3, 5, 5), d));
    assertEquals("images: shape [2, 3, 5, 5] needs 150 values, got 149 (not a whole number of [3, 5, 5] images)",
        e.getMessage());
  }

  @Test
  void aCanvasDrawnBatchByBatchIsTheRenderedGrid() {
    float[] v = new float[7 * 3 * 4 * 4];
    for (int i = 0; i < v.length; i++) {
      v[i] = (i * 37 % 101) / 100f;
    }
    Shape shape = Shape.of(7, 3, 4, 4);
    ImageGrid.Options o = ImageGrid.Options.defaults().withNrow(3);
    BufferedImage whole = ImageGrid.render(v, shape, o);
    ImageGrid.Canvas c = ImageGrid.canvas(shape, o);
    int k = 3 * 4 * 4;
    c.draw(0, java.util.Arrays.copyOfRange(v, 0, 3 * k), 3);
    c.draw(3, java.util.Arrays.copyOfRange(v, 3 * k, 7 * k), 4);
    BufferedImage batched = c.finish();
    assertEquals(whole.getWidth(), batched.getWidth());
    assertEquals(whole.getHeight(), batched.getHeight());
    for (int y = 0; y < whole.getHeight(); y++) {
      for (int x = 0; x < whole.getWidth(); x++) {
        assertEquals(whole.getRGB(x, y), batched.getRGB(x, y), "pixel " + x + ", " + y);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> c.draw(6, v, 2), "past the last cell");
  }

  @Test
  void aGridTooLargeToShowIsRefusedBeforeAnythingIsAllocated() {
    // a million 5x5 images in a square grid would be about 67,000 pixels on a side: 4.5e9 pixels, 18 GB
    Shape shape = Shape.of(1_000_000, 3, 5, 5);
    ImageGrid.Options o = ImageGrid.Options.defaults().withNrow(1000);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.checkSize(shape, o));
    assertTrue(e.getMessage().contains("more than the " + ImageGrid.MAX_PIXELS + " a grid may have"), e.getMessage());
    assertTrue(e.getMessage().contains("at most 14884 such images"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ImageGrid.canvas(shape, o));
    // the largest square grid the message names does fit
    ImageGrid.checkSize(Shape.of(14884, 3, 5, 5), o.withNrow(122));
    // one long row is refused too, naming what fits in one row (a square grid's count was named, which a strip of
    // that many does not fit): cells of 5 x 13 = 65 pixels plus 2 of padding, a row 69 high, so 67,108,864 / 69 =
    // 972,592 pixels wide at most: (972,592 - 2) / 67 = 14,516 cells
    IllegalArgumentException row = assertThrows(IllegalArgumentException.class,
        () -> ImageGrid.checkSize(Shape.of(2_000_000, 1, 5, 5), o.withNrow(2_000_000)));
    assertTrue(row.getMessage().endsWith("at most 14516 such images fit in one row"), row.getMessage());
    ImageGrid.checkSize(Shape.of(14516, 1, 5, 5), o.withNrow(14516));
    assertThrows(IllegalArgumentException.class, () -> ImageGrid.checkSize(Shape.of(14517, 1, 5, 5), o.withNrow(14517)));
  }

  /** Four grey 1x1 images in a 2x2 grid, cells enlarged to 2x2, padding 1: every pixel where torchvision puts it. */
  @Test
  void aGridOfSeveralRowsPutsEachImageInItsCell() {
    float[] v = {0.2f, 0.4f, 0.6f, 0.8f};
    ImageGrid.Options o = ImageGrid.Options.defaults().withNrow(2).withPadding(1).withMinCellPixels(2);
    ImageGrid.Canvas c = ImageGrid.canvas(Shape.of(4, 1, 1, 1), o);
    BufferedImage img = c.draw(0, new float[] {0.2f, 0.4f}, 2).draw(2, new float[] {0.6f, 0.8f}, 2)
        .draw(4, new float[0], 0).finish();
    assertEquals(7, img.getWidth());
    assertEquals(7, img.getHeight());
    for (int y = 0; y < 7; y++) {
      for (int x = 0; x < 7; x++) {
        int col = x % 3 == 0 ? -1 : x / 3;
        int row = y % 3 == 0 ? -1 : y / 3;
        int g = col < 0 || row < 0 ? 0 : ImageGrid.toByte(v[2 * row + col]);
        assertEquals(rgb(g, g, g), img.getRGB(x, y) & 0xffffff, "pixel " + x + "," + y);
      }
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.draw(0, new float[2], 3));
    assertEquals("images 0..2 do not fit a grid of 4 from 2 values", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> c.draw(0, new float[4], -1));
    assertThrows(IllegalArgumentException.class, () -> c.draw(-1, new float[4], 1));
    // images of 4 values: two need 8
    ImageGrid.Canvas c4 = ImageGrid.canvas(Shape.of(2, 1, 2, 2), o);
    e = assertThrows(IllegalArgumentException.class, () -> c4.draw(0, new float[7], 2));
    assertEquals("images 0..1 do not fit a grid of 2 from 7 values", e.getMessage());
  }

  @Test
  void limitsAreInclusive() {
    ImageGrid.Options o = ImageGrid.Options.defaults().withPadding(0).withMinCellPixels(1);
    assertEquals(0, o.padding());
    assertEquals(2, o.withNrow(2).withColumnTitles(List.of("a", "b")).columnTitles().size(), "one title per column");
    // exactly MAX_PIXELS pixels: as a square, a row, a column
    ImageGrid.checkSize(Shape.of(1, 1, 8192, 8192), o);
    ImageGrid.checkSize(Shape.of(1, 1, 1, 1 << 26), o);
    ImageGrid.checkSize(Shape.of(1, 1, 1 << 26, 1), o);
    assertThrows(IllegalArgumentException.class, () -> ImageGrid.checkSize(Shape.of(1, 1, 1, (1 << 26) + 1), o));
    assertThrows(IllegalArgumentException.class, () -> ImageGrid.checkSize(Shape.of(1, 1, (1 << 26) + 1, 1), o));
    assertThrows(IllegalArgumentException.class, () -> ImageGrid.checkSize(Shape.of(1, 1, 8193, 8192), o));
    assertThrows(IllegalArgumentException.class, () -> o.withPadding(-1));
    assertThrows(IllegalArgumentException.class, () -> o.withMinCellPixels(0));
  }

  /** The square-grid advice: 8192 pixels a side; cells of 2 + 10 across and 1 + 10 down after padding 10. */
  @Test
  void theAdviceCountsTheSquareGridThatFits() {
    ImageGrid.Options o = ImageGrid.Options.defaults().withPadding(10).withMinCellPixels(1).withNrow(1000);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ImageGrid.checkSize(Shape.of(1_000_000, 1, 1, 2), o));
    // across (8192 - 10) / 12 = 681, down (8192 - 10) / 11 = 743
    assertTrue(e.getMessage().contains("at most " + 681 * 743 + " such images"), e.getMessage());
  }

  /** The share of lit pixels, and their centre, in a region: {count, mean x, mean y}. */
  private static double[] ink(BufferedImage img, int x0, int x1, int y0, int y1) {
    double n = 0;
    double sx = 0;
    double sy = 0;
    for (int y = y0; y < y1; y++) {
      for (int x = x0; x < x1; x++) {
        if ((img.getRGB(x, y) & 0xffffff) != 0) {
          n++;
          sx += x;
          sy += y;
        }
      }
    }
    return new double[] {n, sx / n, sy / n};
  }

  /**
   * Titles are centred over their column and beside their row. Tolerance 3 pixels: the centre of a glyph's ink is
   * not the centre of its advance width, and depends on the font; the mutations this guards against (a sign or a
   * halving got wrong) move a title by 10 pixels or more.
   */
  @Test
  void titlesAreCentredOnTheirCells() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        GraphicsEnvironment.getLocalGraphicsEnvironment().getAvailableFontFamilyNames().length > 0, "no fonts");
    float[] v = new float[4 * 25]; // black images on black padding: only the titles are lit
    ImageGrid.Options o = ImageGrid.Options.defaults().withNrow(2).withPadding(10)
        .withColumnTitles(List.of("OO", "OO")).withRowTitles(List.of("OO", "OO"));
    BufferedImage img = ImageGrid.render(v, Shape.of(4, 1, 5, 5), o);
    int cell = 65; // 5 pixels enlarged 13 times
    int left = img.getWidth() - (2 * (cell + 10) + 10);
    assertTrue(left > 8, "a band for the row titles: " + left);
    assertEquals(ImageGrid.TITLE_BAND + 2 * (cell + 10) + 10, img.getHeight());
    for (int i = 0; i < 2; i++) {
      double[] col = ink(img, left + i * (cell + 10), left + (i + 1) * (cell + 10) + 10, 0, ImageGrid.TITLE_BAND);
      assertTrue(col[0] > 10, "column title " + i + " drawn");
      assertEquals(left + 10 + i * (cell + 10) + cell / 2.0, col[1], 3, "column title " + i + " x");
      assertEquals(ImageGrid.TITLE_BAND / 2.0, col[2], 3, "column title " + i + " y");
      double[] row = ink(img, 0, left, ImageGrid.TITLE_BAND + i * (cell + 10),
          ImageGrid.TITLE_BAND + (i + 1) * (cell + 10) + 10);
      assertTrue(row[0] > 10, "row title " + i + " drawn");
      assertEquals(left / 2.0, row[1], 3, "row title " + i + " x");
      assertEquals(ImageGrid.TITLE_BAND + 10 + i * (cell + 10) + cell / 2.0, row[2], 3, "row title " + i + " y");
    }
    // antialiased: the edges of the glyphs are shades between the ink and the padding
    boolean shades = false;
    for (int x = 0; x < img.getWidth() && !shades; x++) {
      for (int y = 0; y < ImageGrid.TITLE_BAND && !shades; y++) {
        int g = img.getRGB(x, y) & 0xff;
        shades = g > 0 && g < 255;
      }
    }
    assertTrue(shades, "antialiased text");
  }

  /** The ink is white on a dark padding and black from a padding of 0.5 on, in the font's own width. */
  @Test
  void titleInkContrastsWithThePaddingAndTitlesAreMeasuredInTheirFont() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        GraphicsEnvironment.getLocalGraphicsEnvironment().getAvailableFontFamilyNames().length > 0, "no fonts");
    float[] v = new float[25];
    for (double pad : new double[] {0.5, 1.0}) {
      BufferedImage img = ImageGrid.render(v, Shape.of(1, 1, 5, 5),
          ImageGrid.Options.defaults().withPadValue(pad).withColumnTitles(List.of("HHH")));
      int darkest = 255;
      int brightest = 0;
      for (int y = 0; y < ImageGrid.TITLE_BAND; y++) {
        for (int x = 0; x < img.getWidth(); x++) {
          darkest = Math.min(darkest, img.getRGB(x, y) & 0xff);
          brightest = Math.max(brightest, img.getRGB(x, y) & 0xff);
        }
      }
      assertTrue(darkest < 60, "black ink on padding " + pad + ": darkest " + darkest);
      assertEquals(ImageGrid.toByte((float) pad), brightest, "nothing brighter than the padding " + pad);
    }
    // a title much wider than its 65-pixel cell sets the scale by its measured width: 60 'i's are far narrower than
    // the 7-pixel fallback per character
    String narrow = "i".repeat(60);
    java.awt.Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
    int width = g.getFontMetrics(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12)).stringWidth(narrow);
    g.dispose();
    BufferedImage img = ImageGrid.render(v, Shape.of(1, 1, 5, 5),
        ImageGrid.Options.defaults().withColumnTitles(List.of(narrow)));
    int scale = Math.max(13, (width + 8 + 4) / 5);
    assertEquals(5 * scale + 4, img.getWidth(), "title width " + width);
  }
}
