package io.github.diffusion4j.io;

import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads back, batch by batch, the samples {@link SampleWriter} wrote: a {@code .npy} file (version 1.0,
 * {@code <f4}, C order) or a {@code .safetensors} file with one F32 tensor named {@value SafeTensors#SAMPLES_KEY},
 * either of shape {@code [N, C, H, W]}, values in {@code [0, 1]} (others are refused as they are read); memory does
 * not grow with {@code N}. Used by
 * {@code diffusion eval --samples} and {@code diffusion spark eval --samples} to score samples already on disk.
 *
 * <pre>{@code
 * try (SampleReader r = SampleReader.open(Path.of("samples.npy"), Shape.of(3, 32, 32))) {
 *   r.forEachBatch(r.count(), 1024, accumulator::add);
 * }
 * }</pre>
 */
public final class SampleReader implements AutoCloseable {
  private static final Pattern NPY_SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");
  private static final Pattern NPY_DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
  private static final Pattern NPY_ORDER = Pattern.compile("'fortran_order':\\s*(\\w+)");

  private final Path file;
  private final FileChannel channel;
  private final long dataStart;
  private final long count;
  private final Shape imageShape;

  private SampleReader(Path file, FileChannel channel, long dataStart, long count, Shape imageShape) {
    this.file = file;
    this.channel = channel;
    this.dataStart = dataStart;
    this.count = count;
    this.imageShape = imageShape;
  }

  /**
   * Opens a samples file and checks its header and length against the images expected.
   *
   * @param file a {@code .npy} or {@code .safetensors} file
   * @param imageShape the {@code [C, H, W]} its images must have
   * @return the open file; close it when done
   * @throws IllegalArgumentException in one line naming the file, what was found and what is allowed: a missing or
   *     unreadable file, a folder (a folder of diffusion spark sample's shards is named as such), another extension,
   *     another dtype or layout, another image shape, a file shorter or longer than its header says
   * @throws UncheckedIOException naming the file if it cannot be read
   */
  public static SampleReader open(Path file, Shape imageShape) {
    if (java.nio.file.Files.isDirectory(file)) {
      throw new IllegalArgumentException(file + ": a folder, not a samples file; give the .npy or .safetensors file "
          + "diffusion sample --out wrote (diffusion spark eval --samples DIR scores the folder diffusion spark sample "
          + "wrote)");
    }
    SampleWriter.Format format = SampleWriter.Format.of(file).orElseThrow(() -> new IllegalArgumentException(
        file + ": not a samples file; give the .npy or .safetensors file diffusion sample --out wrote"));
    String problem = FileProblems.ofReading(file).orElse(null);
    if (problem != null) {
      throw new IllegalArgumentException(file + ": " + problem);
    }
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + FileProblems.describe(e), e);
    }
    try {
      long size = ch.size();
      long[] header = format == SampleWriter.Format.NPY ? npyHeader(file, ch, size) : safetensorsHeader(file);
      long start = header[0];
      long[] dims = java.util.Arrays.copyOfRange(header, 1, header.length);
      String found = java.util.Arrays.toString(dims);
      if (dims.length != 4 || dims[1] != imageShape.dim(0) || dims[2] != imageShape.dim(1)
          || dims[3] != imageShape.dim(2)) {
        throw new IllegalArgumentException(file + ": samples of shape " + found + "; the model's are [N, "
            + imageShape.dim(0) + ", " + imageShape.dim(1) + ", " + imageShape.dim(2) + "]");
      }
      long expected;
      try {
        expected = Math.addExact(start, Math.multiplyExact(dims[0], imageShape.size() * (long) Float.BYTES));
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(file + ": shape " + found + " does not fit in a file");
      }
      if (size != expected) {
        throw new IllegalArgumentException(file + ": " + size + " bytes, but its header's " + found + " float32 "
            + "samples make " + expected + (size < expected ? " (truncated)" : ""));
      }
      return new SampleReader(file, ch, start, dims[0], imageShape);
    } catch (IOException e) {
      FileSupport.closeQuietly(ch);
      throw new UncheckedIOException("cannot read " + file + ": " + FileProblems.describe(e), e);
    } catch (RuntimeException e) {
      FileSupport.closeQuietly(ch);
      throw e;
    }
  }

  /** The data's start and the dimensions of an {@code .npy} file's array. */
  private static long[] npyHeader(Path file, FileChannel ch, long size) throws IOException {
    ByteBuffer pre = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    read(ch, 0, pre, size, file);
    byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    for (int i = 0; i < magic.length; i++) {
      if (pre.get(i) != magic[i]) {
        throw new IllegalArgumentException(file + ": not a NumPy .npy file (no \\x93NUMPY magic); allowed: the "
            + ".npy diffusion sample --out writes");
      }
    }
    if (pre.get(6) != 1) {
      throw new IllegalArgumentException(file + ": .npy version " + pre.get(6) + "." + pre.get(7) + "; allowed: 1.0, "
          + "as diffusion sample --out writes");
    }
    int length = Short.toUnsignedInt(pre.getShort(8));
    ByteBuffer h = ByteBuffer.allocate(length);
    read(ch, 10, h, size, file);
    String header = new String(h.array(), StandardCharsets.ISO_8859_1);
    Matcher descr = NPY_DESCR.matcher(header);
    Matcher order = NPY_ORDER.matcher(header);
    Matcher shape = NPY_SHAPE.matcher(header);
    if (!descr.find() || !order.find() || !shape.find()) {
      throw new IllegalArgumentException(file + ": the .npy header has no descr, fortran_order or shape ("
          + StrictJson.abbreviate(header.strip()) + ")");
    }
    if (!descr.group(1).equals("<f4")) {
      throw new IllegalArgumentException(file + ": dtype '" + descr.group(1) + "'; allowed: '<f4' (float32, "
          + "little-endian), as diffusion sample --out writes");
    }
    if (!order.group(1).equals("False")) {
      throw new IllegalArgumentException(file + ": fortran_order " + order.group(1) + "; allowed: False (C order)");
    }
    String[] parts = shape.group(1).split(",");
    long[] out = new long[1];
    int k = 0;
    for (String p : parts) {
      if (p.isBlank()) {
        continue;
      }
      out = java.util.Arrays.copyOf(out, out.length + 1);
      try {
        out[++k] = Long.parseLong(p.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(file + ": the .npy shape (" + shape.group(1) + ") is not whole numbers");
      }
    }
    out[0] = 10L + length;
    return out;
  }

  /**
   * The data's start and the dimensions of a safetensors file's {@value SafeTensors#SAMPLES_KEY} tensor, its header
   * read and checked by {@link SafeTensorsReader} (the one reader of the format).
   */
  private static long[] safetensorsHeader(Path file) {
    try (SafeTensorsReader r = SafeTensorsReader.open(file)) {
      java.util.Map<String, int[]> shapes = r.shapes();
      int[] dims = shapes.get(SafeTensors.SAMPLES_KEY);
      if (dims == null || shapes.size() != 1) {
        int tensors = shapes.size();
        throw new IllegalArgumentException(file + ": " + tensors + (tensors == 1 ? " tensor" : " tensors")
            + (dims == null ? ", none named '" + SafeTensors.SAMPLES_KEY + "'" : "") + "; allowed: one F32 tensor "
            + "named '" + SafeTensors.SAMPLES_KEY + "', as diffusion sample --out writes");
      }
      String dtype = r.dtypes().get(SafeTensors.SAMPLES_KEY);
      if (!dtype.equals(DType.F32.torchName())) {
        throw new IllegalArgumentException(file + ": tensor '" + SafeTensors.SAMPLES_KEY + "' is " + dtype
            + "; allowed: F32 (float32), as diffusion sample --out writes");
      }
      long[] out = new long[dims.length + 1];
      out[0] = r.dataOffset(SafeTensors.SAMPLES_KEY);
      for (int i = 0; i < dims.length; i++) {
        out[i + 1] = dims[i];
      }
      return out;
    } catch (CheckpointException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private static void read(FileChannel ch, long position, ByteBuffer dst, long size, Path file) throws IOException {
    if (position + dst.remaining() > size) {
      throw new IllegalArgumentException(file + ": " + size + " bytes, too short for its header (truncated)");
    }
    while (dst.hasRemaining()) {
      int r = ch.read(dst, position);
      if (r < 0) {
        throw new IllegalArgumentException(file + ": ends inside its header (truncated)");
      }
      position += r;
    }
  }

  /**
   * The number of samples in the file.
   *
   * @return {@code N}
   */
  public long count() {
    return count;
  }

  /**
   * Hands the first {@code n} samples to {@code sink}, in order, in batches of {@code batch} images (the last may be
   * smaller); each batch a fresh array.
   *
   * @param n how many samples, from the first, at most {@link #count()}
   * @param batch images per batch, at least 1
   * @param sink takes each batch, {@code [b, C, H, W]} row-major
   * @throws IllegalArgumentException if {@code n} is out of range or {@code batch < 1}, or in one line naming the file
   *     and the sample if a value read is outside {@code [0, 1]} (NaN passes: a diverged model's samples)
   * @throws UncheckedIOException naming the file if it cannot be read (or shrank meanwhile)
   */
  public void forEachBatch(long n, int batch, Consumer<float[]> sink) {
    if (n < 0 || n > count || batch < 1) {
      throw new IllegalArgumentException(file + ": cannot read " + n + " samples in batches of " + batch + " from "
          + count);
    }
    int image = imageShape.size();
    for (long first = 0; first < n; first += batch) {
      int b = (int) Math.min(batch, n - first);
      ByteBuffer bytes = ByteBuffer.allocate(b * image * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      long position = dataStart + first * image * Float.BYTES;
      try {
        while (bytes.hasRemaining()) {
          int r = channel.read(bytes, position);
          if (r < 0) {
            throw new IOException("ended after " + position + " bytes (truncated meanwhile)");
          }
          position += r;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file + ": " + FileProblems.describe(e), e);
      }
      float[] values = new float[b * image];
      bytes.flip();
      bytes.asFloatBuffer().get(values);
      requireUnitRange(values, first, image);
      sink.accept(values);
    }
  }

  /**
   * Refuses a value outside {@code [0, 1]}: {@code sample --out} clamps its images there, and another tool's {@code
   * [-1, 1]} or {@code 0..255} values would be scored as nonsense. A NaN passes, as {@code sample --out} writes a
   * diverged model's NaN and {@code eval} of its own samples scores it (NaN).
   */
  private void requireUnitRange(float[] values, long first, int image) {
    for (int i = 0; i < values.length; i++) {
      float v = values[i];
      if (v < 0f || v > 1f) {
        throw new IllegalArgumentException(file + ": sample " + (first + i / image) + " holds " + v + " (value "
            + i % image + " of its " + image + "), outside [0, 1]; allowed: values in [0, 1], as diffusion sample "
            + "--out writes (map other ranges first: (x + 1) / 2 for [-1, 1], x / 255 for 0..255)");
      }
    }
  }

  /** Closes the file. */
  @Override
  public void close() {
    FileSupport.closeQuietly(channel);
  }
}
