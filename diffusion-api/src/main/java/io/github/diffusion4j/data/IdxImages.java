package io.github.diffusion4j.data;

import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Reads the IDX files of MNIST and Fashion-MNIST: images (magic {@code 0x00000803}: unsigned bytes,
 * {@code N x rows x cols}) and labels (magic {@code 0x00000801}: unsigned bytes, {@code N}, each in
 * {@code 0..9}), plain or gzip-compressed (told by the gzip magic bytes, not by the name).
 *
 * <p>Images become a {@link Dataset} of shape {@code [1, H, W]} with {@code pixel / 255 * 2 - 1}, in
 * {@code [-1, 1]} ({@link Normalization}), optionally padded, centred, to {@code padTo x padTo} with the
 * background value -1 (a black pixel), and optionally limited to the first {@code limit} images:
 *
 * <pre>{@code
 * IdxImages.Result r = IdxImages.reader().padTo(32).limit(10_000)
 *     .read(Path.of("train-images-idx3-ubyte.gz"), Optional.of(Path.of("train-labels-idx1-ubyte.gz")));
 * }</pre>
 *
 * <p>Every problem with a file is a one-line {@link DataFileException}. A header is checked before
 * anything is allocated: its dimensions must be positive and the declared pixels at most {@link
 * #MAX_BYTES}; a plain file's length must equal the header plus the declared data, and its pixels are
 * converted as they are read. A compressed file's data length is known only when its gzip trailer
 * (ISIZE) states the length the header declares; then it is converted as it is read too. Otherwise its
 * data is read into a buffer that grows only as bytes arrive, and converted afterwards: a lying header
 * fails as truncated, not with an {@link OutOfMemoryError}. With a limit, only the first {@code limit}
 * images (and labels) of a compressed file are decompressed.
 *
 * <p>Instances are immutable: {@link #padTo} and {@link #limit} return new readers.
 */
public final class IdxImages {
  /** The magic number of an IDX images file: unsigned bytes, 3 dimensions. */
  public static final int IMAGES_MAGIC = 0x00000803;
  /** The magic number of an IDX labels file: unsigned bytes, 1 dimension. */
  public static final int LABELS_MAGIC = 0x00000801;
  /** The largest data a header may declare: 1 GiB (MNIST's 60,000 images are 47 MB). */
  public static final long MAX_BYTES = 1L << 30;
  /** The number of classes: labels are in {@code 0..CLASSES - 1}. */
  public static final int CLASSES = 10;

  private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;
  private static final float[] NORMALISED = Normalization.BYTE_VALUES;

  private final int padTo;
  private final int limit;

  private IdxImages(int padTo, int limit) {
    this.padTo = padTo;
    this.limit = limit;
  }

  /**
   * A reader that neither pads nor limits.
   *
   * @return the reader
   */
  public static IdxImages reader() {
    return new IdxImages(0, 0);
  }

  /**
   * Pads every image, centred, to {@code size x size} with -1 (a 28x28 image gets 2 pixels on each
   * side for 32); images larger than that are an error.
   *
   * @param size the padded height and width, or 0 for no padding
   * @return a new reader
   */
  public IdxImages padTo(int size) {
    if (size < 0) {
      throw new IllegalArgumentException("padTo must be 0 (no padding) or positive, got " + size);
    }
    return new IdxImages(size, limit);
  }

  /**
   * Uses only the first {@code max} images (and labels).
   *
   * @param max the most images to read, or 0 for all
   * @return a new reader
   */
  public IdxImages limit(int max) {
    if (max < 0) {
      throw new IllegalArgumentException("limit must be 0 (all) or positive, got " + max);
    }
    return new IdxImages(padTo, max);
  }

  /**
   * What an images file declares.
   *
   * @param count the number of images, positive
   * @param rows the height, positive
   * @param cols the width, positive
   */
  public record Header(int count, int rows, int cols) {
    /**
     * The shape of one image as stored, before padding.
     *
     * @return {@code [1, rows, cols]}
     */
    public Shape imageShape() {
      return Shape.of(1, rows, cols);
    }
  }

  /**
   * Images read from IDX files.
   *
   * @param header what the images file declares (all its images, not only those read)
   * @param images the images read, {@code [1, H, W]} in {@code [-1, 1]}
   * @param labels one label in {@code 0..9} per image read, when a labels file was given (the array is
   *     not copied)
   */
  public record Result(Header header, InMemoryDataset images, Optional<int[]> labels) {}

  /**
   * Reads and checks the header of an images file without reading its images.
   *
   * @param images the file
   * @return what it declares
   * @throws DataFileException if it is missing, unreadable or not a well-formed IDX images file
   */
  public static Header header(Path images) {
    try (IdxFile f = IdxFile.open(images)) {
      return f.imagesHeader();
    }
  }

  /**
   * Reads images without labels.
   *
   * @param images the IDX images file
   * @return the images
   * @throws DataFileException if the file is missing, unreadable or malformed
   */
  public Result read(Path images) {
    return read(images, Optional.empty());
  }

  /**
   * Reads images and, when given, their labels.
   *
   * @param images the IDX images file
   * @param labels the IDX labels file, which must declare as many labels as there are images
   * @return the images and labels
   * @throws DataFileException if a file is missing, unreadable or malformed, or the files disagree
   */
  public Result read(Path images, Optional<Path> labels) {
    try (IdxFile f = IdxFile.open(images)) {
      Header h = f.imagesHeader();
      Optional<int[]> l = labels.map(p -> readLabels(p, h, images));
      int outRows = padTo > 0 ? padTo : h.rows();
      int outCols = padTo > 0 ? padTo : h.cols();
      if (h.rows() > outRows || h.cols() > outCols) {
        throw f.error("images are " + h.rows() + "x" + h.cols() + ", larger than the padded size "
            + padTo + "x" + padTo);
      }
      int n = used(h.count());
      long values = (long) n * outRows * outCols;
      if (values > MAX_ARRAY) {
        throw f.error(n + " images of " + outRows + "x" + outCols + " are " + values
            + " values, more than one array holds; read fewer (a limit)");
      }
      float[] pixels = f.images(h, n, outRows, outCols);
      return new Result(h, new InMemoryDataset(Shape.of(1, outRows, outCols), pixels), l);
    }
  }

  private int[] readLabels(Path file, Header images, Path imagesFile) {
    try (IdxFile f = IdxFile.open(file)) {
      int count = f.labelsHeader();
      if (count != images.count()) {
        throw f.error("declares " + count + " labels but " + imagesFile + " declares " + images.count()
            + " images; the two files must have one label per image");
      }
      int n = used(count);
      byte[] bytes = f.data(n, n == count, "labels");
      int[] out = new int[n];
      for (int i = 0; i < n; i++) {
        int v = bytes[i] & 0xff;
        if (v >= CLASSES) {
          throw f.error("label " + v + " at index " + i + " is outside 0.." + (CLASSES - 1));
        }
        out[i] = v;
      }
      return out;
    }
  }

  private int used(int count) {
    return limit > 0 ? Math.min(limit, count) : count;
  }

  /**
   * Normalises {@code count} images of {@code rows x cols} bytes into {@code out} from image {@code
   * first} on, centred in {@code outRows x outCols} (the border is left as it is).
   */
  static void normalise(byte[] pixels, int count, int rows, int cols, float[] out, int first,
      int outRows, int outCols) {
    int top = (outRows - rows) / 2;
    int left = (outCols - cols) / 2;
    int src = 0;
    for (int i = first; i < first + count; i++) {
      int base = i * outRows * outCols;
      for (int r = 0; r < rows; r++) {
        int dst = base + (r + top) * outCols + left;
        for (int c = 0; c < cols; c++) {
          out[dst + c] = NORMALISED[pixels[src++] & 0xff];
        }
      }
    }
  }

  /** A new array for {@code n} images, filled with the background -1 when they are padded. */
  static float[] newImages(int n, Header h, int outRows, int outCols) {
    float[] out = new float[n * outRows * outCols];
    if (h.rows() != outRows || h.cols() != outCols) {
      Arrays.fill(out, -1f);
    }
    return out;
  }
}
