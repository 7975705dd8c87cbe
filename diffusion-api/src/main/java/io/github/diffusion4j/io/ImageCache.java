package io.github.diffusion4j.io;

import io.github.diffusion4j.data.BadDataPolicy;
import io.github.diffusion4j.data.ByteImages;
import io.github.diffusion4j.data.DataFileException;
import io.github.diffusion4j.data.DataProgress;
import io.github.diffusion4j.data.ImageSource;
import io.github.diffusion4j.data.SkippedImage;
import io.github.diffusion4j.tensor.Shape;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A cache of decoded images: one file of 8-bit {@code [C, H, W]} images, built once from an {@link
 * ImageSource}, memory-mapped and read image by image while training, so a data set larger than the heap
 * trains. The file records the source's {@link ImageSource#fingerprint() fingerprint} (its files' names,
 * sizes and modification times and how they are fitted); {@link #open} reuses a file whose fingerprint
 * matches and rebuilds one that is stale, damaged or missing. It is written atomically ({@link AtomicFiles}:
 * temporary file, fsync, rename), so a killed build leaves no partial cache.
 *
 * <h2>Format (version 1, big-endian)</h2>
 *
 * <pre>
 *   magic "D4JIMGC1" (8 bytes), version (int), 0 (int)
 *   pixels   count x C x H x W bytes, image after image, channel-major
 *   labels   count ints (-1: no class)
 *   classes  int n, then n strings
 *   skipped  int n (at most 1,000 are kept), then n pairs of strings (file, problem)
 *   trailer  C, H, W, count, source items, skipped in all (ints), fingerprint (32 bytes),
 *            offset of the classes (long), "D4JIMGC1"
 * </pre>
 *
 * Strings are an int length and UTF-8 bytes. The trailer comes last because the counts are known only at
 * the end of a build, which streams (the heap holds one chunk of images, not the data set).
 *
 * <p>Bad images: with {@link BadDataPolicy#SKIP} they are left out and recorded in the file (so a reused
 * cache reports them without decoding again); with {@link BadDataPolicy#STOP} a build stops at the first one
 * and writes nothing, and a reused cache that recorded some is refused.
 */
public final class ImageCache {
  /** The magic bytes at the start and the end of a cache file. */
  static final byte[] MAGIC = "D4JIMGC1".getBytes(StandardCharsets.US_ASCII);
  /** The format version. */
  static final int VERSION = 1;
  static final int HEADER_BYTES = 16;
  static final int TRAILER_BYTES = 6 * 4 + 32 + 8 + 8;
  /** The most bad images recorded by name; the count is always complete. */
  public static final int SKIPPED_KEPT = 1000;
  private static final long MAX_MAPPING = Integer.MAX_VALUE;
  private static final int MAX_STRING = 1 << 16;

  /** How a cache came to be. */
  public enum Status {
    /** There was none: it was built. */
    BUILT,
    /** There was one, but stale or damaged: it was built again ({@link #reason()} says why). */
    REBUILT,
    /** The file on disk matched the source and was used as it was. */
    REUSED
  }

  private final Path file;
  private final Shape imageShape;
  private final int count;
  private final int sourceCount;
  private final int skippedCount;
  private final List<SkippedImage> skipped;
  private final List<String> classes;
  private final ByteImages images;
  private final ByteBuffer labels;
  private final Status status;
  private final String reason;
  private final double seconds;

  private ImageCache(Path file, Layout l, ByteImages images, ByteBuffer labels, Status status, String reason,
      double seconds) {
    this.file = file;
    this.imageShape = l.shape;
    this.count = l.count;
    this.sourceCount = l.sources;
    this.skippedCount = l.skippedTotal;
    this.skipped = l.skipped;
    this.classes = l.classes;
    this.images = images;
    this.labels = labels;
    this.status = status;
    this.reason = reason;
    this.seconds = seconds;
  }

  /**
   * The cache file for a source in a folder: the source's name and the start of the SHA-256 of its
   * identity, so that every folder and fit has its own file.
   *
   * @param dir the cache folder
   * @param source the source
   * @return {@code dir/<name>-<12 hex digits>.cache}
   */
  public static Path fileFor(Path dir, ImageSource source) {
    String name = source.name().replaceAll("[^A-Za-z0-9._-]", "_");
    if (name.length() > 60) {
      name = name.substring(0, 60);
    }
    byte[] id = FileSupport.sha256().digest(source.identity().getBytes(StandardCharsets.UTF_8));
    return dir.resolve(name + "-" + HexFormat.of().formatHex(id, 0, 6) + ".cache");
  }

  /**
   * Whether {@link #open} would reuse {@code file} as it is, writing nothing: it is there, readable, undamaged and
   * matches the source. A cache folder the user may not write (another user's, shared read-only) serves where this
   * holds for every source it is to cache.
   *
   * @param file the cache file (see {@link #fileFor})
   * @param source the images
   * @return true if the file is the source's cache, up to date
   */
  public static boolean isUpToDate(Path file, ImageSource source) {
    if (FileProblems.ofReading(file).isPresent()) {
      return false;
    }
    try {
      return Layout.read(file).mismatch(source, source.fingerprint()) == null;
    } catch (Damaged e) {
      return false;
    }
  }

  /**
   * Opens the cache of a source: reuses {@code file} when it matches the source, else builds it (decoding
   * every item, in parallel when the heap allows), then maps it.
   *
   * @param file the cache file (see {@link #fileFor})
   * @param source the images
   * @param policy what to do with an image that cannot be used
   * @param progress sees the build advance
   * @return the cache
   * @throws DataFileException naming the file when an image is bad and the policy is stop
   * @throws UncheckedIOException if the cache cannot be written or read
   */
  public static ImageCache open(Path file, ImageSource source, BadDataPolicy policy, DataProgress progress) {
    return open(file, source, policy, progress, MAX_MAPPING);
  }

  static ImageCache open(Path file, ImageSource source, BadDataPolicy policy, DataProgress progress,
      long maxMapping) {
    return open(file, source, policy, progress, maxMapping, decodeThreads());
  }

  /** {@link #open(Path, ImageSource, BadDataPolicy, DataProgress)} decoding on {@code threads} threads. */
  static ImageCache open(Path file, ImageSource source, BadDataPolicy policy, DataProgress progress,
      long maxMapping, int threads) {
    return open(file, source, policy, progress, maxMapping, threads, FileProblems.Access.FILES);
  }

  /** {@link #open(Path, ImageSource, BadDataPolicy, DataProgress)} asking the file system through {@code access}. */
  static ImageCache open(Path file, ImageSource source, BadDataPolicy policy, DataProgress progress,
      long maxMapping, int threads, FileProblems.Access access) {
    byte[] fingerprint = source.fingerprint();
    String reason = null;
    Status status = Status.BUILT;
    Optional<String> problem = Files.exists(file) ? FileProblems.ofReading(file, access) : Optional.empty();
    if (problem.isPresent()) {
      // checked before anything is decoded: a FIFO would block the reader forever, a folder fails the rename; another
      // user's cache in a shared folder, written under umask 077, was taken for damaged, decoded again and failed at
      // the end where the folder (sticky, as /tmp) would not let the other user's file be replaced
      throw new DataFileException(file, problem.get() + (problem.get().contains("permission denied")
          ? ", where the image cache should be (another user's, written under umask 077?); set data.cache_dir to a "
              + "folder of your own"
          : ", where the image cache should be; delete it, and the cache is built again"));
    }
    if (Files.exists(file)) {
      try {
        Layout l = Layout.read(file);
        reason = l.mismatch(source, fingerprint);
        if (reason == null) {
          ImageCache c = map(file, l, Status.REUSED, null, 0, maxMapping);
          c.check(policy);
          return c;
        }
      } catch (Damaged e) {
        reason = "the cache file is damaged (" + e.getMessage() + ")";
      }
      status = Status.REBUILT;
    }
    long start = System.nanoTime();
    AtomicFiles.cleanStaleTemporaries(file);
    Path folder = file.toAbsolutePath().getParent();
    Path made = firstMissing(folder); // the folders the build makes: a build that fails leaves none
    try {
      AtomicFiles.write(file, out -> build(new DataOutputStream(out), source, policy, fingerprint, progress,
          threads));
    } catch (IOException e) {
      deleteEmptyFolders(folder, made, e);
      throw new UncheckedIOException(file + ": cannot write the image cache: " + FileProblems.describe(e), e);
    } catch (RuntimeException | Error e) { // bad data under data.bad_data: stop, an interrupt
      deleteEmptyFolders(folder, made, e);
      throw e;
    }
    try {
      Layout l = Layout.read(file);
      ImageCache c = map(file, l, status, reason, (System.nanoTime() - start) / 1e9, maxMapping);
      c.check(policy);
      return c;
    } catch (Damaged e) {
      throw new UncheckedIOException(new IOException(file + ": the cache just written does not read back: "
          + e.getMessage()));
    }
  }

  /** The outermost folder of {@code dir}'s that does not exist yet ({@code dir} or one of its parents), or null. */
  private static Path firstMissing(Path dir) {
    Path missing = null;
    for (Path p = dir; p != null && !Files.exists(p); p = p.getParent()) {
      missing = p;
    }
    return missing;
  }

  /** Deletes {@code dir} and its parents up to {@code made} (the folders a build made) while they are empty. */
  private static void deleteEmptyFolders(Path dir, Path made, Throwable failure) {
    if (made == null) {
      return;
    }
    for (Path p = dir; p != null && p.startsWith(made); p = p.getParent()) {
      try {
        Files.deleteIfExists(p);
      } catch (java.nio.file.DirectoryNotEmptyException e) {
        return; // another writer's file: kept
      } catch (IOException e) {
        failure.addSuppressed(e);
        return;
      }
    }
  }

  /** Refuses a cache that recorded bad images when the policy is stop. */
  private void check(BadDataPolicy policy) {
    if (policy == BadDataPolicy.STOP && skippedCount > 0) {
      throw stopped(skipped.get(0), skippedCount + " of " + sourceCount + " items are unusable");
    }
  }

  private static DataFileException stopped(SkippedImage bad, String what) {
    return new DataFileException(bad.file(), bad.problem() + " (" + what + "; data.bad_data is stop: fix or "
        + "remove such files, or set data.bad_data: skip to train without them; 'diffusion data check' lists "
        + "them all)");
  }

  private static void build(DataOutputStream out, ImageSource source, BadDataPolicy policy, byte[] fingerprint,
      DataProgress progress, int threads) throws IOException {
    Shape shape = source.imageShape();
    int k = shape.size();
    int n = source.size();
    int chunk = Math.max(threads * 4, Math.min(256, (16 << 20) / k));
    byte[][] pixels = new byte[chunk][k];
    int[] labels = new int[n];
    List<SkippedImage> skipped = new ArrayList<>();
    int skippedTotal = 0;
    int kept = 0;
    out.write(MAGIC);
    out.writeInt(VERSION);
    out.writeInt(0);
    ExecutorService pool = threads > 1 ? Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "image-decoder");
      t.setDaemon(true);
      return t;
    }) : null;
    try {
      for (int first = 0; first < n; first += chunk) {
        int m = Math.min(chunk, n - first);
        DataFileException[] bad = decode(source, first, m, pixels, pool);
        for (int i = 0; i < m; i++) {
          if (bad[i] != null) {
            SkippedImage s = new SkippedImage(bad[i].file(), bad[i].problem());
            if (policy == BadDataPolicy.STOP) {
              throw stopped(s, "item " + (first + i + 1) + " of " + n);
            }
            if (skipped.size() < SKIPPED_KEPT) {
              skipped.add(s);
            }
            skippedTotal++;
          } else {
            out.write(pixels[i]);
            labels[kept++] = source.label(first + i);
          }
        }
        progress.onProgress(source.name(), first + m, n);
      }
    } finally {
      if (pool != null) {
        pool.shutdownNow();
      }
    }
    for (int i = 0; i < kept; i++) {
      out.writeInt(labels[i]);
    }
    long classesOffset = HEADER_BYTES + (long) kept * k + 4L * kept;
    List<String> classes = source.classes();
    out.writeInt(classes.size());
    for (String c : classes) {
      writeString(out, c);
    }
    out.writeInt(skipped.size());
    for (SkippedImage s : skipped) {
      writeString(out, s.file().toString());
      writeString(out, s.problem());
    }
    out.writeInt(shape.dim(0));
    out.writeInt(shape.dim(1));
    out.writeInt(shape.dim(2));
    out.writeInt(kept);
    out.writeInt(n);
    out.writeInt(skippedTotal);
    out.write(fingerprint);
    out.writeLong(classesOffset);
    out.write(MAGIC);
    out.flush();
  }

  /** Decodes items {@code first .. first + m - 1} into {@code pixels}; returns the problem of each bad one. */
  private static DataFileException[] decode(ImageSource source, int first, int m, byte[][] pixels,
      ExecutorService pool) throws IOException {
    DataFileException[] bad = new DataFileException[m];
    if (pool == null) {
      for (int i = 0; i < m; i++) {
        bad[i] = decodeOne(source, first + i, pixels[i]);
      }
      return bad;
    }
    List<Future<DataFileException>> jobs = new ArrayList<>(m);
    for (int i = 0; i < m; i++) {
      int index = first + i;
      byte[] dst = pixels[i];
      jobs.add(pool.submit(() -> decodeOne(source, index, dst)));
    }
    for (int i = 0; i < m; i++) {
      try {
        bad[i] = jobs.get(i).get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while decoding images", e);
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException r) {
          throw r;
        }
        if (cause instanceof Error err) {
          throw err;
        }
        throw new IOException(cause);
      }
    }
    return bad;
  }

  private static DataFileException decodeOne(ImageSource source, int index, byte[] dst) {
    try {
      source.read(index, dst, 0);
      return null;
    } catch (DataFileException e) {
      return e;
    }
  }

  /**
   * Threads that decode at once: every processor, but no more than the heap holds decoding the largest
   * images (about 256 MiB each), and at least one.
   */
  static int decodeThreads() {
    long heap = Runtime.getRuntime().maxMemory();
    int byHeap = (int) Math.max(1, Math.min(Integer.MAX_VALUE, heap / (256L << 20)));
    return Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), byHeap));
  }

  private static ImageCache map(Path file, Layout l, Status status, String reason, double seconds,
      long maxMapping) throws Damaged {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteImages images = null;
      int k = l.shape.size();
      if (l.count > 0) {
        int perBuffer = (int) Math.max(1, Math.min(l.count, maxMapping / k));
        List<ByteBuffer> buffers = new ArrayList<>();
        for (int first = 0; first < l.count; first += perBuffer) {
          int m = Math.min(perBuffer, l.count - first);
          buffers.add(ch.map(FileChannel.MapMode.READ_ONLY, HEADER_BYTES + (long) first * k, (long) m * k));
        }
        images = ByteImages.of(l.shape, buffers, perBuffer, l.count);
      }
      MappedByteBuffer labels = ch.map(FileChannel.MapMode.READ_ONLY, HEADER_BYTES + (long) l.count * k,
          4L * l.count);
      return new ImageCache(file, l, images, labels, status, reason, seconds);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot map the image cache: " + e.getMessage(), e);
    }
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length > MAX_STRING) {
      b = Arrays.copyOf(b, MAX_STRING);
    }
    out.writeInt(b.length);
    out.write(b);
  }

  /**
   * The cache file.
   *
   * @return the path
   */
  public Path file() {
    return file;
  }

  /**
   * The shape of every image.
   *
   * @return {@code [C, H, W]}
   */
  public Shape imageShape() {
    return imageShape;
  }

  /**
   * The usable images.
   *
   * @return how many images the cache holds
   */
  public int count() {
    return count;
  }

  /**
   * The items of the source, usable or not.
   *
   * @return the source's size when the cache was built
   */
  public int sourceCount() {
    return sourceCount;
  }

  /**
   * The images left out as unusable.
   *
   * @return the count
   */
  public int skippedCount() {
    return skippedCount;
  }

  /**
   * The first {@link #SKIPPED_KEPT} images left out, and why.
   *
   * @return the skipped images, in source order
   */
  public List<SkippedImage> skipped() {
    return skipped;
  }

  /**
   * The class names of the source.
   *
   * @return the names, in label order; empty without classes
   */
  public List<String> classes() {
    return classes;
  }

  /**
   * The images, memory-mapped.
   *
   * @return the images
   * @throws IllegalStateException if no image was usable
   */
  public ByteImages images() {
    if (images == null) {
      throw new IllegalStateException(file + " holds no usable images");
    }
    return images;
  }

  /**
   * The class of an image.
   *
   * @param index the image, in {@code [0, count())}
   * @return an index into {@link #classes()}, or -1
   */
  public int label(int index) {
    return labels.getInt(4 * java.util.Objects.checkIndex(index, count));
  }

  /**
   * How this cache came to be.
   *
   * @return built, rebuilt or reused
   */
  public Status status() {
    return status;
  }

  /**
   * Why it was rebuilt.
   *
   * @return the reason, or null unless {@link #status()} is {@link Status#REBUILT}
   */
  public String reason() {
    return reason;
  }

  /**
   * The time the build took.
   *
   * @return seconds, 0 when reused
   */
  public double buildSeconds() {
    return seconds;
  }

  /** A cache file that cannot be read as one. */
  private static final class Damaged extends Exception {
    private static final long serialVersionUID = 1L;

    Damaged(String message) {
      super(message);
    }
  }

  /** What a cache file's header, trailer and metadata say, checked against the file's length. */
  private static final class Layout {
    Shape shape;
    int count;
    int sources;
    int skippedTotal;
    byte[] fingerprint;
    List<String> classes;
    List<SkippedImage> skipped;

    static Layout read(Path file) throws Damaged {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        long length = ch.size();
        if (length < HEADER_BYTES + TRAILER_BYTES) {
          throw new Damaged(length + " bytes, shorter than a header and a trailer");
        }
        ByteBuffer head = readAt(ch, 0, HEADER_BYTES);
        byte[] magic = new byte[MAGIC.length];
        head.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
          throw new Damaged("it does not start with " + new String(MAGIC, StandardCharsets.US_ASCII));
        }
        int version = head.getInt();
        if (version != VERSION) {
          throw new Damaged("format version " + version + ", this version of the SDK reads " + VERSION);
        }
        ByteBuffer t = readAt(ch, length - TRAILER_BYTES, TRAILER_BYTES);
        Layout l = new Layout();
        int c = t.getInt();
        int h = t.getInt();
        int w = t.getInt();
        l.count = t.getInt();
        l.sources = t.getInt();
        l.skippedTotal = t.getInt();
        l.fingerprint = new byte[32];
        t.get(l.fingerprint);
        long classesOffset = t.getLong();
        t.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
          throw new Damaged("it does not end with its trailer");
        }
        if (c < 1 || h < 1 || w < 1 || l.count < 0 || l.sources < l.count || l.skippedTotal < 0
            || l.count + (long) l.skippedTotal != l.sources) {
          throw new Damaged("its trailer is inconsistent: " + c + "x" + h + "x" + w + ", " + l.count + " images of "
              + l.sources + " items, " + l.skippedTotal + " skipped");
        }
        l.shape = Shape.of(c, h, w);
        long expected = HEADER_BYTES + (long) l.count * l.shape.size() + 4L * l.count;
        if (classesOffset != expected || classesOffset > length - TRAILER_BYTES) {
          throw new Damaged("its pixels and labels end at " + classesOffset + ", expected " + expected + " in a file "
              + "of " + length + " bytes");
        }
        ByteBuffer meta = readAt(ch, classesOffset, (int) Math.min(Integer.MAX_VALUE - 8,
            length - TRAILER_BYTES - classesOffset));
        l.classes = new ArrayList<>();
        int classes = count(meta, 4);
        for (int i = 0; i < classes; i++) {
          l.classes.add(string(meta));
        }
        l.skipped = new ArrayList<>();
        int kept = count(meta, 8);
        if (kept > Math.min(SKIPPED_KEPT, l.skippedTotal)) {
          throw new Damaged("it names " + kept + " skipped images of " + l.skippedTotal);
        }
        for (int i = 0; i < kept; i++) {
          String f = string(meta);
          l.skipped.add(new SkippedImage(Path.of(f), string(meta)));
        }
        if (meta.hasRemaining()) {
          throw new Damaged(meta.remaining() + " unexpected bytes before the trailer");
        }
        l.classes = List.copyOf(l.classes);
        l.skipped = List.copyOf(l.skipped);
        return l;
      } catch (NoSuchFileException e) {
        throw new Damaged("it disappeared while it was read");
      } catch (IOException | RuntimeException e) {
        throw new Damaged(e.getMessage() == null ? e.toString() : e.getMessage());
      }
    }

    /** A count of items of at least {@code minBytes} each that must fit in what is left. */
    private static int count(ByteBuffer b, int minBytes) throws Damaged {
      if (b.remaining() < 4) {
        throw new Damaged("its metadata ends early");
      }
      int n = b.getInt();
      if (n < 0 || (long) n * minBytes > b.remaining()) {
        throw new Damaged("its metadata declares " + n + " entries in " + b.remaining() + " bytes");
      }
      return n;
    }

    private static String string(ByteBuffer b) throws Damaged {
      if (b.remaining() < 4) {
        throw new Damaged("its metadata ends early");
      }
      int n = b.getInt();
      if (n < 0 || n > MAX_STRING || n > b.remaining()) {
        throw new Damaged("its metadata declares a string of " + n + " bytes");
      }
      byte[] s = new byte[n];
      b.get(s);
      return new String(s, StandardCharsets.UTF_8);
    }

    private static ByteBuffer readAt(FileChannel ch, long at, int n) throws IOException, Damaged {
      ByteBuffer b = ByteBuffer.allocate(n);
      while (b.hasRemaining()) {
        if (ch.read(b, at + b.position()) < 0) {
          throw new Damaged("it ends early");
        }
      }
      return b.flip();
    }

    /** Why this cache does not fit the source, or null when it does. */
    String mismatch(ImageSource source, byte[] current) {
      if (!shape.equals(source.imageShape())) {
        return "it holds " + shape.toCompactString() + " images, the configuration asks for "
            + source.imageShape().toCompactString();
      }
      if (!MessageDigest.isEqual(fingerprint, current)) {
        if (sources != source.size()) {
          return String.format(Locale.ROOT, "the source changed: %d items now, %d when the cache was built",
              source.size(), sources);
        }
        return "the source changed: a file was replaced, resized or modified since the cache was built";
      }
      return null;
    }
  }
}
