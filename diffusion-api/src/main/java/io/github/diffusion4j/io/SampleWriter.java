package io.github.diffusion4j.io;

import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Writes {@code N} images to a NumPy {@code .npy} or a {@code .safetensors} file, in order, batch by batch,
 * so that memory stays flat however large {@code N} is: the header (which holds the shape
 * {@code [N, C, H, W]}) is written first, each batch is appended as float32 little-endian as soon as it is
 * given, and the file appears under its name only once all {@code N} images are written and
 * {@link #commit()} is called (temporary sibling, fsync, atomic rename; see {@link AtomicFiles}). Closing
 * without a commit, or after a failure, leaves no file and an existing one untouched.
 *
 * <pre>{@code
 * try (SampleWriter w = SampleWriter.create(Path.of("shard-0003.npy"), Shape.of(3, 32, 32), 10_000, Map.of())) {
 *   for (float[] batch : batches) {      // each a whole number of [3, 32, 32] images
 *     w.write(batch);
 *   }
 *   w.commit();
 * }
 * }</pre>
 *
 * <p>The bytes are those of {@link NpyWriter#write(Path, float[], Shape)} and
 * {@link SafeTensors#writeSamples(Path, float[], Shape, Map)} for the same images (one tensor named
 * {@value SafeTensors#SAMPLES_KEY}); a {@code .npy} file has no room for metadata, which is ignored there.
 * {@code N * C * H * W} may exceed what one Java array holds. A writer is not thread-safe; to write in
 * parallel, write shards (one writer, one file each), e.g. from Spark tasks over
 * {@code SamplingRequest.slice}s.
 */
public final class SampleWriter implements AutoCloseable {
  /** The file formats, told by the file name's extension. */
  public enum Format {
    /** NumPy's {@code .npy}, version 1.0, {@code <f4}, C order. */
    NPY(".npy"),
    /** safetensors, one F32 tensor named {@value SafeTensors#SAMPLES_KEY}. */
    SAFETENSORS(".safetensors");

    private final String extension;

    Format(String extension) {
      this.extension = extension;
    }

    /**
     * The file name extension.
     *
     * @return {@code ".npy"} or {@code ".safetensors"}
     */
    public String extension() {
      return extension;
    }

    /**
     * The format of a file name, by its extension (case-insensitive).
     *
     * @param file the file
     * @return the format, or empty for another extension
     */
    public static Optional<Format> of(Path file) {
      Path name = file.getFileName();
      String n = name == null ? "" : name.toString().toLowerCase(Locale.ROOT);
      return Arrays.stream(values()).filter(f -> n.endsWith(f.extension)).findFirst();
    }
  }

  private final String name;
  private final Shape imageShape;
  private final long count;
  private final OutputStream out;
  private final AtomicFiles.PendingFile pending;
  private long written;
  private boolean finished;

  private SampleWriter(String name, Shape imageShape, long count, OutputStream out, AtomicFiles.PendingFile pending) {
    this.name = name;
    this.imageShape = imageShape;
    this.count = count;
    this.out = out;
    this.pending = pending;
  }

  /**
   * Starts a file, in the format of its extension, and writes its header.
   *
   * @param file the file ({@code .npy} or {@code .safetensors}); its folder is created if missing
   * @param imageShape the shape of one image, e.g. {@code [C, H, W]}
   * @param count {@code N}, the number of images that will be written, at least 1
   * @param metadata {@code __metadata__} strings for safetensors (e.g. seed, sampler); ignored for npy
   * @return the writer; {@link #commit()} it when all images are written
   * @throws IllegalArgumentException if the extension is neither, or {@code count < 1}
   * @throws UncheckedIOException naming the file if it cannot be started
   */
  public static SampleWriter create(Path file, Shape imageShape, long count, Map<String, String> metadata) {
    byte[] preamble = preamble(file, imageShape, count, metadata);
    long bytes = fileBytes(file, preamble, imageShape, count);
    AtomicFiles.PendingFile pending = null;
    try {
      AtomicFiles.cleanStaleTemporaries(file); // a killed sampling's stream of this name: often gigabytes
      pending = AtomicFiles.create(file);
      checkSpace(file, bytes, count, imageShape);
      pending.out().write(preamble);
      return new SampleWriter(file.toString(), imageShape, count, pending.out(), pending);
    } catch (IOException e) {
      if (pending != null) {
        pending.close();
      }
      throw new UncheckedIOException("cannot write " + file + ": " + FileProblems.describe(e), e);
    }
  }

  /**
   * Checks, writing nothing, what {@link #create} would refuse: the name, the sizes, and a file larger than the free
   * space of its disk; for a caller that has slow work to do before it creates the file (loading a large model).
   *
   * @param file a {@code .npy} or {@code .safetensors} file
   * @param imageShape {@code [C, H, W]} of one image
   * @param count how many images the file will hold
   * @param metadata safetensors metadata (ignored for .npy)
   * @throws IllegalArgumentException as {@link #create} does
   * @throws UncheckedIOException if the file would not fit the disk
   */
  public static void check(Path file, Shape imageShape, long count, Map<String, String> metadata) {
    byte[] preamble = preamble(file, imageShape, count, metadata);
    long bytes = fileBytes(file, preamble, imageShape, count);
    try {
      checkSpace(file, bytes, count, imageShape);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + FileProblems.describe(e), e);
    }
  }

  /** The file's header, once its name and sizes are checked. */
  private static byte[] preamble(Path file, Shape imageShape, long count, Map<String, String> metadata) {
    if (file == null || imageShape == null) {
      throw new IllegalArgumentException("SampleWriter.create needs a file and an image shape, got " + file + " and "
          + imageShape);
    }
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException(file + ": is a folder; give a .npy or .safetensors file");
    }
    Format format = Format.of(file).orElseThrow(() -> new IllegalArgumentException(
        file + ": unknown sample format; use .npy or .safetensors"));
    return preamble(format, imageShape, count, metadata, file.toString());
  }

  /**
   * The file's size, its header and its floats; refused where it passes what a file size (a long) can hold: the
   * count limit of {@link #preamble} leaves no room for the header, and the sum, wrapped to a negative size, used to
   * pass the free-space check.
   */
  private static long fileBytes(Path file, byte[] preamble, Shape imageShape, long count) {
    try {
      return Math.addExact(preamble.length, Math.multiplyExact(count, imageShape.size() * (long) Float.BYTES));
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(file + ": " + count + " images of " + imageShape + " do not fit in a file");
    }
  }

  /**
   * Refuses, before anything is sampled, a file larger than the free space of the disk that would hold it (it
   * used to be found only when the disk filled, after sampling all that fitted: hours for a large model).
   * A file system that reports no sizes (total space 0) is not checked.
   */
  private static void checkSpace(Path file, long bytes, long count, Shape imageShape) throws IOException {
    Path folder = file.toAbsolutePath().getParent();
    while (folder != null && !Files.isDirectory(folder)) {
      folder = folder.getParent(); // a folder the writer would create: its disk is its nearest existing ancestor's
    }
    long free;
    long total;
    try {
      java.nio.file.FileStore store = Files.getFileStore(folder);
      free = store.getUsableSpace();
      total = store.getTotalSpace();
    } catch (IOException | RuntimeException e) {
      return; // a file system that does not say (some container mounts): the write finds out, as before the check
    }
    if (total > 0 && bytes > free) {
      throw new IOException(count + " images of " + imageShape + " make a file of " + bytes + " bytes ("
          + human(bytes) + "), but the disk holding " + folder + " has " + free + " bytes (" + human(free)
          + ") free; free some space or write fewer images");
    }
  }

  /** A size in the largest decimal unit that leaves a number of at least 1 ({@code 30.0 MB}, {@code 12.3 PB}). */
  private static String human(long bytes) {
    String[] units = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = bytes;
    int u = 0;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    return u == 0 ? bytes + " bytes" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /**
   * Starts writing to a stream (e.g. a distributed file system's), without the atomic rename: the caller
   * owns the stream and closes it; {@link #commit()} checks the count and flushes.
   *
   * @param out the stream
   * @param format the format
   * @param imageShape the shape of one image
   * @param count {@code N}, at least 1
   * @param metadata safetensors metadata (ignored for npy)
   * @return the writer
   * @throws UncheckedIOException if the header cannot be written
   */
  public static SampleWriter to(
      OutputStream out, Format format, Shape imageShape, long count, Map<String, String> metadata) {
    byte[] preamble = preamble(format, imageShape, count, metadata, "<stream>");
    try {
      out.write(preamble);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write samples: " + FileProblems.describe(e), e);
    }
    return new SampleWriter("<stream>", imageShape, count, out, null);
  }

  private static byte[] preamble(
      Format format, Shape imageShape, long count, Map<String, String> metadata, String file) {
    if (count < 1) {
      throw new IllegalArgumentException(file + ": count must be at least 1, got " + count);
    }
    long[] dims = new long[imageShape.rank() + 1];
    dims[0] = count;
    for (int i = 0; i < imageShape.rank(); i++) {
      dims[i + 1] = imageShape.dim(i);
    }
    if (count > Long.MAX_VALUE / 4 / imageShape.size()) {
      throw new IllegalArgumentException(file + ": " + count + " images of " + imageShape + " do not fit in a file");
    }
    if (format == Format.NPY) {
      return NpyWriter.preamble(dims);
    }
    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put(SafeTensors.SAMPLES_KEY, dims);
    byte[] header = SafeTensorsWriter.headerBytes(shapes, metadata, file);
    byte[] all = Arrays.copyOf(SafeTensorsWriter.headerLength(header), 8 + header.length);
    System.arraycopy(header, 0, all, 8, header.length);
    return all;
  }

  /**
   * Appends the next images.
   *
   * @param images a whole number of images, row-major
   * @throws IllegalArgumentException if the length is not a whole number of images, or the images would
   *     exceed {@code count}
   * @throws IllegalStateException after {@link #commit()} or {@link #close()}
   * @throws UncheckedIOException naming the file if writing fails
   */
  public void write(float[] images) {
    if (images.length % imageShape.size() != 0) {
      throw new IllegalArgumentException(name + ": " + images.length + " values are not a whole number of "
          + imageShape + " images");
    }
    write(images, images.length / imageShape.size());
  }

  /**
   * Appends the first {@code n} images of an array (the rest is ignored).
   *
   * @param images at least {@code n} images, row-major
   * @param n how many to write
   * @throws IllegalArgumentException if {@code images} is shorter, or the images would exceed {@code count}
   * @throws IllegalStateException after {@link #commit()} or {@link #close()}
   * @throws UncheckedIOException naming the file if writing fails
   */
  public void write(float[] images, int n) {
    if (finished) {
      throw new IllegalStateException(name + ": already committed or closed");
    }
    int k = imageShape.size();
    if (n < 0 || (long) n * k > images.length) {
      throw new IllegalArgumentException(name + ": " + images.length + " values hold fewer than " + n + " images of "
          + imageShape);
    }
    if (written + n > count) {
      throw new IllegalArgumentException(name + ": " + (written + n) + " images, but the header says " + count);
    }
    try {
      FileSupport.writeFloatsLittleEndian(out, images, n * k);
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("cannot write " + name + ": " + FileProblems.describe(e), e);
    }
    written += n;
  }

  /**
   * The number of images written so far.
   *
   * @return at most {@link #count()}
   */
  public long written() {
    return written;
  }

  /**
   * The number of images the file holds when complete.
   *
   * @return {@code N}
   */
  public long count() {
    return count;
  }

  /**
   * Finishes the file: checks that all {@code N} images were written, then flushes it to disk and renames
   * it into place (for a stream: flushes it).
   *
   * @throws IllegalStateException if fewer than {@code N} images were written (the file is then not
   *     created), or after a commit or close
   * @throws UncheckedIOException naming the file if finishing fails
   */
  public void commit() {
    if (finished) {
      throw new IllegalStateException(name + ": already committed or closed");
    }
    if (written != count) {
      close();
      throw new IllegalStateException(name + ": only " + written + " of " + count + " images were written; "
          + "nothing was saved");
    }
    finished = true;
    try {
      if (pending != null) {
        pending.commit();
      } else {
        out.flush();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + name + ": " + FileProblems.describe(e), e);
    }
  }

  /** Without a commit, deletes what was written (a stream is left to its owner); idempotent. */
  @Override
  public void close() {
    finished = true;
    if (pending != null) {
      pending.close();
    }
  }
}
