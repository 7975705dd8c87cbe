package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The manifest of an output folder: written and read back, its checks, and what it catches. */
class ManifestTest {
  @TempDir
  Path dir;

  private static final String HASH = "0123456789abcdef".repeat(4);

  private static SampleManifest manifest(List<ShardResult> shards, int count) {
    return new SampleManifest(count, 7, List.of(3, 5, 5), SampleFormat.NPY, 4, "ddim", 20, "nd4j", 2, "/ck",
        Map.of("model.safetensors", HASH), shards);
  }

  @Test
  void aManifestWrittenBeforeTheThreadsKeyReadsAsNotRecorded() throws java.io.IOException {
    SampleManifest m = manifest(List.of(new ShardResult(0, 0, 8, "shard-00000.npy", 100, HASH)), 8);
    Path file = m.writeTo(dir);
    String text = java.nio.file.Files.readString(file);
    assertTrue(text.contains("\"threads\" : 2"), text);
    java.nio.file.Files.writeString(file, text.replace("\"threads\" : 2,", ""));
    assertEquals(0, SampleManifest.read(dir).threads());
  }

  @Test
  void itReadsBackWhatItWrites() {
    SampleManifest m = manifest(List.of(new ShardResult(0, 0, 8, "shard-00000.npy", 100, HASH),
        new ShardResult(1, 8, 2, "shard-00001.npy", 40, HASH)), 10);
    Path file = m.writeTo(dir);
    assertEquals(dir.resolve(SampleManifest.FILE), file);
    assertEquals(m, SampleManifest.read(dir));
    assertEquals(m, SampleManifest.read(file));
  }

