package io.github.diffusion4j.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Small file helpers shared by this package; read failures become {@link CheckpointException}s. */
final class FileSupport {
  /** The buffer size for chunked reads and writes. */
  static final int CHUNK_BYTES = 1 << 16;

  private FileSupport() {}

  /**
   * Closes a file without throwing: after its content was read, or when reading it has already failed.
   *
   * @param c what to close
   */
  static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // nothing to report beyond what was read or has failed
    }
  }

  /**
   * Reads a whole file as strict UTF-8.
   *
   * @param file the file
   * @return the text
   * @throws CheckpointException if it is missing, unreadable or not UTF-8
   */
  static String readUtf8(Path file) {
    requireReadable(file);
    try {
      return decodeUtf8(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw CheckpointException.of(file, "no such file");
    } catch (CharacterCodingException e) {
      throw CheckpointException.of(file, "not valid UTF-8 text");
    } catch (IOException e) {
      throw CheckpointException.of(file, "cannot read: " + FileProblems.describe(e), e);
    }
  }

  /**
   * Checks, without opening it, that a file can be read (see {@link FileProblems#ofReading}).
   *
   * @param file the file
   * @throws CheckpointException naming the file and the problem
   */
  static void requireReadable(Path file) {
    FileProblems.ofReading(file).ifPresent(p -> {
      throw CheckpointException.of(file, p);
    });
  }

  /**
   * Decodes strict UTF-8.
   *
   * @param bytes the bytes
   * @return the text
   * @throws CharacterCodingException if the bytes are not UTF-8
   */
  static String decodeUtf8(byte[] bytes) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes))
        .toString();
  }

  /**
   * A new SHA-256 digest.
   *
   * @return the digest
   */
  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK must provide SHA-256", e);
    }
  }

  /**
   * The SHA-256 of a file, in lower-case hex.
   *
   * @param file the file
   * @return 64 hex digits
   * @throws CheckpointException if it cannot be read
   */
  static String sha256Hex(Path file) {
    requireReadable(file);
    MessageDigest md = sha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    } catch (NoSuchFileException e) {
      throw CheckpointException.of(file, "no such file");
    } catch (IOException e) {
      throw CheckpointException.of(file, "cannot read: " + FileProblems.describe(e), e);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * Writes floats as little-endian float32, in chunks (no copy of the whole array).
   *
   * @param out the stream
   * @param values the values
   * @throws IOException if the stream fails
   */
  static void writeFloatsLittleEndian(OutputStream out, float[] values) throws IOException {
    writeFloatsLittleEndian(out, values, values.length);
  }

  /**
   * Writes the first {@code length} values as little-endian float32, in chunks.
   *
   * @param out the stream
   * @param values the values
   * @param length how many, at most {@code values.length}
   * @throws IOException if the stream fails
   */
  static void writeFloatsLittleEndian(OutputStream out, float[] values, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    int perChunk = CHUNK_BYTES / 4;
    for (int i = 0; i < length; i += perChunk) {
      int n = Math.min(perChunk, length - i);
      buf.clear();
      buf.asFloatBuffer().put(values, i, n);
      out.write(buf.array(), 0, n * 4);
    }
  }
}
