package io.github.diffusion4j.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * One open IDX file of {@link IdxImages}: its stream (decompressed when gzip), its length when plain,
 * and the length its gzip trailer states when compressed. It checks headers and lengths, and reads the
 * data in chunks; every problem is a {@link DataFileException} naming the file.
 */
final class IdxFile implements AutoCloseable {
  private static final int IMAGES_HEADER = 16;
  private static final int LABELS_HEADER = 8;
  private static final int FIRST_CHUNK = 1 << 20;

  private final Path file;
  private final InputStream in;
  /** The file's length, or -1 when it is compressed. */
  private final long plainLength;
  /** Compressed: the gzip trailer's ISIZE (the data's length modulo 2^32), or -1. */
  private final long gzipSize;
  private final String compressed;
  private int headerLength;
  private long declaredBytes;

  private IdxFile(Path file, InputStream in, long plainLength, long gzipSize) {
    this.file = file;
    this.in = in;
    this.plainLength = plainLength;
    this.gzipSize = gzipSize;
    this.compressed = plainLength < 0 ? " of the decompressed data" : "";
  }

  static IdxFile open(Path file) {
    if (Files.isDirectory(file)) {
      throw new DataFileException(file, "is a directory; expected an IDX file");
    }
    if (Files.exists(file) && !Files.isRegularFile(file)) {
      // checked before opening: reading a FIFO would block until something writes to it
      throw new DataFileException(file, "is not a regular file (a FIFO, socket or device); expected an IDX file");
    }
    InputStream raw = null;
    try {
      long size = Files.size(file);
      raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
      raw.mark(2);
      boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
      raw.reset();
      if (!gzip) {
        return new IdxFile(file, raw, size, -1);
      }
      return new IdxFile(file, new GZIPInputStream(raw, 1 << 16), -1, gzipTrailer(file, size));
    } catch (NoSuchFileException e) {
      throw new DataFileException(file, "no such file", e);
    } catch (AccessDeniedException e) {
      throw new DataFileException(file, "cannot be read (permission denied)", e);
    } catch (EOFException e) {
      closeQuietly(raw);
      throw new DataFileException(file, "truncated gzip header", e);
    } catch (ZipException e) {
      closeQuietly(raw);
      throw new DataFileException(file, "corrupt gzip data: " + e.getMessage(), e);
    } catch (IOException e) {
      closeQuietly(raw);
      throw new DataFileException(file, "cannot be read: " + e.getMessage(), e);
    }
  }

  IdxImages.Header imagesHeader() {
    byte[] b = header(IdxImages.IMAGES_MAGIC, IMAGES_HEADER, "images");
    long n = u32(b, 4);
    long rows = u32(b, 8);
    long cols = u32(b, 12);
    String dims = n + " images of " + rows + "x" + cols;
    if (n == 0 || rows == 0 || cols == 0) {
      throw error("header declares " + dims + "; every dimension must be positive");
    }
    checkDeclared(product(n, rows, cols), dims);
    return new IdxImages.Header((int) n, (int) rows, (int) cols);
  }

  int labelsHeader() {
    byte[] b = header(IdxImages.LABELS_MAGIC, LABELS_HEADER, "labels");
    long n = u32(b, 4);
    if (n == 0) {
      throw error("header declares 0 labels; the count must be positive");
    }
    checkDeclared(product(n), n + " labels");
    return (int) n;
  }

  /** The product of unsigned 32-bit dimensions, or {@code Long.MAX_VALUE} once it passes the limit. */
  private static long product(long... dims) {
    long p = 1;
    for (long d : dims) {
      if (p > IdxImages.MAX_BYTES || d > IdxImages.MAX_BYTES) {
        return Long.MAX_VALUE; // both factors at most 2^30 below: p * d cannot overflow
      }
      p *= d;
    }
    return p;
  }

  /** The last four bytes of a gzip file, little-endian: the uncompressed size modulo 2^32. */
  private static long gzipTrailer(Path file, long size) throws IOException {
    if (size < 18) {
      return -1; // shorter than a gzip header and trailer: reading reports it
    }
    try (SeekableByteChannel ch = Files.newByteChannel(file)) {
      ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
      ch.position(size - 4);
      while (b.hasRemaining() && ch.read(b) >= 0) {
        // fill
      }
      return b.hasRemaining() ? -1 : Integer.toUnsignedLong(b.getInt(0));
    }
  }

  /**
   * Whether the data's length is known to match the header: always for a plain file (checked with the
   * header); for a compressed one when its gzip trailer states the length the header declares.
   */
  private boolean lengthKnown() {
    return plainLength >= 0 || gzipSize == ((headerLength + declaredBytes) & 0xffffffffL);
  }

  /**
   * Reads the first {@code n} images, normalised and padded. When the data's length is known the
   * values are written as the bytes arrive, in chunks; otherwise the bytes are read first (see {@link
   * #data}), so that a header that lies costs no more than the data the file holds.
   */
  float[] images(IdxImages.Header h, int n, int outRows, int outCols) {
    int per = h.rows() * h.cols();
    long bytes = (long) n * per;
    boolean whole = n == h.count();
    if (!lengthKnown()) {
      byte[] pixels = data(bytes, whole, "pixels");
      float[] out = IdxImages.newImages(n, h, outRows, outCols);
      IdxImages.normalise(pixels, n, h.rows(), h.cols(), out, 0, outRows, outCols);
      return out;
    }
    float[] out = IdxImages.newImages(n, h, outRows, outCols);
    int chunk = Math.max(1, FIRST_CHUNK / per);
    byte[] buf = new byte[Math.min(n, chunk) * per];
    for (int i = 0; i < n; i += chunk) {
      int k = Math.min(chunk, n - i);
      int got = readFully(buf, 0, k * per);
      if (got < k * per) {
        throw truncated(bytes, (long) i * per + got, "pixels");
      }
      IdxImages.normalise(buf, k, h.rows(), h.cols(), out, i, outRows, outCols);
    }
    if (whole) {
      checkEnd(bytes);
    }
    return out;
  }

