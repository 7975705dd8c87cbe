package io.github.diffusion4j.testkit;

import io.github.diffusion4j.data.Cifar10Batches;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/** Image files for the data tests (folders of images, CIFAR-10 batches, broken files), written with the JDK's ImageIO. */
public final class TestImages {
  private TestImages() {}

  /**
   * An RGB image whose pixel (x, y) is (r0 + x, g0 + y, b) clamped, so positions are recognisable.
   *
   * @param w the width
   * @param h the height
   * @param r0 the red value at x = 0
   * @param g0 the green value at y = 0
   * @param b the blue value everywhere
   * @return the image
   */
  public static BufferedImage rgb(int w, int h, int r0, int g0, int b) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, (Math.min(255, r0 + x) << 16) | (Math.min(255, g0 + y) << 8) | b);
      }
    }
    return img;
  }

  /**
   * A gray image whose sample (x, y) is {@code v0 + x + w * y} (mod 256).
   *
   * @param w the width
   * @param h the height
   * @param v0 the value at (0, 0)
   * @return the image
   */
  public static BufferedImage gray(int w, int h, int v0) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.getRaster().setSample(x, y, 0, (v0 + x + w * y) & 0xff);
      }
    }
    return img;
  }

  /**
   * Encodes an image in a format ImageIO writes (png, bmp, gif, jpeg).
   *
   * @param img the image
   * @param format the ImageIO format name
   * @return the encoded file's bytes
   */
  public static byte[] encode(BufferedImage img, String format) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, format, out)) {
        throw new IllegalArgumentException("no writer for " + format + " and " + img);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * A progressive JPEG (the JDK's writer in progressive mode).
   *
   * @param img the image
   * @return the encoded file's bytes
   */
  public static byte[] progressiveJpeg(BufferedImage img) {
    ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
      w.setOutput(ios);
      ImageWriteParam p = w.getDefaultWriteParam();
      p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      w.write(null, new IIOImage(img, null, null), p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      w.dispose();
    }
    return out.toByteArray();
  }

  /**
   * Writes bytes to a file, creating its folders.
   *
   * @param file the file
   * @param bytes its content
   * @return {@code file}
   */
  public static Path write(Path file, byte[] bytes) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      return Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes an image file in the format of its extension.
   *
   * @param file the file ({@code .png}, {@code .jpg}, ...)
   * @param img the image
   * @return {@code file}
   */
  public static Path write(Path file, BufferedImage img) {
    String name = file.getFileName().toString();
    String ext = name.substring(name.lastIndexOf('.') + 1).toLowerCase(java.util.Locale.ROOT);
    return write(file, encode(img, ext.equals("jpg") ? "jpeg" : ext));
  }

  /**
   * Writes a CIFAR-10 batch of {@code labels.length} records: record {@code r} has label {@code labels[r]}
   * and pixel (c, y, x) = {@code (r * 7 + c * 50 + y + x) mod 256}.
   *
   * @param file the file
   * @param labels one label per record
   * @return {@code file}
   */
  public static Path cifarBatch(Path file, int... labels) {
    byte[] b = new byte[labels.length * Cifar10Batches.RECORD_BYTES];
    for (int r = 0; r < labels.length; r++) {
      int base = r * Cifar10Batches.RECORD_BYTES;
      b[base] = (byte) labels[r];
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < 32; y++) {
          for (int x = 0; x < 32; x++) {
            b[base + 1 + c * 1024 + y * 32 + x] = (byte) (r * 7 + c * 50 + y + x);
          }
        }
      }
    }
    return write(file, b);
  }

  /**
   * The first {@code n} bytes of an encoding.
   *
   * @param bytes the encoding
   * @param n how many bytes to keep
   * @return the prefix
   */
  public static byte[] truncated(byte[] bytes, int n) {
    return Arrays.copyOf(bytes, n);
  }

  /**
   * A PNG that declares {@code w x h} 8-bit RGB pixels but holds almost no image data: a header that
   * lies about its size.
   *
   * @param w the declared width
   * @param h the declared height
   * @return the file's bytes
   */
  public static byte[] lyingPng(int w, int h) {
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0)
        .put((byte) 0).put((byte) 0);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    chunk(out, "IHDR", ihdr.array());
    chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01});
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }
}
