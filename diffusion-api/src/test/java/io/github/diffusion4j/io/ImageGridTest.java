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
    // one long row is refused too
    assertThrows(IllegalArgumentException.class,
        () -> ImageGrid.checkSize(Shape.of(2_000_000, 1, 5, 5), o.withNrow(2_000_000)));
  }
}
