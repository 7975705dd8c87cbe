package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming sample writer: the same bytes as the in-memory writers, batch by batch, atomic. */
class SampleWriterTest {
  @TempDir Path dir;

  private static final Shape IMAGE = Shape.of(3, 5, 5);

  private static float[] values(int n) {
    float[] v = new float[n * IMAGE.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) Math.sin(i * 0.37);
    }
    return v;
  }

  private List<String> entries() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** Writes {@code all} in batches of the given sizes. */
  private static void writeInBatches(SampleWriter w, float[] all, int... sizes) {
    int k = IMAGE.size();
    int first = 0;
    for (int n : sizes) {
      w.write(Arrays.copyOfRange(all, first * k, (first + n) * k));
      first += n;
    }
  }

  @Test
  void batchesGiveTheBytesOfTheInMemoryWriters() throws IOException {
    float[] all = values(10);
    Path npy = dir.resolve("s.npy");
    try (SampleWriter w = SampleWriter.create(npy, IMAGE, 10, Map.of("seed", "3"))) {
      writeInBatches(w, all, 4, 1, 5);
      w.commit();
    }
    assertArrayEquals(NpyWriter.toBytes(all, Shape.batchOf(10, IMAGE)), Files.readAllBytes(npy));

    Path st = dir.resolve("s.safetensors");
    try (SampleWriter w = SampleWriter.create(st, IMAGE, 10, Map.of("seed", "3", "range", "[0, 1]"))) {
      writeInBatches(w, all, 3, 3, 3, 1);
      w.commit();
    }
    Path reference = dir.resolve("reference.safetensors");
    SafeTensors.writeSamples(reference, all, Shape.batchOf(10, IMAGE), Map.of("seed", "3", "range", "[0, 1]"));
    assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(st));
    assertArrayEquals(all, SafeTensors.read(st).tensors().get(SafeTensors.SAMPLES_KEY).toArray());
  }

  @Test
  void nothingAppearsBeforeTheCommitAndAnAbandonedWriteLeavesTheOldFile() throws IOException {
    Path f = dir.resolve("s.npy");
    Files.writeString(f, "old");
    try (SampleWriter w = SampleWriter.create(f, IMAGE, 4, Map.of())) {
      w.write(values(2));
      assertEquals("old", Files.readString(f), "the file appears only when complete");
      assertEquals(2, w.written());
    }
    assertEquals("old", Files.readString(f));
    assertEquals(List.of("s.npy"), entries(), "no temporary is left");
  }

  @Test
  void tooFewOrTooManyImagesAreRefused() throws IOException {
    Path f = dir.resolve("s.safetensors");
    try (SampleWriter w = SampleWriter.create(f, IMAGE, 3, Map.of())) {
      w.write(values(2));
      IllegalArgumentException over = assertThrows(IllegalArgumentException.class, () -> w.write(values(2)));
      assertTrue(over.getMessage().contains("4 images, but the header says 3"), over.getMessage());
      IllegalStateException few = assertThrows(IllegalStateException.class, w::commit);
      assertTrue(few.getMessage().contains("only 2 of 3 images"), few.getMessage());
    }
    assertFalse(Files.exists(f));
    assertEquals(List.of(), entries());
    try (SampleWriter w = SampleWriter.create(f, IMAGE, 3, Map.of())) {
      assertThrows(IllegalArgumentException.class, () -> w.write(new float[IMAGE.size() + 1]), "a partial image");
    }
    assertThrows(IllegalArgumentException.class, () -> SampleWriter.create(dir.resolve("s.png"), IMAGE, 3, Map.of()));
    assertThrows(IllegalArgumentException.class, () -> SampleWriter.create(f, IMAGE, 0, Map.of()));
  }

  /**
   * A folder given for the file is refused before anything is written (its content left alone), a count whose bytes
   * overflow a file size is refused naming it, and a second commit is refused, to a file (kept as committed) or to
   * a stream.
   */
  @Test
  void aFolderAnOverflowingCountAndASecondCommitAreRefused() throws IOException {
    Path folder = Files.createDirectories(dir.resolve("out.npy"));
    Path inside = Files.writeString(folder.resolve("keep.txt"), "mine");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SampleWriter.create(folder, IMAGE, 3, Map.of()));
    assertEquals(folder + ": is a folder; give a .npy or .safetensors file", e.getMessage());
    assertEquals("mine", Files.readString(inside));
    Path f = dir.resolve("s.npy");
    long huge = Long.MAX_VALUE / 4 / IMAGE.size() + 1;
    e = assertThrows(IllegalArgumentException.class, () -> SampleWriter.create(f, IMAGE, huge, Map.of()));
    assertEquals(f + ": " + huge + " images of " + IMAGE + " do not fit in a file", e.getMessage());
    try (SampleWriter w = SampleWriter.create(f, IMAGE, 2, Map.of())) {
      w.write(values(2));
      w.commit();
      byte[] committed = Files.readAllBytes(f);
      IllegalStateException twice = assertThrows(IllegalStateException.class, w::commit);
      assertEquals(f + ": already committed or closed", twice.getMessage());
      assertArrayEquals(committed, Files.readAllBytes(f));
    }
    assertTrue(Files.exists(f), "closing after the commit keeps the file");
    // a stream has no file of its own to refuse a second commit: the writer does
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    try (SampleWriter w = SampleWriter.to(stream, SampleWriter.Format.NPY, IMAGE, 2, Map.of())) {
      w.write(values(2));
      w.commit();
      IllegalStateException twice = assertThrows(IllegalStateException.class, w::commit);
      assertEquals("<stream>: already committed or closed", twice.getMessage());
    }
  }

  @Test
  void theHeaderHoldsCountsBeyondWhatAnArrayHolds() throws IOException {
    // 40 million 3x32x32 images: 1.2e11 values, more than any Java array; the header is exact
    Shape image = Shape.of(3, 32, 32);
    ByteArrayOutputStream npy = new ByteArrayOutputStream();
    SampleWriter.to(npy, SampleWriter.Format.NPY, image, 40_000_000L, Map.of());
    assertTrue(npy.toString(StandardCharsets.ISO_8859_1).contains("'shape': (40000000, 3, 32, 32)"), npy.toString());
    ByteArrayOutputStream st = new ByteArrayOutputStream();
    SampleWriter.to(st, SampleWriter.Format.SAFETENSORS, image, 40_000_000L, Map.of());
    String header = st.toString(StandardCharsets.ISO_8859_1);
    assertTrue(header.contains("\"shape\":[40000000,3,32,32],\"data_offsets\":[0,491520000000]"), header);
  }

  @Test
  void aFileLargerThanTheFreeSpaceIsRefusedBeforeAnythingIsWritten() throws IOException {
    // a trillion 3x32x32 images: 12 PB, more than any disk the tests run on has free
    Path f = dir.resolve("s.npy");
    java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class,
        () -> SampleWriter.create(f, Shape.of(3, 32, 32), 1_000_000_000_000L, Map.of()));
    assertTrue(e.getMessage().startsWith("cannot write " + f + ": 1000000000000 images of "), e.getMessage());
    assertTrue(e.getMessage().contains("make a file of 12288000000000128 bytes (12.3 PB)") && e.getMessage().contains(") free;"),
        e.getMessage());
    assertEquals(List.of(), entries(), "no file and no temporary");
    try (SampleWriter w = SampleWriter.create(f, IMAGE, 2, Map.of())) { // what fits is written as before
      w.write(values(2));
      w.commit();
    }
    assertEquals(128 + 2 * IMAGE.size() * 4, Files.size(f));
  }

  @Test
  void checkWritesNothingAndMeasuresTheDiskOfAFolderStillToBeMade() {
    Path f = dir.resolve("not/yet/s.npy");
    SampleWriter.check(f, IMAGE, 2, Map.of()); // fits: no error, nothing created
    assertFalse(Files.exists(dir.resolve("not")));
    java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class,
        () -> SampleWriter.check(f, Shape.of(3, 32, 32), 1_000_000_000_000L, Map.of()));
    assertTrue(e.getMessage().contains("but the disk holding " + dir + " has "), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> SampleWriter.check(dir.resolve("s.png"), IMAGE, 2, Map.of()));
  }

  @Test
  void aStreamIsWrittenWithoutTheRename() {
    float[] all = values(3);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SampleWriter w = SampleWriter.to(out, SampleWriter.Format.NPY, IMAGE, 3, Map.of());
    w.write(all, 1);
    w.write(Arrays.copyOfRange(all, IMAGE.size(), all.length));
    w.commit();
    assertArrayEquals(NpyWriter.toBytes(all, Shape.batchOf(3, IMAGE)), out.toByteArray());
    assertThrows(IllegalStateException.class, () -> w.write(all, 1), "no writing after the commit");
  }

  @Test
  void formatsAreToldByTheExtension() {
    assertEquals(SampleWriter.Format.NPY, SampleWriter.Format.of(Path.of("a/B.NPY")).orElseThrow());
    assertEquals(SampleWriter.Format.SAFETENSORS, SampleWriter.Format.of(Path.of("x.safetensors")).orElseThrow());
    assertTrue(SampleWriter.Format.of(Path.of("x.png")).isEmpty());
  }

  /** The size is told in the largest unit that leaves a number of at least 1, up to exabytes. */
  @Test
  void theSizeOfAFileTooLargeIsToldInUnits() {
    Path f = dir.resolve("s.npy");
    // 10^15 one-value images: 4 PB and the 128-byte header
    java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class,
        () -> SampleWriter.check(f, Shape.of(1), 1_000_000_000_000_000L, Map.of()));
    assertTrue(e.getMessage().contains("make a file of 4000000000000128 bytes (4.0 PB), but"), e.getMessage());
    // 2^60 images: 4.6 EB, the largest unit
    e = assertThrows(java.io.UncheckedIOException.class,
        () -> SampleWriter.check(f, Shape.of(1), 1L << 60, Map.of()));
    assertTrue(e.getMessage().contains("make a file of 4611686018427388032 bytes (4.6 EB), but"), e.getMessage());
  }

  @Test
  void anArrayOfExactlyTheImagesIsWrittenAndOneValueLessIsRefused() throws IOException {
    Path f = dir.resolve("s.npy");
    try (SampleWriter w = SampleWriter.create(f, IMAGE, 2, Map.of())) {
      assertEquals(2, w.count());
      float[] one = Arrays.copyOf(values(1), IMAGE.size());
      w.write(one, 1);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> w.write(Arrays.copyOf(one, IMAGE.size() - 1), 1));
      assertEquals(f + ": " + (IMAGE.size() - 1) + " values hold fewer than 1 images of " + IMAGE, e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> w.write(one, -1));
      w.write(one, 0); // an empty batch (a last one with nothing left) writes nothing
      assertEquals(1, w.written());
      w.write(one, 1);
      assertEquals(2, w.written());
      w.commit();
    }
    assertEquals(128 + 2 * IMAGE.size() * 4, Files.size(f));
    assertEquals(".npy", SampleWriter.Format.NPY.extension());
    assertEquals(".safetensors", SampleWriter.Format.SAFETENSORS.extension());
  }

  /** A commit with images missing deletes the temporary at once, without waiting for the close. */
  @Test
  void aCommitWithImagesMissingLeavesNothing() throws IOException {
    Path f = dir.resolve("s.npy");
    SampleWriter w = SampleWriter.create(f, IMAGE, 2, Map.of());
    w.write(values(1));
    assertThrows(IllegalStateException.class, w::commit);
    assertEquals(List.of(), entries(), "no file and no temporary before close()");
    w.close();
  }

  /** The commit flushes a buffered stream: everything written is in what the stream wraps. */
  @Test
  void aCommitFlushesTheStream() {
    float[] all = values(2);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    java.io.BufferedOutputStream buffered = new java.io.BufferedOutputStream(out, 1 << 16);
    SampleWriter w = SampleWriter.to(buffered, SampleWriter.Format.NPY, IMAGE, 2, Map.of());
    w.write(all);
    w.commit();
    assertArrayEquals(NpyWriter.toBytes(all, Shape.batchOf(2, IMAGE)), out.toByteArray());
  }

  /**
   * Counts just below the header's limit (2^63 / 4 values) made a file size past 2^63 - 1 once the header was added:
   * it wrapped to a negative size, which every disk has room for, so the check passed and the writer was started.
   */
  @Test
  void aFileSizeBeyondWhatALongHoldsIsRefusedNotWrapped() throws IOException {
    Path f = dir.resolve("s.npy");
    long count = Long.MAX_VALUE / 4; // the most the header allows: 4 * count = 2^63 - 4, and 128 header bytes on top
    for (Shape image : List.of(Shape.of(1), Shape.of(3))) {
      long n = count / image.size();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> SampleWriter.check(f, image, n, Map.of()));
      assertEquals(f + ": " + n + " images of " + image + " do not fit in a file", e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> SampleWriter.create(f, image, n, Map.of()).close());
    }
    assertEquals(List.of(), entries(), "nothing created");
    // 32 images fewer: 2^63 - 132 + 128 bytes fit a long, and no disk
    java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class,
        () -> SampleWriter.check(f, Shape.of(1), count - 32, Map.of()));
    assertTrue(e.getMessage().contains("make a file of 9223372036854775804 bytes (9.2 EB), but"), e.getMessage());
  }
}