  @Test
  void shardsMustCoverTheSamplesInOrder() {
    IllegalArgumentException gap = assertThrows(IllegalArgumentException.class, () -> manifest(List.of(
        new ShardResult(0, 0, 8, "a.npy", 1, HASH), new ShardResult(1, 9, 1, "b.npy", 1, HASH)), 10));
    assertEquals("shards: shard 1 (b.npy) starts at sample 9, expected shard 1 at sample 8", gap.getMessage());
    IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
        () -> manifest(List.of(new ShardResult(0, 0, 8, "a.npy", 1, HASH)), 10));
    assertEquals("shards: they hold 8 samples, but count is 10", few.getMessage());
    IllegalArgumentException noFormat = assertThrows(IllegalArgumentException.class, () -> new SampleManifest(1, 7,
        List.of(3, 5, 5), null, 4, "ddim", 20, "nd4j", 2, "/ck", Map.of(), List.of(new ShardResult(0, 0, 1, "a.npy",
            1, HASH))));
    assertEquals("format, sampler, backend and checkpoint are required", noFormat.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new ShardResult(0, 0, 1, "../x.npy", 1, HASH));
    assertThrows(IllegalArgumentException.class, () -> new ShardResult(0, 0, 1, "x.npy", 1, "ABC"));
  }

  @Test
  void aDamagedManifestIsNamedWithItsKey() throws IOException {
    Path file = dir.resolve(SampleManifest.FILE);
    Files.writeString(file, "{\"kind\": \"something else\"}");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SampleManifest.read(file));
    assertEquals(file + ": kind: not a diffusion4j samples manifest", e.getMessage());
    String good = manifest(List.of(new ShardResult(0, 0, 10, "s.npy", 1, HASH)), 10).toJson();
    Files.writeString(file, good.replace("\"count\" : 10,", "\"count\" : \"ten\","));
    e = assertThrows(IllegalArgumentException.class, () -> SampleManifest.read(file));
    assertEquals(file + ": count: expected an integer, got \"ten\"", e.getMessage());
    Files.writeString(file, good.replace("\"sampler\" : \"ddim\",", "\"sampler\" : 5,"));
    e = assertThrows(IllegalArgumentException.class, () -> SampleManifest.read(file));
    assertEquals(file + ": sampler: expected a string, got 5", e.getMessage());
    Files.writeString(file, good.replace("\"sampler\" : \"ddim\",", ""));
    e = assertThrows(IllegalArgumentException.class, () -> SampleManifest.read(file));
    assertEquals(file + ": sampler: missing", e.getMessage());
    Files.writeString(file, "not json");
    e = assertThrows(IllegalArgumentException.class, () -> SampleManifest.read(file));
    assertTrue(e.getMessage().startsWith(file + ": not JSON"), e.getMessage());
    // a truncated manifest: Jackson's words and where, not its "[Source: REDACTED ...]"
    Files.writeString(file, good.substring(0, good.length() / 2));
    e = assertThrows(IllegalArgumentException.class, () -> SampleManifest.read(file));
    assertTrue(e.getMessage().startsWith(file + ": not JSON (Unexpected end-of-input"), e.getMessage());
    assertFalse(e.getMessage().contains("Source") || e.getMessage().contains("REDACTED"), e.getMessage());
    assertTrue(e.getMessage().matches(".*, line \\d+, column \\d+\\)"), e.getMessage());
  }

  /**
   * A key of the wrong JSON type is named, not read as empty or as text: a string image_shape was read as [], a list
   * of checkpoint hashes as none, a number as a hash, the shards as an object's values; an unknown format, a file
   * that is not a JSON object and a key set to null are named too.
   */
  @Test
  void aKeyOfTheWrongTypeIsNamedNotReadAsEmpty() throws IOException {
    Path file = dir.resolve(SampleManifest.FILE);
    String good = manifest(List.of(new ShardResult(0, 0, 10, "s.npy", 1, HASH)), 10).toJson();
    String shape = good.substring(good.indexOf("\"image_shape\""), good.indexOf("\"format\""));
    String hashes = "\"model.safetensors\" : \"" + HASH + "\"";
    assertTrue(good.contains(hashes), good);
    Map<String, String> damaged = new java.util.LinkedHashMap<>();
    damaged.put(good.replace(shape, "\"image_shape\" : \"3x5x5\",\n  "),
        "image_shape: expected a list, got \"3x5x5\"");
    damaged.put(good.replace(shape, "\"image_shape\" : [ 3, \"five\", 5 ],\n  "),
        "image_shape[1]: expected an integer, got \"five\"");
    damaged.put(good.replace(shape, "\"image_shape\" : [ 3, 5, 4294967301 ],\n  "),
        "image_shape[2]: 4294967301 is out of range (at most 2147483647)");
    damaged.put(good.replace("{\n    " + hashes + "\n  }", "[ \"" + HASH + "\" ]"),
        "checkpoint_sha256: expected an object, got [\"" + HASH + "\"]");
    damaged.put(good.replace(hashes, "\"model.safetensors\" : 12"),
        "checkpoint_sha256.model.safetensors: expected a string, got 12");
    damaged.put(good.replace("\"shards\" : [", "\"shards\" : 5, \"x\" : ["), "shards: expected a list, got 5");
    damaged.put(good.replace("\"shards\" : [", "\"shards\" : [ 7, "), "shards[0]: expected an object, got 7");
    damaged.put(good.replace("\"format\" : \"npy\"", "\"format\" : \"jpg\""),
        "format: unknown 'jpg' (allowed: npy, safetensors, png)");
    damaged.put(good.replace("\"sampler\" : \"ddim\"", "\"sampler\" : null"), "sampler: missing");
    damaged.put("[ 1, 2 ]", "kind: not a diffusion4j samples manifest");
    damaged.put("null", "kind: not a diffusion4j samples manifest");
    for (Map.Entry<String, String> d : damaged.entrySet()) {
      assertTrue(!d.getKey().equals(good), d.getValue()); // the replacement took place
      Files.writeString(file, d.getKey());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SampleManifest.read(file),
          d.getValue());
      assertEquals(file + ": " + d.getValue(), e.getMessage());
    }
  }

  @Test
  void aManifestThatIsAFifoOrTooLargeIsRefusedBeforeItIsRead() throws Exception {
    Path fifo = dir.resolve("fifo");
    Files.createDirectories(fifo);
    Process mk = new ProcessBuilder("mkfifo", fifo.resolve(SampleManifest.FILE).toString()).start();
    Assumptions.assumeTrue(mk.waitFor() == 0, "mkfifo is available");
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> SampleManifest.read(fifo));
    assertEquals("cannot read " + fifo.resolve(SampleManifest.FILE) + ": is not a regular file (a FIFO, socket or "
        + "device)", e.getMessage());
    Path huge = dir.resolve("huge.json");
    try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
      f.setLength(SampleManifest.MAX_BYTES + 1); // sparse: nothing is written
    }
    IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class, () -> SampleManifest.read(huge));
    assertEquals(huge + ": " + (SampleManifest.MAX_BYTES + 1) + " bytes, larger than a samples manifest can be ("
        + SampleManifest.MAX_BYTES + " bytes)", tooLarge.getMessage());
  }

  @Test
  void countsBeyondAnIntAreRefusedNotWrappedAround() throws IOException {
    Path file = dir.resolve(SampleManifest.FILE);
    String good = manifest(List.of(new ShardResult(0, 0, 4, "s.npy", 1, HASH)), 4).toJson();
    Files.writeString(file, good.replace("\"count\" : 4,", "\"count\" : 4294967300,"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SampleManifest.read(file));
    assertEquals(file + ": count: 4294967300 is out of range (at most 2147483647)", e.getMessage());
    Files.writeString(file, good.replace("\"seed\" : 7,", "\"seed\" : 1000000000000000000000000000000,"));
    e = assertThrows(IllegalArgumentException.class, () -> SampleManifest.read(file));
    assertEquals(file + ": seed: expected an integer, got 1000000000000000000000000000000", e.getMessage());
  }

  @Test
  void verifyRefusesLinksAndSpecialFilesAndComparesSizesFirst() throws Exception {
    Path outside = Files.writeString(dir.resolve("outside.npy"), "x".repeat(100));
    SampleManifest m = manifest(List.of(new ShardResult(0, 0, 4, "s.npy", 100, HASH)), 4);
    Path out = Files.createDirectories(dir.resolve("out"));
    Path shard = out.resolve("s.npy");
    Files.createSymbolicLink(shard, outside);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.verify(out));
    assertTrue(e.getMessage().startsWith(shard + ": is a symbolic link"), e.getMessage());
    Files.delete(shard);
    try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
      f.setLength(10L << 30); // sparse, 10 GiB: refused by its size, never read
    }
    e = assertThrows(IllegalStateException.class, () -> m.verify(out));
    assertEquals(shard + ": does not match manifest.json (10737418240 bytes; expected 100 bytes)", e.getMessage());
    Files.delete(shard);
    Process mk = new ProcessBuilder("mkfifo", shard.toString()).start();
    Assumptions.assumeTrue(mk.waitFor() == 0, "mkfifo is available");
    e = assertThrows(IllegalStateException.class, () -> m.verify(out));
    assertEquals(shard + ": is not a regular file (a FIFO, socket or device)", e.getMessage());
  }

  /**
   * A PNG shard is a folder of plain files: a missing folder, a file in its place and a folder inside it are named;
   * a writer's temporary file in it is passed over, in its size and its hash.
   */
  @Test
  void verifyOfAPngShardWantsAFolderOfPlainFilesAndPassesOverTemporaries() throws IOException {
    SampleManifest m = new SampleManifest(4, 7, List.of(3, 5, 5), SampleFormat.PNG, 4, "ddim", 20, "nd4j", 2, "/ck",
        Map.of("model.safetensors", HASH), List.of(new ShardResult(0, 0, 4, "part-0", 5, HASH)));
    Path out = Files.createDirectories(dir.resolve("png"));
    Path shard = out.resolve("part-0");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.verify(out));
    assertEquals(shard + ": no such folder", e.getMessage());
    // a link to a folder of matching files elsewhere is not the job's shard
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
    Files.writeString(elsewhere.resolve("0.png"), "12345");
    Files.createSymbolicLink(shard, elsewhere);
    e = assertThrows(IllegalStateException.class, () -> m.verify(out));
    assertEquals(shard + ": is a symbolic link; a shard is a folder the job wrote into the output folder",
        e.getMessage());
    Files.delete(shard);
    Files.writeString(shard, "12345");
    e = assertThrows(IllegalStateException.class, () -> m.verify(out));
    assertEquals(shard + ": is not a folder", e.getMessage());
    Files.delete(shard);
    Files.createDirectories(shard.resolve("inner"));
    e = assertThrows(IllegalStateException.class, () -> m.verify(out));
    assertEquals(shard.resolve("inner") + ": is not a regular file (a symbolic link, folder, FIFO or device)",
        e.getMessage());
    Files.delete(shard.resolve("inner"));
    Files.writeString(shard.resolve("0.png"), "12345");
    Files.writeString(shard.resolve(".tmp-1.png"), "a killed writer's temporary");
    e = assertThrows(IllegalStateException.class, () -> m.verify(out)); // the 5 bytes counted, their hash not HASH
    assertTrue(e.getMessage().startsWith(shard + ": does not match manifest.json (5 bytes, SHA-256 "), e.getMessage());
    assertTrue(e.getMessage().endsWith("; expected 5 bytes, 0123456789ab...)"), e.getMessage());
  }

  @Test
  void verifyFindsAShardThatChanged() throws IOException {
    Path out = SparkTestSupport.root().resolve("verify");
    SampleManifest m = SparkDiffusion.sample(SparkTestSupport.context(),
        SampleJob.of(SparkTestSupport.gradientRun(), 1024 + 3, out).withPartitions(2));
    m.verify(out);
    Path shard = out.resolve(m.shards().get(1).file());
    byte[] bytes = Files.readAllBytes(shard);
    bytes[bytes.length - 1] ^= 1;
    Files.write(shard, bytes);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.verify(out));
    assertTrue(e.getMessage().startsWith(shard + ": does not match manifest.json"), e.getMessage());
  }

  @Test
  void shardsUnderTheWrongNumbersAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> manifest(List.of(new ShardResult(1, 0, 8, "a.npy", 1, HASH),
        new ShardResult(0, 8, 2, "b.npy", 1, HASH)), 10));
    assertThrows(IllegalArgumentException.class, () -> manifest(List.of(new ShardResult(0, 0, 8, "a.npy", 1, HASH),
        new ShardResult(2, 8, 2, "b.npy", 1, HASH)), 10));
  }

  @Test
  void aManifestOfANewerFormatIsRefusedAndAnOlderOneRead() throws IOException {
    Path file = dir.resolve(SampleManifest.FILE);
    SampleManifest m = manifest(List.of(new ShardResult(0, 0, 4, "s.npy", 1, HASH)), 4);
    String good = m.toJson();
    assertTrue(good.contains("\"format_version\" : 1,"), good);
    Files.writeString(file, good.replace("\"format_version\" : 1,", "\"format_version\" : 2,"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SampleManifest.read(file));
    assertEquals(file + ": format_version: 2 is newer than 1, the newest this release reads", e.getMessage());
    Files.writeString(file, good.replace("\"format_version\" : 1,", "\"format_version\" : 0,"));
    assertEquals(m, SampleManifest.read(file));
  }

  @Test
  void aShardIsAPlainNameInTheOutputFolderWithAtLeastOneSample() {
    // verify() resolves the name in the output folder: "..", a hidden or temporary name or a path would reach past it
    for (String bad : List.of("..", ".", ".tmp-shard-00000.npy", "a\\b.npy", "a/b.npy", "../b.npy", "")) {
      assertThrows(IllegalArgumentException.class, () -> new ShardResult(0, 0, 1, bad, 1, HASH), bad);
    }
    assertThrows(IllegalArgumentException.class, () -> new ShardResult(0, 0, 0, "s.npy", 1, HASH));
    assertThrows(IllegalArgumentException.class, () -> new ShardResult(0, 0, 1, "s.npy", -1, HASH));
    assertThrows(IllegalArgumentException.class, () -> new ShardResult(0, -1, 1, "s.npy", 1, HASH));
    assertEquals("shard-00000", new ShardResult(0, 0, 1, "shard-00000", 0, HASH).file());
  }
}
