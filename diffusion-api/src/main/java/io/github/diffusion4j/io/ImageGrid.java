package io.github.diffusion4j.io;

import io.github.diffusion4j.tensor.Shape;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.awt.image.RenderedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lays a batch of images out as one picture, like torchvision's {@code make_grid} and {@code
 * save_image}: images in rows of {@code nrow}, separated and surrounded by {@code padding} pixels, each
 * value {@code v} in {@code [0, 1]} becoming the byte {@code (int) (v * 255 + 0.5)} clamped to
 * {@code [0, 255]} (NaN becomes 0). Tiny images are enlarged by an integer factor, each pixel a square
 * block, so that every cell is at least {@link Options#minCellPixels()} wide and high: the tutorial's
 * 5x5 images become 65x65 cells. Optional titles go above the columns (the tutorial's {@code "Step 40"})
 * and left of the rows.
 *
 * <p>Titles are drawn with the JDK's fonts; where none are installed (a bare container), they are
 * left out with one warning and the layout stays the same.
 */
public final class ImageGrid {
  private static final Logger LOG = LoggerFactory.getLogger(ImageGrid.class);

  /** The height of the band above the columns that holds their titles, in pixels. */
  public static final int TITLE_BAND = 20;

  private static final int TITLE_MARGIN = 4;
  private static final int FALLBACK_CHAR_WIDTH = 7;
  private static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
  private static volatile boolean fontsFailed;

  private ImageGrid() {}

  /**
   * How a grid looks.
   *
   * @param nrow images per row (torchvision's name), at least 1
   * @param padding pixels between and around cells, at least 0
   * @param minCellPixels the smallest cell side after enlarging, at least 1 (1 disables enlarging)
   * @param padValue the grey level of the padding and title bands, in {@code [0, 1]}
   * @param columnTitles titles above the columns, at most {@code nrow} (may be empty); a grid of fewer images than
   *     {@code nrow} has as many columns as images, and refuses more titles than that
   * @param rowTitles titles left of the rows (may be empty)
   */
  public record Options(
      int nrow,
      int padding,
      int minCellPixels,
      double padValue,
      List<String> columnTitles,
      List<String> rowTitles) {

    /**
     * Validates and copies.
     *
     * @param nrow images per row (torchvision's name), at least 1
     * @param padding pixels between and around cells, at least 0
     * @param minCellPixels the smallest cell side after enlarging, at least 1 (1 disables enlarging)
     * @param padValue the grey level of the padding and title bands, in {@code [0, 1]}
     * @param columnTitles titles above the columns, at most {@code nrow} (may be empty); a grid of fewer images than
     *     {@code nrow} has as many columns as images, and refuses more titles than that
     * @param rowTitles titles left of the rows (may be empty)
     * @throws IllegalArgumentException if a value is out of range
     */
    public Options {
      if (nrow < 1) {
        throw new IllegalArgumentException("nrow must be at least 1, got " + nrow);
      }
      if (padding < 0) {
        throw new IllegalArgumentException("padding must be at least 0, got " + padding);
      }
      if (minCellPixels < 1) {
        throw new IllegalArgumentException("minCellPixels must be at least 1, got " + minCellPixels);
      }
      if (!(padValue >= 0 && padValue <= 1)) {
        throw new IllegalArgumentException("padValue must be in [0, 1], got " + padValue);
      }
      columnTitles = List.copyOf(columnTitles == null ? List.of() : columnTitles);
      rowTitles = List.copyOf(rowTitles == null ? List.of() : rowTitles);
      if (columnTitles.size() > nrow) {
        throw new IllegalArgumentException(
            columnTitles.size() + " column titles for " + nrow + " columns (nrow)");
      }
    }

    /**
     * torchvision's defaults ({@code nrow = 8}, {@code padding = 2}, black padding), cells of at
     * least 64 pixels, no titles.
     *
     * @return the options
     */
    public static Options defaults() {
      return new Options(8, 2, 64, 0.0, List.of(), List.of());
    }

    /**
     * These options with another {@code nrow}.
     *
     * @param value images per row
     * @return the new options
     */
    public Options withNrow(int value) {
      return new Options(value, padding, minCellPixels, padValue, columnTitles, rowTitles);
    }

    /**
     * These options with another padding.
     *
     * @param value pixels
     * @return the new options
     */
    public Options withPadding(int value) {
      return new Options(nrow, value, minCellPixels, padValue, columnTitles, rowTitles);
    }

    /**
     * These options with another smallest cell side.
     *
     * @param value pixels (1: no enlarging)
     * @return the new options
     */
    public Options withMinCellPixels(int value) {
      return new Options(nrow, padding, value, padValue, columnTitles, rowTitles);
    }

    /**
     * These options with another padding grey level.
     *
     * @param value in {@code [0, 1]}
     * @return the new options
     */
    public Options withPadValue(double value) {
      return new Options(nrow, padding, minCellPixels, value, columnTitles, rowTitles);
    }

    /**
     * These options with column titles.
     *
     * @param titles at most {@code nrow}
     * @return the new options
     */
    public Options withColumnTitles(List<String> titles) {
      return new Options(nrow, padding, minCellPixels, padValue, titles, rowTitles);
    }

    /**
     * These options with row titles.
     *
     * @param titles one per row (fewer leaves the last rows untitled)
     * @return the new options
     */
    public Options withRowTitles(List<String> titles) {
      return new Options(nrow, padding, minCellPixels, padValue, columnTitles, titles);
    }
  }

  /**
   * The most pixels a grid may have: 2^26 (8192 x 8192, 256 MB as an RGB image). More images than fit are
   * better written as raw samples; a grid that would be larger is refused before anything is allocated.
   */
  public static final long MAX_PIXELS = 1L << 26;

  /**
   * Renders a grid.
   *
   * @param images {@code N * C * H * W} values, row-major
   * @param shape {@code [N, C, H, W]} with {@code C} 1 (grey) or 3 (RGB)
   * @param options the layout
   * @return an RGB image
   * @throws IllegalArgumentException if the shape or length is wrong, there are more row titles than
   *     rows or more column titles than columns (fewer images than {@code nrow} make as many columns as images), or
   *     the grid would have more than {@link #MAX_PIXELS} pixels
   */
  public static BufferedImage render(float[] images, Shape shape, Options options) {
    // the shape first: an image's [C, H, W] where the batch's belongs is the likelier slip than a wrong length
    checkSize(shape, options);
    if (images.length != shape.size()) {
      Shape image = Shape.of(shape.dim(1), shape.dim(2), shape.dim(3));
      String count = images.length % image.size() == 0
          ? images.length / image.size() + " images of " + image : "not a whole number of " + image + " images";
      throw new IllegalArgumentException(
          "images: shape " + shape + " needs " + shape.size() + " values, got " + images.length + " (" + count + ")");
    }
    // Java2D's font loading clears an interrupt of the calling thread: keep it for the caller
    return AtomicFiles.uninterrupted(() -> {
      Canvas canvas = canvas(shape, options);
      canvas.draw(0, images, shape.dim(0));
      return canvas.finish();
    });
  }

  /**
   * Whether images of this shape can be drawn: a grid (and a GIF of grids) shows 1 channel as gray and 3 as RGB,
   * nothing else (a model of 2 or 4 channels samples to {@code .npy} or {@code .safetensors} only).
   *
   * @param image {@code [C, H, W]}
   * @return whether {@code C} is 1 or 3
   */
  public static boolean canShow(Shape image) {
    return image.rank() == 3 && (image.dim(0) == 1 || image.dim(0) == 3);
  }

  /**
   * Checks that a grid fits in {@link #MAX_PIXELS} without allocating it.
   *
   * @param shape {@code [N, C, H, W]}
   * @param options the layout
   * @throws IllegalArgumentException if the shape is wrong, the titles outnumber the rows or columns, or the grid is
   *     too large; the message says how many pixels it would have
   */
  public static void checkSize(Shape shape, Options options) {
    new Layout(shape, options);
  }

  /**
   * An empty grid to draw images into as they come (e.g. batch by batch), so that only the picture is held
   * in memory, never all the images.
   *
   * @param shape {@code [N, C, H, W]} of all the images the grid will show
   * @param options the layout
   * @return the canvas
   * @throws IllegalArgumentException as {@link #checkSize}
   */
  public static Canvas canvas(Shape shape, Options options) {
    return new Canvas(new Layout(shape, options));
  }

  /** A grid being drawn: {@link #draw} the images, then {@link #finish()}. */
  public static final class Canvas {
    private final Layout l;
    private final BufferedImage img;
    private final int[] px;

    private Canvas(Layout layout) {
      this.l = layout;
      this.img = new BufferedImage((int) l.width, (int) l.height, BufferedImage.TYPE_INT_RGB);
      this.px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
      int g = toByte((float) l.options.padValue());
      Arrays.fill(px, (g << 16) | (g << 8) | g);
    }

    /**
     * Draws images into their cells.
     *
     * @param first the grid position of the first image
     * @param images at least {@code count} images, {@code C x H x W} values each
     * @param count how many to draw
     * @return this
     * @throws IllegalArgumentException if they do not fit the array or the grid
     */
    public Canvas draw(int first, float[] images, int count) {
      int plane = l.h * l.w;
      int item = l.c * plane;
      if (first < 0 || count < 0 || (long) first + count > l.n || (long) count * item > images.length) {
        throw new IllegalArgumentException("images " + first + ".." + ((long) first + count - 1) + " do not fit a grid of "
            + l.n + " from " + images.length + " values");
      }
      int scale = l.scale;
      for (int i = 0; i < count; i++) {
        int k = first + i;
        int x0 = l.left + l.pad + (k % l.cols) * (l.cellW + l.pad);
        int y0 = l.top + l.pad + (k / l.cols) * (l.cellH + l.pad);
        for (int y = 0; y < l.h; y++) {
          for (int x = 0; x < l.w; x++) {
            int base = i * item + y * l.w + x;
            int r = toByte(images[base]);
            int rgb =
                l.c == 1
                    ? (r << 16) | (r << 8) | r
                    : (r << 16) | (toByte(images[base + plane]) << 8) | toByte(images[base + 2 * plane]);
            for (int dy = 0; dy < scale; dy++) {
              int row = (y0 + y * scale + dy) * (int) l.width + x0 + x * scale;
              Arrays.fill(px, row, row + scale, rgb);
            }
          }
        }
      }
      return this;
    }

    /**
     * Draws the titles and returns the picture.
     *
     * @return the RGB image
     */
    public BufferedImage finish() {
      Options o = l.options;
      Color ink = o.padValue() < 0.5 ? Color.WHITE : Color.BLACK;
      for (int i = 0; i < o.columnTitles().size(); i++) {
        int cx = l.left + l.pad + i * (l.cellW + l.pad) + l.cellW / 2;
        drawCentered(img, o.columnTitles().get(i), cx, TITLE_BAND / 2, ink);
      }
      for (int i = 0; i < o.rowTitles().size(); i++) {
        int cy = l.top + l.pad + i * (l.cellH + l.pad) + l.cellH / 2;
        drawCentered(img, o.rowTitles().get(i), l.left / 2, cy, ink);
      }
      return img;
    }
  }

  /** Where everything goes in a grid, checked against {@link #MAX_PIXELS}. */
  private static final class Layout {
    final Options options;
    final int n;
    final int c;
    final int h;
    final int w;
    final int cols;
    final int rows;
    final int scale;
    final int cellW;
    final int cellH;
    final int pad;
    final int top;
    final int left;
    final long width;
    final long height;

    Layout(Shape shape, Options options) {
      if (shape.rank() != 4 || !canShow(Shape.of(shape.dim(1), shape.dim(2), shape.dim(3)))) {
        throw new IllegalArgumentException(
            "images must have shape [N, C, H, W] (Shape.batchOf(n, imageShape)) with C = 1 or 3, got " + shape);
      }
      this.options = options;
      n = shape.dim(0);
      c = shape.dim(1);
      h = shape.dim(2);
      w = shape.dim(3);
      cols = Math.min(options.nrow(), n);
      rows = (n + cols - 1) / cols;
      if (options.rowTitles().size() > rows) {
        throw new IllegalArgumentException(options.rowTitles().size() + " row titles for " + rows + " rows");
      }
      if (options.columnTitles().size() > cols) {
        // fewer images than nrow make fewer columns: a title beyond the last would be drawn past the grid's edge
        throw new IllegalArgumentException(options.columnTitles().size() + " column titles for " + cols
            + " columns (" + n + " image" + (n == 1 ? "" : "s") + ", nrow " + options.nrow() + ")");
      }
      int s = scaleFor(h, w, options.minCellPixels());
      int widest = 0;
      for (String t : options.columnTitles()) {
        widest = Math.max(widest, textWidth(t) + 2 * TITLE_MARGIN);
      }
      scale = Math.max(s, (widest + w - 1) / w); // titles fit above their cell
      pad = options.padding();
      top = options.columnTitles().isEmpty() ? 0 : TITLE_BAND;
      int widestRow = 0;
      for (String t : options.rowTitles()) {
        widestRow = Math.max(widestRow, textWidth(t) + 2 * TITLE_MARGIN);
      }
      left = widestRow;
      long cw = (long) w * scale;
      long ch = (long) h * scale;
      width = left + (long) cols * (cw + pad) + pad;
      height = top + (long) rows * (ch + pad) + pad;
      if (width > MAX_PIXELS || height > MAX_PIXELS || width * height > MAX_PIXELS) {
        throw new IllegalArgumentException(
            "a grid of " + n + " images of " + h + "x" + w + " (cells scaled by " + scale + ") would be " + width + " x "
                + height + " pixels, more than the " + MAX_PIXELS + " a grid may have; at most "
                + (rows == 1 ? maxInOneRow(cw, ch, pad, top, left) + " such images fit in one row"
                    : maxImages(h, w, scale, pad) + " such images fit in a square grid"));
      }
      cellW = (int) cw;
      cellH = (int) ch;
    }

    /**
     * The most cells of {@code cw x ch} pixels in one row (a strip, as {@code interpolate} draws) within {@link
     * #MAX_PIXELS}, with its title band ({@code top}) and row titles ({@code left}).
     */
    private static long maxInOneRow(long cw, long ch, int pad, int top, int left) {
      long height = top + ch + 2L * pad;
      long widest = Math.min(MAX_PIXELS, MAX_PIXELS / height);
      return Math.max(0, (widest - left - pad) / (cw + pad));
    }

    /** The most images of a square grid (as many rows as columns) within {@link #MAX_PIXELS}. */
    private static long maxImages(int h, int w, int scale, int pad) {
      long side = (long) Math.floor(Math.sqrt((double) MAX_PIXELS));
      long across = Math.max(0, (side - pad) / ((long) w * scale + pad));
      long down = Math.max(0, (side - pad) / ((long) h * scale + pad));
      return across * down;
    }
  }

  /**
   * Renders a grid and writes it as a PNG, atomically.
   *
   * @param file the file
   * @param images the values
   * @param shape {@code [N, C, H, W]}
   * @param options the layout
   * @throws UncheckedIOException naming the file if writing fails
   */
  public static void writePng(Path file, float[] images, Shape shape, Options options) {
    writePng(file, render(images, shape, options));
  }

  /**
   * Writes an image as a PNG, atomically.
   *
   * @param file the file
   * @param image the image
   * @throws UncheckedIOException naming the file if writing fails
   */
  public static void writePng(Path file, RenderedImage image) {
    try {
      AtomicFiles.write(
          file,
          out -> ImageStreams.write(out, "png", writer -> writer.write(image)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + FileProblems.describe(e), e);
    }
  }

  /**
   * The integer enlargement that makes the smaller side of an {@code h x w} image at least
   * {@code minCell} pixels.
   *
   * @param h the height
   * @param w the width
   * @param minCell the smallest cell side
   * @return the factor, at least 1
   */
  public static int scaleFor(int h, int w, int minCell) {
    int side = Math.min(h, w);
    return Math.max(1, (minCell + side - 1) / side);
  }

  /**
   * The byte of a value in {@code [0, 1]}, as torchvision's {@code save_image}.
   *
   * @param v the value
   * @return {@code (int) (v * 255 + 0.5)} clamped to {@code [0, 255]}; 0 for NaN
   */
  static int toByte(float v) {
    if (!(v > 0)) {
      return 0;
    }
    if (v >= 1) {
      return 255;
    }
    return (int) (v * 255f + 0.5f);
  }

  private static int textWidth(String s) {
    if (!fontsFailed) {
      try {
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = probe.createGraphics();
        try {
          return g.getFontMetrics(FONT).stringWidth(s);
        } finally {
          g.dispose();
        }
      } catch (RuntimeException | Error e) {
        fontsUnavailable(e);
      }
    }
    return s.length() * FALLBACK_CHAR_WIDTH;
  }

  private static void drawCentered(BufferedImage img, String s, int cx, int cy, Color ink) {
    if (fontsFailed || s.isEmpty()) {
      return;
    }
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setFont(FONT);
      g.setColor(ink);
      FontMetrics fm = g.getFontMetrics();
      g.drawString(s, cx - fm.stringWidth(s) / 2, cy + (fm.getAscent() - fm.getDescent()) / 2);
    } catch (RuntimeException | Error e) {
      fontsUnavailable(e);
    } finally {
      g.dispose();
    }
  }

  /** No usable fonts (a headless system without fontconfig fonts): titles are left out. */
  private static void fontsUnavailable(Throwable e) {
    if (e instanceof VirtualMachineError vme) {
      throw vme;
    }
    if (!fontsFailed) {
      fontsFailed = true;
      LOG.warn("no usable fonts ({}); image titles are left out", e.toString());
    }
  }
}
