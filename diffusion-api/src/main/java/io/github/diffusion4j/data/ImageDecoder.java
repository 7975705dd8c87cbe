package io.github.diffusion4j.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes one image file with the JDK's ImageIO (and any ImageIO plugin on the class path) and fits it
 * to the target. Every problem is a one-line {@link DataFileException}; nothing is allocated for the pixels
 * before the header's size has been checked.
 *
 * <p>Colour: a gray image's samples are read as they are (the JDK's {@code getRGB} would convert them from
 * linear gray to sRGB and brighten them); anything else goes through its colour model to sRGB. Alpha is
 * dropped, as PIL's {@code convert("RGB")} does. One channel is the ITU-R 601-2 luma
 * {@code 0.299 R + 0.587 G + 0.114 B} (PIL's {@code convert("L")}). Only the first frame of an animated
 * GIF is used.
 *
 * <p>Memory: an image larger than {@link #MAX_DECODED_PIXELS} is decoded with ImageIO's source subsampling
 * (every n-th pixel), so that decoding holds at most about that many pixels whatever the file declares. A crop
 * decodes only the part it reads ({@link ImageFit#region}, ImageIO's source region on the subsampling's grid), so a
 * long, narrow image's middle is all that is decoded; the bytes are those of the whole image fitted.
 */
final class ImageDecoder {
  /** The most pixels decoded at once (16.7 million); larger images are subsampled while decoding. */
  static final long MAX_DECODED_PIXELS = 1L << 24;
  /** Files up to this size (64 MiB) are read into memory before decoding. */
  static final long IN_MEMORY_BYTES = 64L << 20;
  /** The longest side accepted: 2^20 pixels (row buffers are allocated per row). */
  static final int MAX_SIDE = 1 << 20;

  private ImageDecoder() {}

  /**
   * Decodes a file and, when a fit is given, writes the fitted image.
   *
   * @param file the image file
   * @param fit the target, or null only to check that the file decodes
   * @param dst where the fitted image goes ({@code fit.shape().size()} bytes), or null when fit is null
   * @param offset where the first byte goes
   * @return what the file holds
   * @throws DataFileException naming the file and the problem
   */
  static ImageInfo read(Path file, ImageFit fit, byte[] dst, int offset) {
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException e) {
      throw new DataFileException(file, "no such file (was it removed while the data set was read?)");
    } catch (IOException e) {
      throw new DataFileException(file, "cannot be read: " + e.getMessage(), e);
    }
    if (size == 0) {
      throw new DataFileException(file, "is empty (0 bytes), not an image");
    }
    try (ImageInputStream in = open(file, size)) {
      if (in == null) {
        throw new DataFileException(file, "cannot be opened by ImageIO");
      }
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new DataFileException(file, "is not an image ImageIO can read (PNG, JPEG, BMP, GIF, or a format "
            + "of an ImageIO plugin on the class path); it begins with " + start(file));
      }
      ImageReader reader = readers.next();
      try {
        return decode(file, reader, in, fit, dst, offset);
      } finally {
        reader.dispose();
      }
    } catch (DataFileException e) {
      throw e;
    } catch (AccessDeniedException e) {
      throw new DataFileException(file, "cannot be read: permission denied", e);
    } catch (IOException e) {
      throw new DataFileException(file, "is truncated or corrupt: " + describe(e), e);
    } catch (RuntimeException e) {
      // ImageIO's decoders throw unchecked exceptions on some malformed data
      throw new DataFileException(file, "is corrupt: " + describe(e), e);
    }
  }

  /** The formats the folder's extensions name ({@link ImageFolder#EXTENSIONS}), by ImageIO's format names. */
  private static final java.util.Set<String> LISTED_FORMATS = java.util.Set.of("PNG", "JPEG", "JPG", "BMP", "GIF");

  /**
   * A file named as one of the listed formats must hold one of them: any of the four (scraped data sets name JPEGs
   * .png), but not another format that ImageIO would sniff and read by its content, a TIFF above all, whose reader
   * buffers a whole declared strip (a 672-byte TIFF named .png asked for 1.3 GB).
   */
  private static void checkFormat(Path file, String format) {
    String ext = ImageFolder.extension(file);
    if (ImageFolder.isImageName(file) && !LISTED_FORMATS.contains(format)) {
      throw new DataFileException(file, "holds a " + format + " image, not the ." + ext + " its name says; a file "
          + "named " + String.join(", ", new java.util.TreeSet<>(ImageFolder.EXTENSIONS)) + " must hold PNG, JPEG, "
          + "BMP or GIF (convert it, e.g. to PNG)");
    }
  }

  private static ImageInfo decode(Path file, ImageReader reader, ImageInputStream in, ImageFit fit, byte[] dst,
      int offset) throws IOException {
    reader.setInput(in, true, true);
    List<String> warnings = new ArrayList<>();
    reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
    String format = reader.getFormatName().toUpperCase(Locale.ROOT);
    checkFormat(file, format);
    int w = reader.getWidth(0);
    int h = reader.getHeight(0);
    if (w < 1 || h < 1) {
      throw new DataFileException(file, "declares a " + w + "x" + h + " " + format + " image; both sides must be "
          + "positive");
    }
    if (w > MAX_SIDE || h > MAX_SIDE) {
      throw new DataFileException(file, "declares a " + w + "x" + h + " " + format + " image; sides longer than "
          + MAX_SIDE + " pixels are not supported");
    }
    if (fit != null) {
      String problem = fit.problem(w, h).orElse(null);
      if (problem != null) {
        throw new DataFileException(file, problem);
      }
    }
    ImageReadParam param = reader.getDefaultReadParam();
    int step = subsampling(w, h, fit);
    if (step > 1) {
      param.setSourceSubsampling(step, step, 0, 0);
    }
    // the image as decoded whole (every step-th pixel), and the part of it the fit reads: a crop decodes only that
    // (a 2^20 x 1024 image cropped to 1024 x 1024 was decoded whole, more than a raster holds), on the same grid of
    // pixels, so the bytes are those of the whole image
    int decodedW = (w + step - 1) / step;
    int decodedH = (h + step - 1) / step;
    int[] part = fit == null ? new int[] {0, decodedW, 0, decodedH} : fit.region(decodedW, decodedH);
    if (part[0] > 0 || part[1] < decodedW || part[2] > 0 || part[3] < decodedH) {
      param.setSourceRegion(new java.awt.Rectangle(part[0] * step, part[2] * step, (part[1] - 1 - part[0]) * step + 1,
          (part[3] - 1 - part[2]) * step + 1));
    }
    BufferedImage image = reader.read(0, param);
    if (!warnings.isEmpty()) {
      throw new DataFileException(file, "is truncated or corrupt: " + warnings.get(0));
    }
    ImageInfo info = new ImageInfo(w, h, colour(image.getColorModel()));
    if (fit != null) {
      if (image.getWidth() != part[1] - part[0] || image.getHeight() != part[3] - part[2]) {
        throw new DataFileException(file, "decoded as " + image.getWidth() + "x" + image.getHeight() + " pixels, not "
            + "the " + (part[1] - part[0]) + "x" + (part[3] - part[2]) + " asked for; the " + format + " reader is "
            + "at odds with the file");
      }
      fit.apply(decodedW, decodedH, part[0], part[2], image.getWidth(), rows(image, fit.channels()), dst, offset);
    }
    return info;
  }

  /**
   * A stream over the file: its bytes in memory when it is at most {@link #IN_MEMORY_BYTES} (ImageIO's file
   * stream reads a few bytes per system call, which made small images three times slower to decode), else
   * the file itself through its channel, opened by the path (not {@code Path.toFile()}, whose name is the path's
   * string: for a file name not in the platform encoding, another file's).
   */
  private static ImageInputStream open(Path file, long size) throws IOException {
    if (size <= IN_MEMORY_BYTES) {
      return new MemoryCacheImageInputStream(new ByteArrayInputStream(Files.readAllBytes(file)));
    }
    return new ChannelImageInputStream(java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ));
  }

  /** An {@link ImageInputStream} over a file channel, read 64 KiB at a time; closing it closes the channel. */
  static final class ChannelImageInputStream extends javax.imageio.stream.ImageInputStreamImpl {
    private final java.nio.channels.FileChannel channel;
    private final java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(1 << 16);
    /** The file position of the buffer's first byte, and how many bytes it holds. */
    private long bufferStart;
    private int bufferLength;

    ChannelImageInputStream(java.nio.channels.FileChannel channel) {
      this.channel = channel;
    }

    /** Makes the buffer hold the byte at {@code streamPos}; false at the end of the file. */
    private boolean fill() throws IOException {
      if (streamPos >= bufferStart && streamPos < bufferStart + bufferLength) {
        return true;
      }
      buffer.clear();
      int n = channel.read(buffer, streamPos);
      bufferStart = streamPos;
      bufferLength = Math.max(n, 0);
      return n > 0;
    }

    @Override
    public int read() throws IOException {
      checkClosed();
      bitOffset = 0;
      if (!fill()) {
        return -1;
      }
      int b = buffer.get((int) (streamPos - bufferStart)) & 0xff;
      streamPos++;
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      checkClosed();
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      bitOffset = 0;
      if (len == 0) {
        return 0;
      }
      if (!fill()) {
        return -1;
      }
      int at = (int) (streamPos - bufferStart);
      int n = Math.min(len, bufferLength - at);
      buffer.get(at, b, off, n);
      streamPos += n;
      return n;
    }

    @Override
    public long length() {
      try {
        return channel.size();
      } catch (IOException e) {
        return -1;
      }
    }

    @Override
    public void close() throws IOException {
      try {
        super.close();
      } finally {
        channel.close();
      }
    }
  }

  /**
   * The subsampling step: 1 unless the image has more than {@link #MAX_DECODED_PIXELS}; then the smallest
   * step that brings it under, but never below the target's size along the side the fit scales to it (crop: the
   * shorter side relative to the target, pad: the longer).
   */
  static int subsampling(int w, int h, ImageFit fit) {
    double pixels = (double) w * h;
    if (pixels <= MAX_DECODED_PIXELS) {
      return 1;
    }
    int step = (int) Math.ceil(Math.sqrt(pixels / MAX_DECODED_PIXELS));
    if (fit != null) {
      int across = w / fit.width();
      int down = h / fit.height();
      // pad scales the longer side to the target: a long, narrow image is shrunk by its length, and subsampled so
      // (capped by its narrow side, 2^20 x 1024 padded to 1024 x 1024 was decoded whole: 2^30 pixels)
      int finest = fit.resize() == ImageFit.Resize.PAD ? Math.max(across, down) : Math.min(across, down);
      step = Math.min(step, Math.max(1, finest));
    }
    return Math.max(1, step);
  }

  /** The rows of a decoded image in 1 or 3 channels, values in [0, 255]. */
  static PixelRows rows(BufferedImage image, int channels) {
    int w = image.getWidth();
    ColorModel cm = image.getColorModel();
    if (isGray(cm)) {
      Raster raster = image.getRaster();
      double scale = 255.0 / ((1L << cm.getComponentSize(0)) - 1);
      int[] samples = new int[w];
      return (y, dst) -> {
        raster.getSamples(0, y, w, 1, 0, samples);
        for (int c = 0; c < channels; c++) {
          double[] d = dst[c];
          for (int x = 0; x < w; x++) {
            d[x] = samples[x] * scale;
          }
        }
      };
    }
    int[] argb = new int[w];
    return (y, dst) -> {
      image.getRGB(0, y, w, 1, argb, 0, w);
      if (channels == 1) {
        double[] d = dst[0];
        for (int x = 0; x < w; x++) {
          int p = argb[x];
          d[x] = luma((p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff);
        }
      } else {
        for (int x = 0; x < w; x++) {
          int p = argb[x];
          dst[0][x] = (p >> 16) & 0xff;
          dst[1][x] = (p >> 8) & 0xff;
          dst[2][x] = p & 0xff;
        }
      }
    };
  }

  /** ITU-R 601-2 luma, as PIL's {@code convert("L")}. */
  static double luma(double red, double green, double blue) {
    return 0.299 * red + 0.587 * green + 0.114 * blue;
  }

  private static boolean isGray(ColorModel cm) {
    return !(cm instanceof IndexColorModel) && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY
        && cm.getComponentSize(0) <= 16;
  }

  static String colour(ColorModel cm) {
    if (cm instanceof IndexColorModel) {
      return "palette";
    }
    String alpha = cm.hasAlpha() ? "A" : "";
    switch (cm.getColorSpace().getType()) {
      case ColorSpace.TYPE_GRAY:
        return cm.hasAlpha() ? "gray+alpha" : "gray";
      case ColorSpace.TYPE_RGB:
        return "RGB" + alpha;
      case ColorSpace.TYPE_CMYK:
        return "CMYK";
      default:
        return "colour space " + cm.getColorSpace().getType() + (cm.hasAlpha() ? "+alpha" : "");
    }
  }

  static String describe(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null && b.length() < 300; t = t.getCause() == t ? null : t.getCause()) {
      String m = t instanceof EOFException && t.getMessage() == null ? "the file ends early" : t.getMessage();
      if (m == null) {
        m = t.getClass().getSimpleName();
      } else if (m.chars().noneMatch(Character::isLetter)) {
        // a decoder's bare number ("-3": an array index a damaged file sent it to) says nothing on its own
        m = (t instanceof IndexOutOfBoundsException ? "the decoder read outside its data" : "the decoder failed")
            + " (" + m + ")";
      }
      if (b.indexOf(m) < 0) {
        if (b.length() > 0) {
          b.append(": ");
        }
        b.append(m);
      }
    }
    return b.toString().replace('\n', ' ').replace('\r', ' ');
  }

  /** The first bytes of a file, as text when they are printable, else in hex. */
  private static String start(Path file) {
    byte[] head = new byte[8];
    int n = 0;
    try (InputStream in = Files.newInputStream(file)) {
      for (int r; n < head.length && (r = in.read(head, n, head.length - n)) > 0; ) {
        n += r;
      }
    } catch (IOException e) {
      return "(unreadable bytes)";
    }
    boolean printable = n > 0;
    StringBuilder text = new StringBuilder("\"");
    StringBuilder hex = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int b = head[i] & 0xff;
      printable &= b >= 0x20 && b < 0x7f || b == '\n' || b == '\r' || b == '\t';
      text.append(b >= 0x20 && b < 0x7f ? (char) b : ' ');
      hex.append(String.format(Locale.ROOT, "%s%02X", i == 0 ? "" : " ", b));
    }
    return printable ? "the text " + text.append("\"") : "the bytes " + hex;
  }
}
