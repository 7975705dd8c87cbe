package io.github.diffusion4j.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ownership of a folder by one process: an operating-system lock ({@link FileChannel#tryLock()}, POSIX
 * {@code fcntl} on Linux) on the file {@value #FILE} inside it. The operating system releases the lock when
 * the process ends, however it ends ({@code kill -9} included), so a crashed owner never leaves a stale
 * lock; a second process is refused at once with a message naming the owner (process id, command, start
 * time, written into the file by the owner).
 *
 * <p>Within one JVM the lock is exclusive too (a second {@link #acquire} is refused). A JVM that holds the
 * lock never opens the lock file again: on POSIX systems closing any descriptor of a locked file releases
 * the process's lock.
 *
 * <pre>{@code
 * try (FolderLock lock = FolderLock.acquire(runFolder, "diffusion train")) {
 *   ... write into runFolder ...
 * }
 * }</pre>
 */
public final class FolderLock implements AutoCloseable {
  /** The lock file's name. */
  public static final String FILE = ".lock";

  /** Folders locked by this JVM, by real path. */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final Path folder;
  private final FileChannel channel;
  private final FileLock lock;
  private boolean released;

  private FolderLock(Path folder, FileChannel channel, FileLock lock) {
    this.folder = folder;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes a folder, creating it if missing.
   *
   * @param folder the folder
   * @param command what the owner is doing, shown to a process that is refused (e.g. {@code "diffusion train"})
   * @return the lock; close it to release
   * @throws FolderInUseException if another process (or this one) holds it
   * @throws UncheckedIOException naming the folder if it cannot be created or locked
   */
  public static FolderLock acquire(Path folder, String command) {
    if (Files.exists(folder) && !Files.isDirectory(folder)) {
      throw new UncheckedIOException(folder + ": is not a folder", new java.nio.file.NotDirectoryException(
          folder.toString()));
    }
    Path real;
    try {
      Files.createDirectories(folder);
      real = folder.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(folder + ": cannot create the folder: " + FileProblems.describe(e), e);
    }
    synchronized (HELD) { // owner() reads the lock file under this monitor: never while a lock is being taken
      return lock(folder, real, command);
    }
  }

  private static FolderLock lock(Path folder, Path real, String command) {
    if (!HELD.add(real)) {
      throw new FolderInUseException(folder, "by this process");
    }
    FileChannel ch = null;
    try {
      ch = FileChannel.open(real.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      FileLock l;
      try {
        l = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        l = null;
      }
      if (l == null) {
        String owner = read(ch);
        ch.close();
        HELD.remove(real);
        throw new FolderInUseException(folder, owner.isBlank() ? "by another process" : "by " + owner);
      }
      byte[] me = describeThisProcess(command).getBytes(StandardCharsets.UTF_8);
      ch.truncate(0);
      ch.write(ByteBuffer.wrap(me), 0);
      ch.force(true);
      return new FolderLock(real, ch, l);
    } catch (IOException e) {
      HELD.remove(real);
      closeQuietly(ch);
      throw new UncheckedIOException(folder + ": cannot lock the folder (" + FILE + "): " + FileProblems.describe(e), e);
    }
  }

  /**
   * Who holds a folder's lock, as far as can be told without taking it: this JVM, or a live process whose
   * id the lock file names.
   *
   * @param folder the folder
   * @return the owner ({@code "this process"} or e.g. {@code "process 1234 (diffusion train, since ...)"}),
   *     or empty if no live owner is known
   */
  public static Optional<String> owner(Path folder) {
    Path real;
    try {
      real = folder.toRealPath();
    } catch (IOException e) {
      return Optional.empty();
    }
    String text;
    // under HELD's monitor, as acquire takes a lock: reading closes a descriptor of the file, which on POSIX systems
    // releases every lock this process holds on it, so it must not interleave with a thread of this JVM taking one
    synchronized (HELD) {
      if (HELD.contains(real)) {
        return Optional.of("this process");
      }
      Path file = real.resolve(FILE);
      if (!Files.isRegularFile(file)) {
        return Optional.empty();
      }
      try {
        text = Files.readString(file, StandardCharsets.UTF_8).trim();
      } catch (IOException e) {
        return Optional.empty();
      }
    }
    long me = ProcessHandle.current().pid();
    return pidOf(text).filter(pid -> pid != me).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive)
        .map(p -> text);
  }

  private static Optional<Long> pidOf(String owner) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^process (\\d+)").matcher(owner);
    return m.find() ? Optional.of(Long.parseLong(m.group(1))) : Optional.empty();
  }

  private static String describeThisProcess(String command) {
    return "process " + ProcessHandle.current().pid() + " (" + command + ", since "
        + Instant.now().truncatedTo(ChronoUnit.SECONDS) + ")";
  }

  private static String read(FileChannel ch) throws IOException {
    long size = Math.min(ch.size(), 4096);
    ByteBuffer b = ByteBuffer.allocate((int) size);
    while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
      // read on
    }
    return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).trim();
  }

  /**
   * The folder held.
   *
   * @return its real path
   */
  public Path folder() {
    return folder;
  }

  /** Releases the lock (the lock file stays); idempotent. */
  @Override
  public void close() {
    if (released) {
      return;
    }
    released = true;
    try {
      channel.truncate(0); // no owner any more
    } catch (IOException e) {
      // the owner's line stays; owner() still checks that its process lives
    }
    try {
      lock.release();
    } catch (IOException e) {
      // closing the channel below releases it too
    }
    closeQuietly(channel);
    HELD.remove(folder);
  }

  private static void closeQuietly(FileChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException e) {
        // nothing to add: the lock goes with the channel
      }
    }
  }

  /** A folder that another process (or this one) holds: one line naming the folder and its owner. */
  public static final class FolderInUseException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    FolderInUseException(Path folder, String owner) {
      super(folder + ": in use " + owner + "; only one process may write a run folder at a time (wait for it to "
          + "finish, or choose another output.name)");
    }
  }
}