  /** Checks the declared data size against the limit and, for a plain file, against its length. */
  private void checkDeclared(long bytes, String dims) {
    declaredBytes = bytes;
    if (bytes > IdxImages.MAX_BYTES) {
      throw error("header declares " + dims + ", "
          + (bytes == Long.MAX_VALUE ? "" : bytes + " bytes, ") + "more than the limit of "
          + IdxImages.MAX_BYTES + " bytes (1 GiB) of data");
    }
    if (plainLength >= 0) {
      long expected = headerLength + bytes;
      if (plainLength < expected) {
        throw error("truncated: the header declares " + dims + ", so expected " + expected
            + " bytes (" + headerLength + " header + " + bytes + " data), found " + plainLength);
      }
      if (plainLength > expected) {
        throw error("longer than its header declares: " + dims + " make " + expected + " bytes ("
            + headerLength + " header + " + bytes + " data), found " + plainLength);
      }
    }
  }

  private byte[] header(int magic, int length, String kind) {
    headerLength = length;
    byte[] b = new byte[length];
    int got = readFully(b, 0, length);
    String expected = "an IDX " + kind + " file (magic " + hex(magic) + ")";
    if (got == 0) {
      throw error("is empty; expected " + expected);
    }
    if (got < 4) {
      throw error("truncated header: expected " + length + " bytes" + compressed + ", found " + got);
    }
    int found = (int) u32(b, 0);
    if (found != magic) {
      throw error("expected " + expected + ", found magic " + hex(found) + describe(found, kind));
    }
    if (got < length) {
      throw error("truncated header: expected " + length + " bytes" + compressed + ", found " + got);
    }
    return b;
  }

  private static String describe(int found, String kind) {
    if (found == IdxImages.LABELS_MAGIC) {
      return ": this looks like a labels file given as " + kind;
    }
    if (found == IdxImages.IMAGES_MAGIC) {
      return ": this looks like an images file given as " + kind;
    }
    if ((found >>> 16) == 0) {
      int type = (found >>> 8) & 0xff;
      return " (IDX data type 0x" + String.format(Locale.ROOT, "%02X", type) + " with " + (found & 0xff)
          + " dimensions); only unsigned bytes (0x08) are supported";
    }
    return ": not an IDX file";
  }

  /**
   * Reads {@code bytes} bytes of data after the header. A compressed file's buffer grows as data
   * arrives, so a header that declares more than the file holds cannot make it allocate.
   *
   * @param whole whether this is all the declared data (then a compressed file must end after it)
   */
  byte[] data(long bytes, boolean whole, String what) {
    int want = (int) bytes;
    byte[] buf = new byte[plainLength >= 0 ? want : Math.min(want, FIRST_CHUNK)];
    int got = 0;
    while (got < want) {
      if (got == buf.length) {
        buf = Arrays.copyOf(buf, (int) Math.min(want, 2L * buf.length));
      }
      int r = readFully(buf, got, buf.length - got);
      got += r;
      if (got < buf.length) {
        break;
      }
    }
    if (got < want) {
      throw truncated(want, got, what);
    }
    if (whole) {
      checkEnd(want);
    }
    return buf;
  }

  private DataFileException truncated(long want, long got, String what) {
    return error("truncated: expected " + want + " bytes of " + what + " after the " + headerLength
        + "-byte header" + compressed + ", found " + got);
  }

  /** A compressed file must end after the data its header declares (a plain one was measured). */
  private void checkEnd(long dataBytes) {
    if (plainLength < 0 && readFully(new byte[1], 0, 1) > 0) {
      throw error("longer than its header declares: more than " + (headerLength + dataBytes)
          + " bytes" + compressed);
    }
  }

  /** Reads until {@code len} bytes or the end; a compressed stream that ends early is an end too. */
  private int readFully(byte[] b, int off, int len) {
    int got = 0;
    try {
      while (got < len) {
        int r = in.read(b, off + got, len - got);
        if (r < 0) {
          break;
        }
        got += r;
      }
    } catch (EOFException e) {
      // GZIPInputStream: the compressed data ends early; the caller reports what is missing
    } catch (ZipException e) {
      throw new DataFileException(file, "corrupt gzip data: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new DataFileException(file, "cannot be read: " + e.getMessage(), e);
    }
    return got;
  }

  DataFileException error(String problem) {
    return new DataFileException(file, problem);
  }

  @Override
  public void close() {
    closeQuietly(in);
  }

  private static void closeQuietly(InputStream s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        // nothing was written; a failed close of a read stream loses nothing
      }
    }
  }

  private static long u32(byte[] b, int at) {
    return ((b[at] & 0xffL) << 24) | ((b[at + 1] & 0xffL) << 16) | ((b[at + 2] & 0xffL) << 8)
        | (b[at + 3] & 0xffL);
  }

  private static String hex(int v) {
    return String.format(Locale.ROOT, "0x%08X", v);
  }
}
