package io.github.diffusion4j.data;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 over a source's identity and its files' names, sizes and modification times. */
final class Fingerprint {
  private final MessageDigest md;

  Fingerprint(String identity) {
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK must provide SHA-256", e);
    }
    text(identity);
  }

  /** Adds one file's relative name, size and modification time (milliseconds). */
  Fingerprint file(String name, long size, long modifiedMillis) {
    text(name);
    md.update(ByteBuffer.allocate(16).putLong(size).putLong(modifiedMillis).array());
    return this;
  }

  private void text(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    md.update(ByteBuffer.allocate(4).putInt(b.length).array());
    md.update(b);
  }

  byte[] digest() {
    return md.digest();
  }
}
