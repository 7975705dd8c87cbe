package io.github.diffusion4j.io;

import io.github.diffusion4j.tensor.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Writes float32 arrays in NumPy's {@code .npy} format, version 1.0, as the format's specification
 * ({@code numpy.lib.format}, NEP 1) describes it: the magic {@code \x93NUMPY}, the version bytes {@code 1 0}, a
 * little-endian 16-bit header length, and the header {@code {'descr': '<f4', 'fortran_order': False, 'shape':
 * (N, C, H, W), }} (a 1-dimensional shape as {@code (N,)}) padded with spaces and ended by a newline so that the data
 * starts at the next multiple of 64 bytes; then the values, little-endian, row-major.
 *
 * <p>The header is the shortest the specification allows, so the bytes are not always those {@code numpy.save}
 * writes: NumPy 1.23 and later add spaces for 21 digits of the first dimension (so that a file can grow along it in
 * place), which makes their header 64 bytes longer for some shapes (for {@code [N, C, H, W]} samples both are 128
 * bytes). {@code numpy.load} reads both alike.
 */
public final class NpyWriter {
  private static final int ALIGN = 64;

  private NpyWriter() {}

  /**
   * Writes an array atomically.
   *
   * @param file the file
   * @param data the values, row-major
   * @param shape their shape
   * @throws IllegalArgumentException if the length does not match the shape
   * @throws UncheckedIOException naming the file if writing fails
   */
  public static void write(Path file, float[] data, Shape shape) {
    checkLength(data, shape);
    try {
      AtomicFiles.write(file, out -> write(out, data, shape));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + FileProblems.describe(e), e);
    }
  }

  /**
   * Writes an array to a stream.
   *
   * @param out the stream (not closed)
   * @param data the values
   * @param shape their shape
   * @throws IOException if the stream fails
   */
  public static void write(OutputStream out, float[] data, Shape shape) throws IOException {
    checkLength(data, shape);
    out.write(preamble(shape));
    FileSupport.writeFloatsLittleEndian(out, data);
  }

  /**
   * The bytes of a {@code .npy} file.
   *
   * @param data the values
   * @param shape their shape
   * @return the file content
   * @throws IllegalArgumentException if the file would not fit one Java array (2 GiB; write a file instead)
   */
  public static byte[] toBytes(float[] data, Shape shape) {
    long length = preamble(shape).length + 4L * data.length;
    if (length > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("a .npy file of " + data.length + " float32 values takes " + length
          + " bytes, more than one Java array holds (2 GiB); write it to a file instead");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream((int) length);
    try {
      write(out, data, shape);
    } catch (IOException e) {
      throw new AssertionError(e); // a ByteArrayOutputStream does not fail
    }
    return out.toByteArray();
  }

  /** Magic, version, header length and header. */
  static byte[] preamble(Shape shape) {
    return preamble(java.util.Arrays.stream(shape.dims()).asLongStream().toArray());
  }

  /** As {@link #preamble(Shape)}, for dimensions whose product may exceed an {@code int}. */
  static byte[] preamble(long[] dims) {
    StringBuilder dict = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < dims.length; i++) {
      dict.append(i > 0 ? ", " : "").append(dims[i]);
    }
    dict.append(dims.length == 1 ? ",), }" : "), }");
    int unpadded = 10 + dict.length() + 1; // magic(6) + version(2) + length(2) + dict + '\n'
    int total = (unpadded + ALIGN - 1) / ALIGN * ALIGN;
    dict.append(" ".repeat(total - unpadded)).append('\n');
    byte[] header = dict.toString().getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(10 + header.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    b.putShort((short) header.length).put(header);
    return b.array();
  }

  private static void checkLength(float[] data, Shape shape) {
    if (data.length != shape.size()) {
      throw new IllegalArgumentException(
          "shape " + shape + " needs " + shape.size() + " values, got " + data.length);
    }
  }
}
