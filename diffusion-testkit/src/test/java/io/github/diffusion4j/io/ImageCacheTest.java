package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.data.BadDataPolicy;
import io.github.diffusion4j.data.ByteImages;
import io.github.diffusion4j.data.DataFileException;
import io.github.diffusion4j.data.DataProgress;
import io.github.diffusion4j.data.ImageFit;
import io.github.diffusion4j.data.ImageFolder;
import io.github.diffusion4j.data.ImageInfo;
import io.github.diffusion4j.data.ImageSource;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decoded-image cache: build, reuse, staleness, damage, bad images, atomicity. */
class ImageCacheTest {
  @TempDir
  Path dir;

  private static final ImageFit FIT = new ImageFit(Shape.of(3, 4, 4), ImageFit.Resize.CROP, false);

  /** Counts and optionally sabotages reads of another source. */
  private static class Counting implements ImageSource {
    final ImageSource inner;
    final AtomicInteger reads = new AtomicInteger();
    final int failAt;

    Counting(ImageSource inner, int failAt) {
      this.inner = inner;
      this.failAt = failAt;
    }

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public String identity() {
      return inner.identity();
    }

    @Override
    public Shape imageShape() {
      return inner.imageShape();
    }

    @Override
    public int size() {
      return inner.size();
    }

    @Override
    public String item(int index) {
      return inner.item(index);
    }

    @Override
    public int label(int index) {
      return inner.label(index);
    }

    @Override
    public List<String> classes() {
      return inner.classes();
    }

    @Override
    public ImageInfo read(int index, byte[] dst, int offset) {
      reads.incrementAndGet();
      if (index == failAt) {
        throw new IllegalStateException("the disk went away");
      }
      return inner.read(index, dst, offset);
    }

    @Override
    public byte[] fingerprint() {
      return inner.fingerprint();
    }
  }

  private Path images(int n) {
    Path root = dir.resolve("images");
    for (int i = 0; i < n; i++) {
      TestImages.write(root.resolve((i % 2 == 0 ? "even" : "odd") + "/" + i + ".png"),
          TestImages.rgb(4 + i, 4, 10 * i, 3, 200));
    }
    return root;
  }

  private ImageCache open(Path file, ImageSource s, BadDataPolicy p) {
    return ImageCache.open(file, s, p, DataProgress.NONE);
  }

  private static byte[] bytes(ByteImages images, int i) {
    byte[] b = new byte[images.imageShape().size()];
    images.copyBytes(i, b, 0);
    return b;
  }

  @Test
  void buildsOnceThenReusesWithoutDecoding() {
    Path root = images(5);
    ImageFolder folder = ImageFolder.scan(root, FIT);
    Path file = ImageCache.fileFor(dir.resolve("cache"), folder);
    List<Integer> progress = new ArrayList<>();
    ImageCache built = ImageCache.open(file, folder, BadDataPolicy.STOP, (what, done, total) -> progress.add(done));
    assertEquals(ImageCache.Status.BUILT, built.status());
    assertNull(built.reason());
    assertEquals(5, built.count());
    assertEquals(5, progress.get(progress.size() - 1));
    assertEquals(List.of("even", "odd"), built.classes());
    for (int i = 0; i < 5; i++) {
      byte[] direct = new byte[48];
      folder.read(i, direct, 0);
      assertArrayEquals(direct, bytes(built.images(), i), "image " + i + " as decoded");
      assertEquals(folder.label(i), built.label(i));
    }
    assertEquals(16 + 5 * 48 + 5 * 4 + (4 + 4 + 4 + 4 + 3) + 4 + ImageCache.TRAILER_BYTES, file.toFile().length(),
        "header, pixels, labels, the 2 class names, no skipped images, the trailer");
    Counting again = new Counting(ImageFolder.scan(root, FIT), -1);
    ImageCache reused = open(file, again, BadDataPolicy.STOP);
    assertEquals(ImageCache.Status.REUSED, reused.status());
    assertEquals(0, again.reads.get(), "nothing decoded");
    assertArrayEquals(bytes(built.images(), 4), bytes(reused.images(), 4));
    assertEquals(0, reused.buildSeconds(), 0);
  }

