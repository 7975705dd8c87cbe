package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One owner per folder: in this JVM, against another process, and what the lock file tells about its owner. */
class FolderLockTest {
  @TempDir Path dir;

  @Test
  void theOwnerWritesItselfIntoTheLockFileAndIsTheOnlyOneUntilItCloses() throws IOException {
    Path run = dir.resolve("runs").resolve("a");
    try (FolderLock lock = FolderLock.acquire(run, "diffusion train")) {
      assertEquals(run.toRealPath(), lock.folder());
      String line = Files.readString(run.resolve(FolderLock.FILE));
      assertTrue(line.matches("process " + ProcessHandle.current().pid() + " \\(diffusion train, since \\S+Z\\)"), line);
      assertEquals(Optional.of("this process"), FolderLock.owner(run));
      FolderLock.FolderInUseException e = assertThrows(FolderLock.FolderInUseException.class,
          () -> FolderLock.acquire(dir.resolve("runs/./a"), "diffusion sample"));
      assertTrue(e.getMessage().startsWith(dir.resolve("runs/./a") + ": in use by this process; only one process"),
          e.getMessage());
      lock.close();
      lock.close(); // idempotent
      assertEquals("", Files.readString(run.resolve(FolderLock.FILE)), "no owner any more");
      assertEquals(0, OpenFiles.in(dir), "the lock file is closed with the lock");
      assertEquals(Optional.empty(), FolderLock.owner(run));
    }
    try (FolderLock again = FolderLock.acquire(run, "diffusion train")) {
      assertEquals(Optional.of("this process"), FolderLock.owner(run));
    }
  }

  @Test
  void aFileOrAnUncreatableFolderIsNamed() throws IOException {
    Path file = Files.writeString(dir.resolve("f"), "x");
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> FolderLock.acquire(file, "c"));
    assertEquals(file + ": is not a folder", e.getMessage());
    e = assertThrows(UncheckedIOException.class, () -> FolderLock.acquire(file.resolve("sub"), "c"));
    assertTrue(e.getMessage().startsWith(file.resolve("sub") + ": cannot create the folder: "), e.getMessage());
    // the failed attempts hold nothing
    try (FolderLock lock = FolderLock.acquire(dir.resolve("g"), "c")) {
      assertEquals(dir.resolve("g").toRealPath(), lock.folder());
    }
  }

  @Test
  void anotherProcessHoldingTheLockIsNamedFromItsLine() throws IOException {
    Path run = Files.createDirectories(dir.resolve("run"));
    try (OtherProcessLock other = new OtherProcessLock(run.resolve(FolderLock.FILE),
        "process PID (diffusion train, since 2026-01-01T00:00:00Z)")) {
      String owner = "process " + other.pid() + " (diffusion train, since 2026-01-01T00:00:00Z)";
      FolderLock.FolderInUseException e = assertThrows(FolderLock.FolderInUseException.class,
          () -> FolderLock.acquire(run, "diffusion sample"));
      assertTrue(e.getMessage().startsWith(run + ": in use by " + owner + "; only one process"), e.getMessage());
      assertEquals(0, OpenFiles.in(dir), "a refused attempt leaves the lock file closed");
      assertEquals(Optional.of(owner), FolderLock.owner(run));
    }
    // gone: the folder is free, its line names a process that no longer lives
    assertEquals(Optional.empty(), FolderLock.owner(run));
    try (FolderLock lock = FolderLock.acquire(run, "diffusion sample")) {
      assertEquals(Optional.of("this process"), FolderLock.owner(run));
    }
    try (OtherProcessLock other = new OtherProcessLock(run.resolve(FolderLock.FILE), "")) {
      FolderLock.FolderInUseException e = assertThrows(FolderLock.FolderInUseException.class,
          () -> FolderLock.acquire(run, "diffusion sample"));
      assertTrue(e.getMessage().startsWith(run + ": in use by another process; only one process"), e.getMessage());
    }
  }

  @Test
  void noOwnerIsKnownWithoutALiveProcessNamedInTheLockFile() throws IOException {
    assertEquals(Optional.empty(), FolderLock.owner(dir.resolve("missing")));
    Path run = Files.createDirectories(dir.resolve("run"));
    assertEquals(Optional.empty(), FolderLock.owner(run), "no lock file");
    Files.writeString(run.resolve(FolderLock.FILE), "process " + ProcessHandle.current().pid() + " (left, since x)");
    assertEquals(Optional.empty(), FolderLock.owner(run), "this process's line, but this process holds no lock");
    Files.writeString(run.resolve(FolderLock.FILE), "someone");
    assertEquals(Optional.empty(), FolderLock.owner(run), "no process id");
    Path other = Files.createDirectories(dir.resolve("other").resolve(FolderLock.FILE));
    assertEquals(Optional.empty(), FolderLock.owner(other.getParent()), "the lock file is a folder");
    long parent = ProcessHandle.current().parent().orElseThrow().pid();
    Files.writeString(run.resolve(FolderLock.FILE), "process " + parent + " (p, since x)\n");
    assertEquals(Optional.of("process " + parent + " (p, since x)"), FolderLock.owner(run),
        "a live process named, even without holding the lock: the line is read without taking it");
  }
}
