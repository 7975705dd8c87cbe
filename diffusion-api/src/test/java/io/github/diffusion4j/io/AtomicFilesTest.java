package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
  @TempDir Path dir;

  List<String> entries() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void writesAndReplacesFiles() throws IOException {
    Path f = dir.resolve("a.txt");
    AtomicFiles.writeString(f, "one");
    AtomicFiles.writeString(f, "two");
    assertEquals("two", Files.readString(f));
    assertEquals(List.of("a.txt"), entries());
  }

  @Test
  void aFailingWriteLeavesTheOldFileAndNoTemporary() throws IOException {
    Path f = dir.resolve("a.txt");
    AtomicFiles.writeString(f, "old");
    IOException e =
        assertThrows(
            IOException.class,
            () ->
                AtomicFiles.write(
                    f,
                    out -> {
                      out.write("partial new content".getBytes());
                      out.flush();
                      throw new IOException("disk full");
                    }));
    assertEquals("disk full", e.getMessage());
    assertEquals("old", Files.readString(f));
    assertEquals(List.of("a.txt"), entries());
  }

  @Test
  void aFailingDirectoryWriteLeavesTheOldDirectoryAndNoTemporary() throws IOException {
    Path d = dir.resolve("d");
    AtomicFiles.writeDirectory(d, tmp -> AtomicFiles.writeDurably(tmp.resolve("x"), out -> out.write(1)));
    assertThrows(
        IOException.class,
        () ->
            AtomicFiles.writeDirectory(
                d,
                tmp -> {
                  AtomicFiles.writeDurably(tmp.resolve("y"), out -> out.write(2));
                  throw new IOException("crash");
                }));
    assertEquals(List.of("d"), entries());
    assertTrue(Files.exists(d.resolve("x")));
    assertFalse(Files.exists(d.resolve("y")));
  }

  @Test
  void refusesToReplaceAFileWithADirectory() throws IOException {
    Path f = dir.resolve("f");
    Files.writeString(f, "x");
    assertThrows(IOException.class, () -> AtomicFiles.writeDirectory(f, tmp -> {}));
    assertEquals("x", Files.readString(f));
    assertEquals(List.of("f"), entries());
  }

  /**
   * A file whose rename fails (its name is a folder's) is refused naming the file asked for, not the temporary that
   * was deleted: the rename's error named {@code .tmp-a.txt-...}, which a user never sees in the folder.
   */
  @Test
  void aFailedRenameNamesTheTargetNotTheTemporary() throws IOException {
    Path f = Files.createDirectory(dir.resolve("a.txt"));
    Files.writeString(f.resolve("inside"), "kept");
    java.nio.file.FileSystemException e =
        assertThrows(java.nio.file.FileSystemException.class, () -> AtomicFiles.writeString(f, "text"));
    assertEquals(f.toString(), e.getFile(), e.getMessage());
    // the kind is the JDK's (EISDIR is a plain FileSystemException): not made an access-denied or not-empty one
    assertEquals(java.nio.file.FileSystemException.class, e.getClass(), e.toString());
    assertEquals(((java.nio.file.FileSystemException) e.getCause()).getReason(), e.getReason());
    assertEquals(List.of("a.txt"), entries());
    assertEquals("kept", Files.readString(f.resolve("inside")));
  }

  /**
   * A rename that fails because the file's folder was removed meanwhile (an {@code rm -rf} of the output folder
   * during a long sampling run) keeps its kind when it is named by the target: the JDK's NoSuchFileException carries
   * no reason, so a plain FileSystemException of the target was described as {@code input/output error}.
   */
  @Test
  void aFailedRenameNamedByTheTargetKeepsItsKind() throws IOException {
    Path folder = Files.createDirectory(dir.resolve("out"));
    Path f = folder.resolve("a.txt");
    AtomicFiles.PendingFile pending = AtomicFiles.create(f);
    pending.out().write(new byte[] {1, 2, 3});
    AtomicFiles.deleteRecursively(folder); // the temporary with it, still open
    java.nio.file.FileSystemException e =
        assertThrows(java.nio.file.FileSystemException.class, pending::commit);
    assertEquals(f.toString(), e.getFile(), e.getMessage());
    assertTrue(e instanceof java.nio.file.NoSuchFileException, "the kind is kept: " + e);
    assertEquals("no such file", FileProblems.describe(e));
  }

  @Test
  void recognisesTemporaries() {
    assertTrue(AtomicFiles.isTemporary(".tmp-model.safetensors-1f"));
    assertFalse(AtomicFiles.isTemporary("model.safetensors"));
    Path t = AtomicFiles.temporarySibling(dir.resolve("step-1"), "old");
    assertEquals(dir, t.getParent());
    assertTrue(t.getFileName().toString().startsWith(".tmp-step-1-"));
    assertTrue(t.getFileName().toString().endsWith("-old"));
  }

  @Test
  void staleTemporariesOfKilledWritersAreDeletedByTheNextWriteOfTheSameName() throws IOException {
    long old = System.currentTimeMillis() - 2 * AtomicFiles.STALE_TEMP_MILLIS;
    Path staleFile = Files.write(dir.resolve(".tmp-a.npy-1f2e"), new byte[100]);
    Files.setLastModifiedTime(staleFile, java.nio.file.attribute.FileTime.fromMillis(old));
    Path fresh = Files.write(dir.resolve(".tmp-a.npy-3c4d"), new byte[10]);
    Path otherName = Files.write(dir.resolve(".tmp-a.npy.bak-5"), new byte[10]);
    Files.setLastModifiedTime(otherName, java.nio.file.attribute.FileTime.fromMillis(old));
    SampleWriter.create(dir.resolve("a.npy"), io.github.diffusion4j.tensor.Shape.of(1, 1, 1), 1, java.util.Map.of())
        .close();
    assertFalse(Files.exists(staleFile), "left by a killed 'diffusion sample --out a.npy'");
    assertTrue(Files.exists(fresh), "maybe another process writing a.npy right now");
    assertTrue(Files.exists(otherName), "another target's");

    Path staleDir = Files.createDirectories(dir.resolve(".tmp-d-9a"));
    Files.write(staleDir.resolve("x"), new byte[10]);
    Files.setLastModifiedTime(staleDir.resolve("x"), java.nio.file.attribute.FileTime.fromMillis(old));
    Files.setLastModifiedTime(staleDir, java.nio.file.attribute.FileTime.fromMillis(old));
    AtomicFiles.writeDirectory(dir.resolve("d"), tmp -> AtomicFiles.writeDurably(tmp.resolve("y"), out -> out.write(1)));
    assertFalse(Files.exists(staleDir), "left by a killed 'diffusion convert --out d'");
  }

  /**
   * A name the file system takes but whose {@code .tmp-NAME-<hex>} would pass 255 bytes (a long {@code convert --out}
   * or {@code sample --out}) used to fail with "File name too long" at the write, after the work; its temporaries now
   * stand for it with a beginning of the name and a hash, which the next write of that name still recognises.
   */
  @Test
  void aNameTooLongForItsTemporaryIsWrittenAndItsStaleTemporariesAreStillCleaned() throws IOException {
    String file = "s".repeat(230) + ".npy"; // the name fits in 255 bytes, .tmp-NAME-<hex> did not
    String folder = "x".repeat(240);
    AtomicFiles.writeString(dir.resolve(file), "one");
    AtomicFiles.writeString(dir.resolve(file), "two");
    assertEquals("two", Files.readString(dir.resolve(file)));
    AtomicFiles.writeDirectory(dir.resolve(folder), tmp -> AtomicFiles.writeDurably(tmp.resolve("a"), out -> out.write(1)));
    AtomicFiles.writeDirectory(dir.resolve(folder), tmp -> AtomicFiles.writeDurably(tmp.resolve("b"), out -> out.write(2)));
    assertTrue(Files.exists(dir.resolve(folder).resolve("b")));
    assertEquals(List.of(file, folder).stream().sorted().toList(), entries());

    for (String name : List.of(file, folder, "short.npy", "y".repeat(255 - 30), "z".repeat(255 - 29), "é".repeat(127),
        "😀".repeat(63))) {
      String stem = AtomicFiles.tempStem(name);
      int longest = (AtomicFiles.TEMP_PREFIX + stem + "-" + "f".repeat(16) + "-deleted")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      assertTrue(longest <= 255, name.length() + " chars: " + longest + " bytes");
      assertEquals(stem, AtomicFiles.tempStem(name), "the same stem every time");
      assertTrue(name.startsWith(stem.replaceFirst("~[0-9a-f]{8}$", "")), "cut between characters: " + stem);
    }
    assertEquals("short.npy", AtomicFiles.tempStem("short.npy"));
    assertEquals("y".repeat(225), AtomicFiles.tempStem("y".repeat(225)), "the longest name kept whole");
    // a name cut short keeps the longest beginning that fits: its longest temporary is exactly 255 bytes (216 bytes
    // of the name, whole characters of 1, 2 or 4 bytes, then ~ and 8 hex digits), not just the hash
    for (String name : List.of("z".repeat(226), "é".repeat(127), "😀".repeat(63))) {
      String stem = AtomicFiles.tempStem(name);
      assertEquals(255, (AtomicFiles.TEMP_PREFIX + stem + "-" + "f".repeat(16) + "-deleted")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8).length, stem);
      assertEquals(String.format(java.util.Locale.ROOT, "~%08x", name.hashCode()), stem.substring(stem.length() - 9));
    }
    assertTrue(!AtomicFiles.tempStem("x".repeat(240) + "a").equals(AtomicFiles.tempStem("x".repeat(240) + "b")),
        "names that share a beginning do not share temporaries");

    // a killed writer's stale temporary of a long name is deleted by the next write of that name
    Path stale = Files.createDirectories(dir.resolve(AtomicFiles.TEMP_PREFIX + AtomicFiles.tempStem(folder) + "-9a"));
    age(stale);
    Path staleFile = Files.write(dir.resolve(AtomicFiles.TEMP_PREFIX + AtomicFiles.tempStem(file) + "-1f"), new byte[1]);
    age(staleFile);
    AtomicFiles.writeDirectory(dir.resolve(folder), tmp -> AtomicFiles.writeDurably(tmp.resolve("c"), out -> out.write(3)));
    AtomicFiles.cleanStaleTemporaries(dir.resolve(file)); // as a SampleWriter of that name does
    assertEquals(List.of(file, folder).stream().sorted().toList(), entries());
  }

  @Test
  void anOldDirectoryLeftBetweenTheTwoRenamesIsRestoredNotDeleted() throws IOException {
    Path old = Files.createDirectories(dir.resolve(".tmp-d-77-old"));
    Files.writeString(old.resolve("weights"), "the only copy");
    Files.setLastModifiedTime(old.resolve("weights"),
        java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 2 * AtomicFiles.STALE_TEMP_MILLIS));
    Files.setLastModifiedTime(old,
        java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 2 * AtomicFiles.STALE_TEMP_MILLIS));
    AtomicFiles.cleanStaleTemporaries(dir.resolve("d"));
    assertEquals("the only copy", Files.readString(dir.resolve("d").resolve("weights")));
    assertEquals(List.of("d"), entries());
  }

  @Test
  void twoWritersOfOneDirectoryAtOnceBothSucceedAndTheLastRenameWins() throws Exception {
    // two `export`s or `convert`s to one --out at once: as for files, each succeeds, the folder is one of them
    // whole, and nothing is left beside it (one of them failed with "Directory not empty" or NoSuchFile)
    Path d = dir.resolve("d");
    AtomicFiles.writeDirectory(d, tmp -> AtomicFiles.writeDurably(tmp.resolve("first"), out -> out.write(0)));
    int rounds = 200;
    CyclicBarrier barrier = new CyclicBarrier(2);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<?>> writers = new ArrayList<>();
      for (int w = 0; w < 2; w++) {
        String name = "writer" + w;
        writers.add(pool.submit(() -> {
          for (int i = 0; i < rounds; i++) {
            barrier.await(30, TimeUnit.SECONDS); // a writer that failed breaks the barrier of the other
            AtomicFiles.writeDirectory(d, tmp -> {
              AtomicFiles.writeDurably(tmp.resolve(name), out -> out.write(1));
              AtomicFiles.writeDurably(tmp.resolve("z"), out -> out.write(2));
            });
          }
          return null;
        }));
      }
      for (Future<?> f : writers) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(List.of("d"), entries());
    try (Stream<Path> s = Files.list(d)) {
      List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
      assertTrue(names.equals(List.of("writer0", "z")) || names.equals(List.of("writer1", "z")), names.toString());
    }
  }

  @Test
  void aTemporaryBeingWrittenIsKnownThroughAnotherSpellingOfItsPath() throws IOException {
    // written through a link to its folder, cleaned through the real path: the same file, never opened (which
    // would drop this process's lock on it) nor deleted
    Path real = Files.createDirectories(dir.resolve("real"));
    Path link = Files.createSymbolicLink(dir.resolve("link"), real);
    try (AtomicFiles.PendingFile f = AtomicFiles.create(link.resolve("a.npy"))) {
      f.out().write(new byte[] {1, 2, 3});
      f.out().flush();
      Path temp;
      try (java.util.stream.Stream<Path> list = Files.list(real)) {
        temp = list.filter(p -> AtomicFiles.isTemporary(p.getFileName().toString())).findFirst().orElseThrow();
      }
      Files.setLastModifiedTime(temp, java.nio.file.attribute.FileTime.fromMillis(
          System.currentTimeMillis() - 2 * AtomicFiles.STALE_TEMP_MILLIS));
      AtomicFiles.cleanStaleTemporaries(real.resolve("a.npy"));
      assertTrue(Files.exists(temp), "still being written");
      f.commit();
    }
    assertEquals(3, Files.size(real.resolve("a.npy")));
  }

  @Test
  void aTemporaryStillBeingWrittenIsNotDeletedHoweverOldItLooks() throws IOException {
    // a sampling batch of a large model can take longer than STALE_TEMP_MILLIS without a byte written: a second
    // `sample --out a.npy` then deleted the first's temporary, and the first failed at its end ("no such file")
    Path target = dir.resolve("a.npy");
    try (AtomicFiles.PendingFile f = AtomicFiles.create(target)) {
      f.out().write(new byte[] {1, 2, 3});
      f.out().flush();
      Path temp = entries().stream().map(dir::resolve).filter(p -> AtomicFiles.isTemporary(p.getFileName().toString()))
          .findFirst().orElseThrow();
      long old = System.currentTimeMillis() - 2 * AtomicFiles.STALE_TEMP_MILLIS;
      Files.setLastModifiedTime(temp, java.nio.file.attribute.FileTime.fromMillis(old));
      AtomicFiles.cleanStaleTemporaries(target);
      assertTrue(Files.exists(temp), "still being written");
      f.commit();
    }
    assertEquals(3, Files.size(target));
    assertEquals(List.of("a.npy"), entries());
  }

  @Test
  void aDirectoryStillBeingFilledIsNotDeletedHoweverOldItLooks() throws IOException {
    // a shard of PNGs samples a whole batch before its first file: another writer of the name in this JVM (a
    // speculative copy of the Spark task in the same executor) deleted the folder of one that took longer than
    // STALE_TEMP_MILLIS, which then failed at its next file ("no such file")
    Path target = dir.resolve("shard");
    AtomicFiles.writeDirectory(target, tmp -> {
      long old = System.currentTimeMillis() - 2 * AtomicFiles.STALE_TEMP_MILLIS;
      Files.setLastModifiedTime(tmp, java.nio.file.attribute.FileTime.fromMillis(old));
      AtomicFiles.cleanStaleTemporaries(target);
      assertTrue(Files.isDirectory(tmp), "still being filled");
      Files.write(tmp.resolve("0.png"), new byte[] {1});
    });
    assertEquals(List.of("shard"), entries());
    assertEquals(1, Files.size(target.resolve("0.png")));
    // and once it is in place, a stale leftover of the name is still deleted
    Path left = Files.createDirectory(dir.resolve(".tmp-shard-0123456789abcdef"));
    Files.setLastModifiedTime(left, java.nio.file.attribute.FileTime.fromMillis(
        System.currentTimeMillis() - 2 * AtomicFiles.STALE_TEMP_MILLIS));
    AtomicFiles.cleanStaleTemporaries(target);
    assertEquals(List.of("shard"), entries());
  }

  private Path onlyTemporary(Path folder) throws IOException {
    try (Stream<Path> list = Files.list(folder)) {
      List<Path> t = list.filter(p -> AtomicFiles.isTemporary(p.getFileName().toString())).toList();
      assertEquals(1, t.size(), t.toString());
      return t.get(0);
    }
  }

  private static void age(Path p) throws IOException {
    Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(
        System.currentTimeMillis() - 2 * AtomicFiles.STALE_TEMP_MILLIS));
  }

  /**
   * Ages a file without opening it in this process: {@code Files.setLastModifiedTime} opens the file, and closing
   * that descriptor would drop this process's lock on it.
   */
  private static void ageFromAnotherProcess(Path p) throws IOException {
    long seconds = (System.currentTimeMillis() - 2 * AtomicFiles.STALE_TEMP_MILLIS) / 1000;
    try {
      assertEquals(0, new ProcessBuilder("touch", "-m", "-d", "@" + seconds, p.toString()).inheritIO().start()
          .waitFor());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /**
   * Judging a temporary written by this JVM must not open it: on POSIX systems closing any descriptor of a locked
   * file drops the process's lock, and another process would then see it as abandoned.
   */
  @Test
  void cleaningKeepsTheLockOfATemporaryThisProcessWrites() throws IOException {
    Path real = Files.createDirectories(dir.resolve("real"));
    Path link = Files.createSymbolicLink(dir.resolve("link"), real);
    try (AtomicFiles.PendingFile f = AtomicFiles.create(link.resolve("a.npy"))) {
      assertEquals(link.resolve("a.npy"), f.target());
      f.out().write(1);
      Path temp = onlyTemporary(real);
      assertTrue(temp.getFileName().toString().matches("\\.tmp-a\\.npy-[0-9a-f]+"), temp.toString());
      ageFromAnotherProcess(temp);
      assertTrue(Files.getLastModifiedTime(temp).toMillis() < System.currentTimeMillis() - AtomicFiles.STALE_TEMP_MILLIS);
      AtomicFiles.cleanStaleTemporaries(real.resolve("a.npy"));
      IllegalStateException busy = assertThrows(IllegalStateException.class, () -> new OtherProcessLock(temp).close());
      assertTrue(busy.getMessage().endsWith("busy"), busy.getMessage());
      f.commit();
    }
    // committed: the channel is closed, so the lock is gone with it
    new OtherProcessLock(real.resolve("a.npy")).close();
  }

  /** A stale-looking temporary is kept while a process holds its lock (another one, or this one outside a write). */
  @Test
  void aLockedTemporaryIsKeptAnUnlockedStaleOneGoes() throws IOException {
    Path locked = Files.write(dir.resolve(".tmp-a.npy-11"), new byte[1]);
    Path mine = Files.write(dir.resolve(".tmp-a.npy-22"), new byte[1]);
    Path stale = Files.write(dir.resolve(".tmp-a.npy-33"), new byte[1]);
    for (String unrelated : List.of("a", "b", "c", "d", "e", "f", "g", "h")) {
      Files.write(dir.resolve(unrelated), new byte[1]); // names shorter than the temporaries' prefix
    }
    try (OtherProcessLock other = new OtherProcessLock(locked);
        java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(mine,
            java.nio.file.StandardOpenOption.WRITE);
        java.nio.channels.FileLock lock = ch.lock()) {
      for (Path p : List.of(locked, mine, stale)) {
        age(p);
      }
      AtomicFiles.cleanStaleTemporaries(dir.resolve("a.npy"));
      assertTrue(Files.exists(locked), "another process holds it");
      assertTrue(Files.exists(mine), "this process holds it");
      assertFalse(Files.exists(stale), "nobody holds it");
    }
  }

  /** Two writers of one name at once each get their own temporary; the last commit wins. */
  @Test
  void twoPendingFilesOfOneTargetCoexist() throws IOException {
    Path target = dir.resolve("a.bin");
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> {
      try (AtomicFiles.PendingFile f = AtomicFiles.create(target);
          AtomicFiles.PendingFile g = AtomicFiles.create(target)) {
        f.out().write(1);
        g.out().write(new byte[] {2, 2});
        f.commit();
        assertEquals(1, Files.size(target));
        g.commit();
      }
    });
    assertArrayEquals(new byte[] {2, 2}, Files.readAllBytes(target));
  }

  @Test
  void aPendingFileIsCommittedOnceAndAFailedCommitLeavesNoTemporary() throws IOException {
    Path target = dir.resolve("a.bin");
    AtomicFiles.PendingFile f = AtomicFiles.create(target);
    f.out().write(7);
    f.commit();
    IllegalStateException e = assertThrows(IllegalStateException.class, f::commit);
    assertEquals(target + ": already committed or closed", e.getMessage());
    f.close();
    assertArrayEquals(new byte[] {7}, Files.readAllBytes(target));
    AtomicFiles.PendingFile closed = AtomicFiles.create(target);
    closed.close();
    assertThrows(IllegalStateException.class, closed::commit);
    // a folder with content where the file should go: the rename fails, the folder stays, the temporary goes
    Path folder = Files.createDirectories(dir.resolve("b.bin"));
    Files.write(folder.resolve("x"), new byte[1]);
    AtomicFiles.PendingFile g = AtomicFiles.create(folder);
    g.out().write(1);
    assertThrows(IOException.class, g::commit);
    g.close();
    assertEquals(List.of("a.bin", "b.bin"), entries());
    assertTrue(Files.exists(folder.resolve("x")));
  }

  /**
   * Work run uninterrupted sees no interrupt, and the caller's interrupt is back after it (a Ctrl-C during a
   * checkpoint still stops the run); one that came during the work is kept too, and none is made up.
   */
  @Test
  void uninterruptedWorkKeepsTheInterruptForAfterItAndMakesNoneUp() {
    try {
      Thread.currentThread().interrupt();
      assertEquals(Boolean.FALSE, AtomicFiles.uninterrupted(() -> Thread.currentThread().isInterrupted()));
      assertTrue(Thread.interrupted(), "the caller's interrupt is set again");

      AtomicFiles.uninterrupted(() -> Thread.currentThread().interrupt());
      assertTrue(Thread.interrupted(), "an interrupt during the work is kept");

      AtomicFiles.uninterrupted(() -> { });
      assertFalse(Thread.interrupted(), "no interrupt where there was none");

      Thread.currentThread().interrupt();
      assertThrows(IllegalStateException.class, () -> AtomicFiles.uninterrupted((Runnable) () -> {
        throw new IllegalStateException("failed");
      }));
      assertTrue(Thread.interrupted(), "set again when the work fails");

      assertThrows(IllegalStateException.class, () -> AtomicFiles.uninterrupted((Runnable) () -> {
        throw new IllegalStateException("failed");
      }));
      assertFalse(Thread.interrupted(), "none made up when the work fails");
    } finally {
      Thread.interrupted();
    }
  }

  /**
   * A temporary folder is judged by its newest entry, not by its own time: a writer in another process filling one
   * big file adds no entry, so the folder's time stays old while the file grows; it must not be deleted under it.
   */
  @Test
  void aTemporaryFolderWithAFreshFileInsideIsNotStaleHoweverOldTheFolderLooks() throws IOException {
    Path busy = Files.createDirectory(dir.resolve(".tmp-d-0123456789abcdef"));
    Files.write(busy.resolve("model.safetensors"), new byte[10]);
    age(busy);
    AtomicFiles.cleanStaleTemporaries(dir.resolve("d"));
    assertTrue(Files.exists(busy.resolve("model.safetensors")), "still being filled by another process");
    age(busy.resolve("model.safetensors"));
    age(busy);
    AtomicFiles.cleanStaleTemporaries(dir.resolve("d"));
    assertEquals(List.of(), entries(), "stale once nothing in it was touched for long");
  }

  /**
   * A pending file closed without a commit closes its file, as one committed does: an abandoned write (a sampling
   * batch that failed) must not keep a descriptor of its deleted temporary open until the garbage collector runs.
   */
  @Test
  void aPendingFileClosedWithoutACommitClosesItsFile() throws IOException {
    Path target = dir.resolve("a.npy");
    try (AtomicFiles.PendingFile f = AtomicFiles.create(target)) {
      f.out().write(1);
      assertEquals(1, OpenFiles.in(dir), "the temporary is open while written");
    }
    assertEquals(0, OpenFiles.in(dir), "nothing of the folder left open");
    assertEquals(List.of(), entries());
  }

  @Test
  void flushingAFolderThatIsNotThereFails() {
    assertThrows(java.nio.file.NoSuchFileException.class, () -> AtomicFiles.fsyncDirectory(dir.resolve("missing")));
  }
}