  /**
   * A cache the user may not read (written by another user under umask 077 into a shared data.cache_dir) was taken
   * for damaged: every image was decoded again and the build failed at the end, where the sticky /tmp-like folder
   * would not let the other user's file be replaced ("cannot write the image cache: Operation not permitted", exit
   * 1). It is refused before anything is decoded, naming the file and the remedy. Root may read any file: the
   * refusal is simulated for everyone, and met for real where the tests do not run as root.
   */
  @Test
  void aCacheThatCannotBeReadIsRefusedBeforeAnythingIsDecoded() throws IOException {
    Path root = images(3);
    Path file = ImageCache.fileFor(dir.resolve("cache"), ImageFolder.scan(root, FIT));
    open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP);
    String said = file + ": cannot be read (permission denied), where the image cache should be (another user's, "
        + "written under umask 077?); set data.cache_dir to a folder of your own";
    Counting simulated = new Counting(ImageFolder.scan(root, FIT), -1);
    FileProblems.Access denied = new FileProblems.Access(FileProblems.Access.FILES.attributes(), p -> false);
    DataFileException e = assertThrows(DataFileException.class, () -> ImageCache.open(file, simulated,
        BadDataPolicy.STOP, DataProgress.NONE, Long.MAX_VALUE, 1, denied));
    assertEquals(said, e.getMessage());
    assertEquals(0, simulated.reads.get(), "nothing decoded");
    if (!"root".equals(System.getProperty("user.name"))) {
      Files.setPosixFilePermissions(file, java.util.Set.of());
      Counting again = new Counting(ImageFolder.scan(root, FIT), -1);
      e = assertThrows(DataFileException.class, () -> open(file, again, BadDataPolicy.STOP));
      assertEquals(said, e.getMessage());
      assertEquals(0, again.reads.get(), "nothing decoded");
    }
  }

  @Test
  void aChangedSourceRebuildsTheCache() throws IOException {
    Path root = images(3);
    Path file = dir.resolve("c.cache");
    open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP);
    TestImages.write(root.resolve("odd/new.png"), TestImages.rgb(4, 4, 0, 0, 0));
    ImageCache added = open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP);
    assertEquals(ImageCache.Status.REBUILT, added.status());
    assertEquals("the source changed: 4 items now, 3 when the cache was built", added.reason());
    assertEquals(4, added.count());
    Path one = root.resolve("even/0.png");
    TestImages.write(one, TestImages.rgb(4, 4, 99, 0, 0));
    Files.setLastModifiedTime(one, FileTime.fromMillis(Files.getLastModifiedTime(one).toMillis() + 2000));
    ImageCache modified = open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP);
    assertEquals("the source changed: a file was replaced, resized or modified since the cache was built",
        modified.reason());
    assertEquals(99, bytes(modified.images(), 0)[0], "the new content");
    assertEquals(ImageCache.Status.REUSED, open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP).status());
  }

  @Test
  void aDamagedCacheIsRebuilt() throws IOException {
    ImageFolder folder = ImageFolder.scan(images(3), FIT);
    Path file = dir.resolve("c.cache");
    open(file, folder, BadDataPolicy.STOP);
    byte[] good = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(good, good.length - 5));
    ImageCache c = open(file, folder, BadDataPolicy.STOP);
    assertEquals(ImageCache.Status.REBUILT, c.status());
    assertEquals("the cache file is damaged (it does not end with its trailer)", c.reason());
    assertArrayEquals(good, Files.readAllBytes(file), "rebuilt byte for byte");
    byte[] bad = good.clone();
    bad[8 + 3] = 9;
    Files.write(file, bad);
    assertEquals("the cache file is damaged (format version 9, this version of the SDK reads 1)",
        open(file, folder, BadDataPolicy.STOP).reason());
    bad = good.clone();
    bad[bad.length - ImageCache.TRAILER_BYTES + 12] = 50; // the count
    Files.write(file, bad);
    assertTrue(open(file, folder, BadDataPolicy.STOP).reason().startsWith("the cache file is damaged (its trailer is "
        + "inconsistent"));
    Files.write(file, "garbage".getBytes());
    assertTrue(open(file, folder, BadDataPolicy.STOP).reason().contains("shorter than a header and a trailer"));
  }

  @Test
  void badImagesAreSkippedAndCountedOrStopTheBuild() throws IOException {
    Path root = images(5);
    Path broken = TestImages.write(root.resolve("even/2.png"), new byte[0]);
    Path file = dir.resolve("cache/c.cache");
    DataFileException stop = assertThrows(DataFileException.class,
        () -> open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP));
    assertEquals(broken.toAbsolutePath() + ": is empty (0 bytes), not an image (item 2 of 5; data.bad_data is stop: "
        + "fix or remove such files, or set data.bad_data: skip to train without them; 'diffusion data check' "
        + "lists them all)", stop.getMessage());
    assertFalse(Files.exists(file.getParent()), "nothing written, no temporary file and no folder made for it left");
    Files.createDirectories(file.getParent());
    assertThrows(DataFileException.class, () -> open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP));
    try (Stream<Path> left = Files.list(file.getParent())) {
      assertEquals(0, left.count(), "no temporary file left in a folder that was there, which is kept");
    }
    ImageCache skip = open(file, ImageFolder.scan(root, FIT), BadDataPolicy.SKIP);
    assertEquals(4, skip.count());
    assertEquals(5, skip.sourceCount());
    assertEquals(1, skip.skippedCount());
    assertEquals(broken.toAbsolutePath(), skip.skipped().get(0).file());
    assertEquals("is empty (0 bytes), not an image", skip.skipped().get(0).problem());
    ImageCache reused = open(file, ImageFolder.scan(root, FIT), BadDataPolicy.SKIP);
    assertEquals(ImageCache.Status.REUSED, reused.status());
    assertEquals(skip.skipped(), reused.skipped(), "a reused cache names the skipped images without decoding");
    DataFileException refused = assertThrows(DataFileException.class,
        () -> open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP));
    assertTrue(refused.getMessage().contains("(1 of 5 items are unusable; data.bad_data is stop"), refused.getMessage());
  }

  /**
   * A machine with one core (or a heap under 512 MiB) decodes on the calling thread: the cache is the same bytes as
   * one decoded on several threads, bad images skipped in the same order, and a source's failure stops the build as
   * it does there.
   */
  @Test
  void oneDecodingThreadWritesTheSameCacheAsSeveral() throws IOException {
    Path root = images(9);
    Path empty = TestImages.write(root.resolve("even/2.png"), new byte[0]);
    Path small = TestImages.write(root.resolve("odd/5.png"), TestImages.rgb(2, 2, 0, 0, 0));
    ImageFolder folder = ImageFolder.scan(root, FIT);
    Path one = dir.resolve("one/c.cache");
    Path three = dir.resolve("three/c.cache");
    ImageCache a = ImageCache.open(one, folder, BadDataPolicy.SKIP, DataProgress.NONE, Long.MAX_VALUE, 1);
    ImageCache.open(three, folder, BadDataPolicy.SKIP, DataProgress.NONE, Long.MAX_VALUE, 3);
    assertEquals(7, a.count());
    assertEquals(List.of(empty.toAbsolutePath(), small.toAbsolutePath()),
        a.skipped().stream().map(io.github.diffusion4j.data.SkippedImage::file).toList());
    assertArrayEquals(Files.readAllBytes(three), Files.readAllBytes(one));
    Counting failing = new Counting(folder, 4);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> ImageCache.open(dir.resolve("f.cache"),
        failing, BadDataPolicy.SKIP, DataProgress.NONE, Long.MAX_VALUE, 1));
    assertEquals("the disk went away", e.getMessage());
    assertEquals(5, failing.reads.get(), "the build stopped at the failing item");
    assertFalse(Files.exists(dir.resolve("f.cache")));
  }

  /**
   * Two runs of a sweep that start together build the same cache at once (docs/data.md: each writes its own
   * temporary file, the last rename wins): both builds overlap here (each waits inside its first decode for the
   * other's), both end whole with the images as decoded, a later open reuses the file, and no temporary is left.
   */
  @Test
  void twoBuildsOfTheSameCacheAtOnceBothEndWholeAndTheNextOpenReusesIt() throws Exception {
    Path root = images(6);
    ImageFolder folder = ImageFolder.scan(root, FIT);
    Path file = ImageCache.fileFor(dir.resolve("cache"), folder);
    java.util.concurrent.CountDownLatch bothDecoding = new java.util.concurrent.CountDownLatch(2);
    class Overlapping extends Counting {
      Overlapping() {
        super(folder, -1);
      }

      @Override
      public ImageInfo read(int index, byte[] dst, int offset) {
        if (index == 0) {
          bothDecoding.countDown();
          try {
            assertTrue(bothDecoding.await(30, java.util.concurrent.TimeUnit.SECONDS), "the other build never decoded");
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        }
        return super.read(index, dst, offset);
      }
    }
    java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      List<java.util.concurrent.Future<ImageCache>> builds = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        builds.add(two.submit(() -> ImageCache.open(file, new Overlapping(), BadDataPolicy.STOP, DataProgress.NONE,
            Long.MAX_VALUE, 1)));
      }
      for (java.util.concurrent.Future<ImageCache> f : builds) {
        ImageCache c = f.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(ImageCache.Status.BUILT, c.status());
        for (int i = 0; i < 6; i++) {
          byte[] direct = new byte[48];
          folder.read(i, direct, 0);
          assertArrayEquals(direct, bytes(c.images(), i), "image " + i + " as decoded, whichever rename won");
        }
      }
    } finally {
      two.shutdownNow();
    }
    Counting again = new Counting(folder, -1);
    assertEquals(ImageCache.Status.REUSED, open(file, again, BadDataPolicy.STOP).status());
    assertEquals(0, again.reads.get());
    try (Stream<Path> left = Files.list(file.getParent())) {
      assertEquals(List.of(file.getFileName().toString()), left.map(p -> p.getFileName().toString()).toList(),
          "no temporary left");
    }
  }

  @Test
  void aSourceWithNoUsableImageGivesAnEmptyCache() {
    Path root = dir.resolve("bad");
    TestImages.write(root.resolve("a.png"), "not".getBytes());
    TestImages.write(root.resolve("b.png"), TestImages.rgb(2, 2, 0, 0, 0));
    ImageCache c = open(dir.resolve("c.cache"), ImageFolder.scan(root, FIT), BadDataPolicy.SKIP);
    assertEquals(0, c.count());
    assertEquals(2, c.skippedCount());
    assertTrue(c.skipped().get(1).problem().startsWith("is 2x2, smaller than the target 4x4"));
    assertThrows(IllegalStateException.class, c::images);
  }

  @Test
  void aFailedBuildKeepsThePreviousCacheAndLeavesNoTemporaryFile() throws IOException {
    Path root = images(3);
    Path file = dir.resolve("cache/c.cache");
    open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP);
    byte[] before = Files.readAllBytes(file);
    TestImages.write(root.resolve("odd/more.png"), TestImages.rgb(4, 4, 0, 0, 0));
    Counting failing = new Counting(ImageFolder.scan(root, FIT), 2);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> open(file, failing, BadDataPolicy.STOP));
    assertEquals("the disk went away", e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(file), "the earlier cache is intact");
    try (Stream<Path> files = Files.list(file.getParent())) {
      assertEquals(List.of(file), files.toList());
    }
  }

  @Test
  void leftoversOfKilledBuildsAreRemovedOnceStale() throws IOException {
    ImageFolder folder = ImageFolder.scan(images(2), FIT);
    Path file = dir.resolve("cache/c.cache");
    Files.createDirectories(file.getParent());
    Path stale = Files.write(file.getParent().resolve(AtomicFiles.TEMP_PREFIX + "c.cache-1234"), new byte[10]);
    Files.setLastModifiedTime(stale, FileTime.fromMillis(System.currentTimeMillis() - 2 * AtomicFiles.STALE_TEMP_MILLIS));
    Path fresh = Files.write(file.getParent().resolve(AtomicFiles.TEMP_PREFIX + "c.cache-5678"), new byte[10]);
    Path other = Files.write(file.getParent().resolve(AtomicFiles.TEMP_PREFIX + "d.cache-1"), new byte[10]);
    Files.setLastModifiedTime(other, FileTime.fromMillis(0));
    open(file, folder, BadDataPolicy.STOP);
    assertFalse(Files.exists(stale));
    assertTrue(Files.exists(fresh), "maybe another process building the same cache right now");
    assertTrue(Files.exists(other), "another cache's");
  }

  @Test
  void aFifoOrAFolderWhereTheCacheShouldBeIsNamedBeforeAnythingIsDecoded() throws Exception {
    ImageFolder folder = ImageFolder.scan(images(2), FIT);
    Path fifo = dir.resolve("fifo.cache");
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
    org.junit.jupiter.api.Assumptions.assumeTrue(p.waitFor() == 0, "mkfifo is available");
    io.github.diffusion4j.data.DataFileException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
        java.time.Duration.ofSeconds(20), () -> org.junit.jupiter.api.Assertions.assertThrows(
            io.github.diffusion4j.data.DataFileException.class, () -> open(fifo, folder, BadDataPolicy.STOP)));
    assertTrue(e.getMessage().contains("FIFO"), e.getMessage());
    Path folderCache = Files.createDirectories(dir.resolve("dir.cache"));
    e = org.junit.jupiter.api.Assertions.assertThrows(io.github.diffusion4j.data.DataFileException.class,
        () -> open(folderCache, folder, BadDataPolicy.STOP));
    assertTrue(e.getMessage().contains("is a folder"), e.getMessage());
  }

  @Test
  void imagesMayBeMappedInSeveralPieces() {
    ImageFolder folder = ImageFolder.scan(images(7), FIT);
    Path file = dir.resolve("c.cache");
    ImageCache whole = open(file, folder, BadDataPolicy.STOP);
    ImageCache pieces = ImageCache.open(file, folder, BadDataPolicy.STOP, DataProgress.NONE, 2 * 48);
    float[] a = new float[7 * 48];
    float[] b = new float[7 * 48];
    int[] idx = {6, 0, 3, 2, 5, 1, 4};
    whole.images().gather(idx, a);
    pieces.images().gather(idx, b);
    assertArrayEquals(a, b);
  }

  @Test
  void everySourceAndFitHasItsOwnFile() {
    Path root = images(1);
    Path d = dir.resolve("cache");
    Path a = ImageCache.fileFor(d, ImageFolder.scan(root, FIT));
    assertEquals(a, ImageCache.fileFor(d, ImageFolder.scan(root, FIT)));
    assertTrue(a.getFileName().toString().matches("images-[0-9a-f]{12}\\.cache"), a.toString());
    assertNotEquals(a, ImageCache.fileFor(d, ImageFolder.scan(root,
        new ImageFit(Shape.of(3, 4, 4), ImageFit.Resize.PAD, false))));
    assertNotEquals(a, ImageCache.fileFor(d, ImageFolder.scan(root, new ImageFit(Shape.of(1, 4, 4),
        ImageFit.Resize.CROP, false))));
  }

  /**
   * Each thing the cache's fingerprint covers, changed alone, rebuilds it: a file's modification time (its size and
   * name unchanged), its size (its time put back), its name, and how the images are fitted (the same cache file
   * opened for another fit). The file changed is the last in the folder's order.
   */
  @Test
  void eachPartOfTheFingerprintRebuildsTheCacheAlone() throws IOException {
    Path root = images(3); // even/0.png, even/2.png, odd/1.png: odd/1.png is last
    Path file = dir.resolve("c.cache");
    open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP);
    String modified = "the source changed: a file was replaced, resized or modified since the cache was built";

    Path last = root.resolve("odd/1.png");
    FileTime was = Files.getLastModifiedTime(last);
    Files.setLastModifiedTime(last, FileTime.fromMillis(was.toMillis() + 5000));
    ImageCache touched = open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP);
    assertEquals(ImageCache.Status.REBUILT, touched.status(), "modification time");
    assertEquals(modified, touched.reason());

    FileTime now = Files.getLastModifiedTime(last);
    long size = Files.size(last);
    TestImages.write(last, TestImages.rgb(9, 4, 50, 60, 70));
    assertNotEquals(size, Files.size(last));
    Files.setLastModifiedTime(last, now);
    ImageCache resized = open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP);
    assertEquals(ImageCache.Status.REBUILT, resized.status(), "size");
    assertEquals(modified, resized.reason());

    Files.move(last, root.resolve("odd/9.png"));
    ImageCache renamed = open(file, ImageFolder.scan(root, FIT), BadDataPolicy.STOP);
    assertEquals(ImageCache.Status.REBUILT, renamed.status(), "name");
    assertEquals(modified, renamed.reason());

    ImageFit pad = new ImageFit(Shape.of(3, 4, 4), ImageFit.Resize.PAD, false);
    ImageCache padded = open(file, ImageFolder.scan(root, pad), BadDataPolicy.STOP);
    assertEquals(ImageCache.Status.REBUILT, padded.status(), "fit");
    assertEquals(ImageCache.Status.REUSED, open(file, ImageFolder.scan(root, pad), BadDataPolicy.STOP).status());
  }

  @Test
  void aCacheOfAnOlderFormatVersionIsRebuilt() throws IOException {
    ImageFolder folder = ImageFolder.scan(images(2), FIT);
    Path file = dir.resolve("c.cache");
    open(file, folder, BadDataPolicy.STOP);
    byte[] bad = Files.readAllBytes(file);
    bad[8 + 3] = 0;
    Files.write(file, bad);
    assertEquals("the cache file is damaged (format version 0, this version of the SDK reads 1)",
        open(file, folder, BadDataPolicy.STOP).reason());
  }

  /** A source that declares another image shape but the same fingerprint (a source whose identity omits the fit). */
  @Test
  void aCacheOfAnotherImageShapeIsRebuiltEvenWhenTheFingerprintMatches() {
    ImageFolder folder = ImageFolder.scan(images(2), FIT);
    Path file = dir.resolve("c.cache");
    open(file, folder, BadDataPolicy.STOP);
    ImageFolder gray = ImageFolder.scan(dir.resolve("images"), new ImageFit(Shape.of(1, 4, 4), ImageFit.Resize.CROP,
        false));
    Counting sameFingerprint = new Counting(gray, -1) {
      @Override
      public byte[] fingerprint() {
        return folder.fingerprint();
      }
    };
    ImageCache c = open(file, sameFingerprint, BadDataPolicy.STOP);
    assertEquals(ImageCache.Status.REBUILT, c.status());
    assertEquals("it holds 3x4x4 images, the configuration asks for 1x4x4", c.reason());
    assertEquals(Shape.of(1, 4, 4), c.imageShape());
  }
}
