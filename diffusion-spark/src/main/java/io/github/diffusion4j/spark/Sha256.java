package io.github.diffusion4j.spark;

import io.github.diffusion4j.io.FileProblems;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 as lower-case hex, of bytes and files (the checksums of the manifest and the checkpoint pinning). */
final class Sha256 {
  private Sha256() {}

  static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  static String hex(MessageDigest md) {
    return HexFormat.of().formatHex(md.digest());
  }

  static String of(byte[] content) {
    return HexFormat.of().formatHex(digest().digest(content));
  }

  static String of(Path file) {
    MessageDigest md = digest();
    update(md, file);
    return hex(md);
  }

  /**
   * Adds a file's bytes to a digest.
   *
   * @return the number of bytes read
   * @throws UncheckedIOException naming the file if it cannot be read
   */
  static long update(MessageDigest md, Path file) {
    byte[] buffer = new byte[1 << 16];
    long size = 0;
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        md.update(buffer, 0, n);
        size += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + FileProblems.describe(e), e);
    }
    return size;
  }
}
