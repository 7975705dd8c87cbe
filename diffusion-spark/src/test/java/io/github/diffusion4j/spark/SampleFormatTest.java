package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Format names as the command line and the manifest give them, shard names, and the checksum itself. */
class SampleFormatTest {
  @Test
  void aFormatIsNamedInAnyCaseAndAnUnknownNameIsNone() {
    for (SampleFormat f : SampleFormat.values()) {
      assertEquals(Optional.of(f), SampleFormat.named(f.configName()));
      assertEquals(Optional.of(f), SampleFormat.named(f.configName().toUpperCase(java.util.Locale.ROOT)));
    }
    assertEquals(Optional.of(SampleFormat.SAFETENSORS), SampleFormat.named("SafeTensors"));
    assertEquals(Optional.empty(), SampleFormat.named("jpg"));
    assertEquals(Optional.empty(), SampleFormat.named(""));
  }

  @Test
  void shardNamesAreNumberedFilesOrPngFolders() {
    assertEquals("shard-00003.npy", SampleFormat.NPY.shardName(3));
    assertEquals("shard-00012.safetensors", SampleFormat.SAFETENSORS.shardName(12));
    assertEquals("shard-00000", SampleFormat.PNG.shardName(0));
    assertEquals("shard-123456.npy", SampleFormat.NPY.shardName(123456));
  }

  @Test
  void theChecksumIsSha256OfExactlyTheFilesBytes(@TempDir Path dir) throws IOException {
    // FIPS 180-2's test vectors, so that a checksum that is merely self-consistent is not enough
    assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        Sha256.of("abc".getBytes(StandardCharsets.US_ASCII)));
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256.of(new byte[0]));
    // a file larger than the read buffer, its last read short: the same as the digest of its bytes
    byte[] bytes = new byte[(1 << 16) * 2 + 12345];
    new java.util.Random(7).nextBytes(bytes);
    Path file = Files.write(dir.resolve("f.bin"), bytes);
    assertEquals(Sha256.of(bytes), Sha256.of(file));
    java.security.MessageDigest md = Sha256.digest();
    assertEquals(bytes.length, Sha256.update(md, file));
    assertEquals(Sha256.of(bytes), Sha256.hex(md));
    Path empty = Files.write(dir.resolve("empty.bin"), new byte[0]);
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256.of(empty));
  }
}
