package io.github.diffusion4j.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Crash-safe writing of files and directories: the content goes to a temporary sibling named
 * {@code .tmp-<name>-<random>} (for a name too long for that to fit in 255 bytes, a beginning of the name and a hash
 * of it stand for {@code <name>}), is flushed to disk ({@code fsync}), and is then renamed over the final
 * name with {@link StandardCopyOption#ATOMIC_MOVE}; finally the parent directory is flushed so that the
 * rename itself is durable. A reader therefore sees the old content or the new content, never a part.
 *
 * <p>Leftover temporaries (from a killed process) start with {@link #TEMP_PREFIX} and can be deleted
 * at any time, except a directory {@link #writeDirectory} moved aside ({@code .tmp-<name>-<random>-old}), which is
 * the previous content when a crash came between its two renames; {@link CheckpointStore} deletes the others when it
 * opens and puts such a directory back.
 */
public final class AtomicFiles {
  /** The prefix of every temporary file or directory written here. */
  public static final String TEMP_PREFIX = ".tmp-";

  private static final int BUFFER = 1 << 16;

  private AtomicFiles() {}

  /**
   * Runs work that an interrupt of the calling thread must not cut short nor lose: a checkpoint an interrupt stops a
   * run for, a log written between two steps. An interrupted thread's file channels refuse to write
   * ({@link java.nio.channels.ClosedByInterruptException}), and some JDK code clears the flag (Java2D's font loading
   * does, behind every picture with text): the flag is cleared for the work and set again after it where it was set
   * before or came during it, whether the work succeeds or fails.
   *
   * @param work the work
   * @param <T> its result
   * @return what the work returns
   */
  public static <T> T uninterrupted(java.util.function.Supplier<T> work) {
    boolean interrupted = Thread.interrupted();
    try {
      return work.get();
    } finally {
      if (Thread.interrupted() || interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * {@link #uninterrupted(java.util.function.Supplier)} for work without a result.
   *
   * @param work the work
   */
  public static void uninterrupted(Runnable work) {
    uninterrupted(() -> {
      work.run();
      return null;
    });
  }

  /** Writes a file's content to a stream; the stream must not be closed by the writer. */
  @FunctionalInterface
  public interface Content {
    /**
     * Writes the content.
     *
     * @param out the stream (buffered)
     * @throws IOException if writing fails
     */
    void writeTo(OutputStream out) throws IOException;
  }

  /** Fills a new, empty directory. */
  @FunctionalInterface
  public interface DirectoryContent {
    /**
     * Writes the files of the directory, each with {@link #writeDurably(Path, Content)}.
     *
     * @param directory the temporary directory to fill
     * @throws IOException if writing fails
     */
    void writeInto(Path directory) throws IOException;
  }

  /**
   * Writes a file atomically, replacing any existing file of that name.
   *
   * @param target the final path; its parent directories are created if missing
   * @param content the content
   * @throws IOException if writing fails (the target is then unchanged and no temporary is left)
   */
  public static void write(Path target, Content content) throws IOException {
    try (PendingFile f = create(target)) {
      content.writeTo(f.out());
      f.commit();
    }
  }

  /**
   * Starts writing a file atomically, for content produced over time (e.g. batch by batch): write to
   * {@link PendingFile#out()}, then {@link PendingFile#commit()}; closing without a commit deletes the
   * temporary, leaving {@code target} as it was.
   *
   * <pre>{@code
   * try (AtomicFiles.PendingFile f = AtomicFiles.create(path)) {
   *   f.out().write(header);
   *   for (...) f.out().write(batch);
   *   f.commit();
   * }
   * }</pre>
   *
   * @param target the final path; its parent directories are created if missing
   * @return the file being written
   * @throws IOException if the temporary cannot be created
   */
  public static PendingFile create(Path target) throws IOException {
    Path parent = parentOf(target);
    Files.createDirectories(parent);
    Path temp = newTempFile(parent, target.getFileName().toString());
    try {
      return new PendingFile(target, temp);
    } catch (IOException | RuntimeException | Error e) {
      deleteQuietly(temp, e);
      throw e;
    }
  }

  /**
   * A file being written to a temporary sibling ({@link #create(Path)}): committed, it is flushed to disk
   * and renamed over its target; closed without a commit, the temporary is deleted. Not thread-safe.
   */
  public static final class PendingFile implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final OutputStream out;
    private final Object liveKey;
    private boolean done;

    private PendingFile(Path target, Path temp) throws IOException {
      this.target = target;
      this.temp = temp;
      this.channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
      this.out = new BufferedOutputStream(Channels.newOutputStream(channel), BUFFER);
      // alive while written, however long a batch takes: cleanStaleTemporaries passes over it
      this.liveKey = liveKey(temp);
      LIVE.add(liveKey);
      try {
        channel.tryLock(); // released when the channel closes, or by the OS when the process dies
      } catch (IOException | RuntimeException e) {
        // a file system without locks: other processes then judge it by its age alone
      }
    }

    /**
     * The stream to write the content to (buffered; do not close it).
     *
     * @return the stream
     */
    public OutputStream out() {
      return out;
    }

    /**
     * The final path.
     *
     * @return the target
     */
    public Path target() {
      return target;
    }

    /**
     * Flushes the content to disk, renames the temporary over the target and flushes the folder.
     *
     * @throws IOException if any of that fails: before the rename, the target is unchanged and the temporary deleted;
     *     if only the folder's flush fails, the new content is already under the target's name (every reader sees it)
     *     but the rename may not survive a crash of the machine
     * @throws IllegalStateException if already committed or closed
     */
    public void commit() throws IOException {
      if (done) {
        throw new IllegalStateException(target + ": already committed or closed");
      }
      done = true;
      try {
        out.flush();
        channel.force(true);
        LIVE.remove(liveKey);
        channel.close();
        try {
          Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (java.nio.file.FileSystemException e) {
          throw namedByTarget(e);
        }
      } catch (IOException | RuntimeException | Error e) {
        closeQuietly(e);
        deleteQuietly(temp, e);
        throw e;
      }
      syncAfterRename(parentOf(target)); // the file is in place under its name
    }

    /** Deletes the temporary unless committed; the target stays as it was. */
    @Override
    public void close() {
      if (!done) {
        done = true;
        closeQuietly(null);
        deleteQuietly(temp, null);
      }
    }

    /**
     * A failed rename, named by the file asked for: the JDK names the temporary ({@code .tmp-NAME-...: Is a directory}),
     * which is deleted and which the user never sees. The kind (access denied, no such file, ...) is kept, as
     * {@link FileProblems#describe} tells them by it (the JDK gives some no reason); the JDK's is the cause.
     */
    private java.nio.file.FileSystemException namedByTarget(java.nio.file.FileSystemException e) {
      if (!temp.toString().equals(e.getFile())) {
        return e;
      }
      String t = target.toString();
      java.nio.file.FileSystemException named = e instanceof java.nio.file.AccessDeniedException
          ? new java.nio.file.AccessDeniedException(t, null, e.getReason())
          : e instanceof java.nio.file.NoSuchFileException
              ? new java.nio.file.NoSuchFileException(t, null, e.getReason())
          : e instanceof FileAlreadyExistsException ? new FileAlreadyExistsException(t, null, e.getReason())
          : e instanceof java.nio.file.DirectoryNotEmptyException ? new java.nio.file.DirectoryNotEmptyException(t)
          : new java.nio.file.FileSystemException(t, null, e.getReason());
      named.initCause(e);
      return named;
    }

    private void closeQuietly(Throwable failure) {
      LIVE.remove(liveKey);
      try {
        channel.close();
      } catch (IOException e) {
        if (failure != null) {
          failure.addSuppressed(e);
        }
      }
    }
  }

  /**
   * Writes a UTF-8 text file atomically.
   *
   * @param target the final path
   * @param text the text
   * @throws IOException if writing fails; one that names no file (a full disk's "No space left on device") is a
   *     {@link java.nio.file.FileSystemException} naming {@code target}
   */
  public static void writeString(Path target, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    try {
      write(target, out -> out.write(bytes));
    } catch (java.nio.file.FileSystemException e) {
      throw e;
    } catch (IOException e) {
      java.nio.file.FileSystemException named = new java.nio.file.FileSystemException(target.toString(), null,
          e.getMessage());
      named.initCause(e);
      throw named;
    }
  }

  /**
   * Writes a new file in place and flushes it to disk, without a rename: for files inside a
   * temporary directory that {@link #writeDirectory(Path, DirectoryContent)} renames as a whole.
   *
   * @param file the file, which must not exist yet
   * @param content the content
   * @throws IOException if writing fails or the file exists
   */
  public static void writeDurably(Path file, Content content) throws IOException {
    writeInto(file, content, StandardOpenOption.CREATE_NEW);
  }

  /**
   * Writes a directory atomically: {@code content} fills a temporary sibling directory, which is
   * flushed and renamed to {@code target}. An existing {@code target} is first renamed to a temporary
   * name and deleted once the new directory is in place (so between those two renames, a crash leaves
   * the old directory under a {@code .tmp-} name and no directory under the final name).
   *
   * @param target the final directory; its parent is created if missing
   * @param content what fills the directory
   * @throws IOException if writing fails (the target is then unchanged and no temporary is left)
   */
  public static void writeDirectory(Path target, DirectoryContent content) throws IOException {
    Path parent = parentOf(target);
    Files.createDirectories(parent);
    cleanStaleTemporaries(target);
    String name = target.getFileName().toString();
    Path temp = newTempDirectory(parent, name);
    // alive while filled, however long that takes without a file written (a shard of PNGs samples a batch
    // first): this JVM's cleanStaleTemporaries passes over it, as over a PendingFile's
    Object liveKey = liveKey(temp);
    LIVE.add(liveKey);
    try {
      content.writeInto(temp);
      fsyncDirectory(temp);
    } catch (IOException | RuntimeException | Error e) {
      LIVE.remove(liveKey);
      deleteQuietly(temp, e);
      throw e;
    }
    try {
      replaceDirectory(target, parent, temp);
    } finally {
      LIVE.remove(liveKey);
    }
  }

  /** The second half of {@link #writeDirectory}: {@code temp}, filled and flushed, takes {@code target}'s place. */
  private static void replaceDirectory(Path target, Path parent, Path temp) throws IOException {
    // Another process may write the same target at once (two exports to one --out): it may move the old
    // directory away between our look and our rename, or put its new one in place before ours. Then the
    // replacement is tried again, so both writers succeed and the last rename wins, as for files.
    List<Path> olds = new ArrayList<>();
    for (int attempt = 1; ; attempt++) {
      boolean again = attempt < REPLACE_ATTEMPTS;
      java.nio.file.attribute.BasicFileAttributes present;
      try {
        present = Files.readAttributes(target, java.nio.file.attribute.BasicFileAttributes.class);
      } catch (java.nio.file.NoSuchFileException e) {
        present = null;
      } catch (IOException | RuntimeException e) {
        restoreAndDelete(target, olds, temp, e); // a directory already moved aside goes back
        throw e;
      }
      if (present != null) {
        if (!present.isDirectory()) {
          restoreAndDelete(target, olds, temp, null);
          throw new FileAlreadyExistsException(target.toString(), null, "exists and is not a directory");
        }
        Path old = temporarySibling(target, "old");
        try {
          Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
          olds.add(old);
          // a rename keeps the folder's times: an export older than ten minutes would look stale at once, and
          // another writer's cleanStaleTemporaries delete it while this one does
          Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException | RuntimeException e) {
          if (again && e instanceof java.nio.file.NoSuchFileException) {
            continue; // another writer moved it away (and may have put its own there since)
          }
          restoreAndDelete(target, olds, temp, e);
          throw e;
        }
      }
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        break;
      } catch (IOException | RuntimeException e) {
        if (again && e instanceof java.nio.file.FileSystemException
            && !(e instanceof java.nio.file.AccessDeniedException) && Files.isDirectory(temp, LinkOption.NOFOLLOW_LINKS)) {
          // (the JDK reports ENOTEMPTY as a plain FileSystemException, so it cannot be told apart by type; a
          // lasting failure is only tried again, REPLACE_ATTEMPTS renames in all)
          continue; // another writer's directory took the name first: move it aside as well
        }
        restoreAndDelete(target, olds, temp, e);
        throw e;
      }
    }
    // the new directory is in place: an interrupt (Ctrl-C) now must not leave the old ones behind, nor fail the
    // write, and an old one already deleted by another writer is no error
    try {
      syncAfterRename(parent);
    } finally {
      for (Path old : olds) {
        try {
          deleteRecursively(old);
        } catch (IOException | RuntimeException e) {
          // gone already, or left for a later write of the name (cleanStaleTemporaries) to delete
        }
      }
    }
  }

  /**
   * Syncs the folder of a rename that has put a written file or folder in place. The write is complete: an interrupt
   * (Ctrl-C) before the sync or during it ({@code FileChannel.force} is interruptible, and a signal's interrupt can
   * come at any moment) must not report it as failed, so the sync is then cut short without an error, and the
   * interrupt is kept for the caller.
   */
  private static void syncAfterRename(Path directory) throws IOException {
    boolean interrupted = Thread.interrupted();
    try {
      fsyncDirectory(directory);
    } catch (java.nio.channels.ClosedByInterruptException e) {
      interrupted = true; // interrupted during the sync: the rename stands, its durability is the kernel's
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** How often {@link #writeDirectory} tries its two renames when other writers of the target interfere. */
  private static final int REPLACE_ATTEMPTS = 64;

  /** After a failed replacement: the newest directory moved aside is put back if the name is free; the rest go. */
  private static void restoreAndDelete(Path target, List<Path> olds, Path temp, Throwable failure) {
    for (int i = olds.size() - 1; i >= 0; i--) {
      Path old = olds.get(i);
      if (i == olds.size() - 1 && !Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        try {
          Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
          continue;
        } catch (IOException restore) {
          if (failure != null) {
            failure.addSuppressed(restore);
          }
        }
      }
      deleteQuietly(old, failure);
    }
    deleteQuietly(temp, failure);
  }

  /**
   * The temporaries of this JVM's {@link PendingFile}s and {@link #writeDirectory}s being written: never judged stale
   * here (a directory's, by other processes, by its age alone). Other processes see
   * them locked ({@link FileChannel#tryLock()}); a JVM does not open a file it locks itself (on POSIX systems closing
   * any descriptor of a locked file releases the process's lock).
   */
  private static final java.util.Set<Object> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A file's identity for {@link #LIVE}: its file key (device and inode on Unix), the same however a path spells it
   * (through a link to a parent, say), so that this JVM never opens, and so unlocks, a file it writes; the normalised
   * absolute path where the file system has no keys.
   */
  private static Object liveKey(Path p) {
    try {
      Object key = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .fileKey();
      if (key != null) {
        return key;
      }
    } catch (IOException | RuntimeException e) {
      // as below
    }
    return p.toAbsolutePath().normalize();
  }

  /** How long a temporary must have been left untouched before a later write of the same name deletes it. */
  public static final long STALE_TEMP_MILLIS = 10 * 60 * 1000L;

  /**
   * Tidies what killed writers of {@code target} left beside it: temporaries ({@code .tmp-<name>-<random>})
   * that nothing has touched for {@link #STALE_TEMP_MILLIS} are deleted (a process killed with SIGKILL, or a
   * command interrupted with Ctrl-C, cannot delete its own); a {@code -old} directory left by a crash between
   * the two renames of {@link #writeDirectory} is renamed back to {@code target} when no {@code target}
   * exists, so the previous content is never lost. Best effort: failures are ignored.
   *
   * @param target the file or directory about to be written
   */
  public static void cleanStaleTemporaries(Path target) {
    Path parent = target.toAbsolutePath().getParent();
    if (parent == null || target.getFileName() == null || !Files.isDirectory(parent)) {
      return;
    }
    String prefix = TEMP_PREFIX + tempStem(target.getFileName().toString()) + "-";
    long now = System.currentTimeMillis();
    try (DirectoryStream<Path> ls = Files.newDirectoryStream(parent,
        p -> p.getFileName().toString().startsWith(prefix))) {
      for (Path p : ls) {
        String rest = p.getFileName().toString().substring(prefix.length());
        if (!rest.matches("[0-9a-f]+(-old)?")) {
          continue; // another target's temporary whose name extends this one's (".tmp-a-b-..." for "a" and "a-b")
        }
        try {
          if (now - newestModification(p) <= STALE_TEMP_MILLIS || isBeingWritten(p)) {
            continue;
          }
          if (rest.endsWith("-old") && !Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
          } else {
            deleteRecursively(p);
          }
        } catch (IOException | RuntimeException e) {
          // another process may be removing it; it is only a leftover
        }
      }
    } catch (IOException | RuntimeException e) {
      // listing is only for tidying up
    }
  }

  /**
   * Whether a temporary file is still being written, by this JVM or by a live process that holds its lock: a
   * sampling batch of a large model can take longer than {@link #STALE_TEMP_MILLIS} without a byte written (a second
   * {@code sample --out} of the same name deleted the first's file, which then failed at its end, "no such file").
   */
  private static boolean isBeingWritten(Path p) {
    if (LIVE.contains(liveKey(p))) {
      return true;
    }
    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      java.nio.channels.FileLock lock = ch.tryLock();
      if (lock == null) {
        return true; // another process holds it
      }
      lock.release();
      return false;
    } catch (java.nio.channels.OverlappingFileLockException e) {
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static long newestModification(Path p) throws IOException {
    if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis();
    }
    try (Stream<Path> walk = Files.walk(p)) {
      long newest = 0;
      for (Path q : (Iterable<Path>) walk::iterator) {
        newest = Math.max(newest, Files.getLastModifiedTime(q, LinkOption.NOFOLLOW_LINKS).toMillis());
      }
      return newest;
    }
  }

  /**
   * Flushes a directory's entries to disk (so that a rename or a new file in it survives a crash).
   * On platforms that cannot open a directory for reading (Windows), this does nothing.
   *
   * @param directory the directory
   * @throws IOException if the flush fails
   */
  public static void fsyncDirectory(Path directory) throws IOException {
    if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")) {
      return;
    }
    try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /**
   * Deletes a file or a directory tree; does nothing if it does not exist.
   *
   * @param path the file or directory
   * @throws IOException if something cannot be deleted
   */
  public static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> walk = Files.walk(path)) {
        for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
          Files.deleteIfExists(p);
        }
      }
    } else {
      Files.deleteIfExists(path);
    }
  }

  /**
   * Whether a file name is one of the temporaries written here.
   *
   * @param fileName a file name (no directories)
   * @return true if it starts with {@link #TEMP_PREFIX}
   */
  public static boolean isTemporary(String fileName) {
    return fileName.startsWith(TEMP_PREFIX);
  }

  private static void writeInto(Path file, Content content, StandardOpenOption mode) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, mode)) {
      OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), BUFFER);
      content.writeTo(out);
      out.flush();
      ch.force(true);
    }
  }

  private static Path newTempFile(Path parent, String name) throws IOException {
    while (true) {
      try {
        return Files.createFile(parent.resolve(TEMP_PREFIX + tempStem(name) + "-" + randomSuffix()));
      } catch (FileAlreadyExistsException e) {
        // try another suffix
      }
    }
  }

  private static Path newTempDirectory(Path parent, String name) throws IOException {
    while (true) {
      try {
        return Files.createDirectory(parent.resolve(TEMP_PREFIX + tempStem(name) + "-" + randomSuffix()));
      } catch (FileAlreadyExistsException e) {
        // try another suffix
      }
    }
  }

  /**
   * A fresh temporary name next to {@code target}: {@code .tmp-<name>-<random>-<tag>}.
   *
   * @param target the file or directory
   * @param tag what the temporary is for
   * @return the path (not created)
   */
  static Path temporarySibling(Path target, String tag) {
    return parentOf(target)
        .resolve(TEMP_PREFIX + tempStem(target.getFileName().toString()) + "-" + randomSuffix() + "-" + tag);
  }

  /** The longest name a temporary may have ({@link FileProblems#MAX_NAME_BYTES}). */
  static final int MAX_NAME_BYTES = FileProblems.MAX_NAME_BYTES;

  /** The most a temporary's name adds around its stem: the prefix, {@code -<16 hex>} and {@code -deleted}. */
  private static final int TEMP_OVERHEAD = TEMP_PREFIX.length() + 1 + 16 + "-deleted".length();

  /**
   * The part of a temporary's name that stands for its target's name: the name itself where
   * {@code .tmp-<name>-<16 hex>-deleted} fits in {@link #MAX_NAME_BYTES} UTF-8 bytes; for a longer name (which a file
   * system takes, while its temporary's would be refused: "File name too long"), the longest beginning of it that
   * fits with {@code ~} and 8 hex digits of a hash of the whole name, so that every write of that name makes, and
   * {@link #cleanStaleTemporaries} recognises, temporaries of the same stem, and names that only share a beginning
   * do not share temporaries.
   *
   * @param name a file name
   * @return the stem
   */
  static String tempStem(String name) {
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    if (utf8.length + TEMP_OVERHEAD <= MAX_NAME_BYTES) {
      return name;
    }
    String hash = String.format(Locale.ROOT, "%08x", name.hashCode());
    int budget = MAX_NAME_BYTES - TEMP_OVERHEAD - 1 - hash.length();
    int end = 0;
    int bytes = 0;
    while (end < name.length()) {
      int cp = name.codePointAt(end);
      int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + n > budget) {
        break;
      }
      bytes += n;
      end += Character.charCount(cp);
    }
    return name.substring(0, end) + "~" + hash;
  }

  private static String randomSuffix() {
    return Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
  }

  private static Path parentOf(Path target) {
    Path parent = target.toAbsolutePath().getParent();
    if (parent == null) {
      throw new IllegalArgumentException("cannot write to a file system root: " + target);
    }
    return parent;
  }

  private static void deleteQuietly(Path path, Throwable failure) {
    try {
      deleteRecursively(path);
    } catch (IOException | RuntimeException e) {
      if (failure != null) {
        failure.addSuppressed(e);
      }
    }
  }
}
