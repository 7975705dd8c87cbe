package io.github.diffusion4j.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.InvalidPathException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * What is wrong with a file, in words a user reads: the checks every reader makes before it opens a file,
 * and I/O failures described without Java class names.
 *
 * <pre>{@code
 * FileProblems.ofReading(Path.of("ckpt/ema.safetensors"))   // Optional[is a folder, not a file]
 * FileProblems.describe(new NoSuchFileException("x"))       // "no such file"
 * }</pre>
 */
public final class FileProblems {
  private FileProblems() {}

  /**
   * Why a path cannot be read as a regular file, found without opening it (so a FIFO where a file should
   * be is reported instead of blocking the reader forever).
   *
   * @param file the path
   * @return empty if it is a readable regular file; else the problem, e.g. {@code "no such file"},
   *     {@code "is a folder, not a file"}, {@code "is not a regular file (a FIFO, socket or device)"},
   *     {@code "is a broken symbolic link"}, {@code "cannot be read (permission denied)"}, {@code "cannot be read
   *     (permission denied: a folder on its path cannot be searched)"}
   */
  public static Optional<String> ofReading(Path file) {
    return ofReading(file, Access.FILES);
  }

  /**
   * How the file system is asked about a path: its attributes (following links) and whether the user may read it.
   * The seam where tests simulate the file system's refusals, which root never meets.
   */
  record Access(Attributes attributes, java.util.function.Predicate<Path> readable) {
    /** The file system's own answers. */
    static final Access FILES = new Access(p -> Files.readAttributes(p, BasicFileAttributes.class), Files::isReadable);
  }

  /** How a path's attributes are read, following links. */
  interface Attributes {
    BasicFileAttributes of(Path path) throws IOException;
  }

  /**
   * {@link #ofReading(Path)} with the file system asked through {@code access}. A file in a folder the user may not
   * search (mode 000, another user's) cannot even be looked up: that is said as denied, not as missing.
   */
  static Optional<String> ofReading(Path file, Access access) {
    BasicFileAttributes a;
    try {
      a = access.attributes().of(file);
    } catch (AccessDeniedException e) {
      return Optional.of("cannot be read (permission denied: a folder on its path cannot be searched)");
    } catch (IOException e) { // no such file, a broken link, a loop of links
      return Optional.of(Files.exists(file, LinkOption.NOFOLLOW_LINKS)
          ? "is a broken symbolic link" : "no such file");
    }
    if (a.isDirectory()) {
      return Optional.of("is a folder, not a file");
    }
    if (!a.isRegularFile()) {
      return Optional.of("is not a regular file (a FIFO, socket or device)");
    }
    if (!access.readable().test(file)) {
      return Optional.of("cannot be read (permission denied)");
    }
    return Optional.empty();
  }

  /**
   * The longest file or folder name, in bytes, that the usual file systems take (ext4, XFS, btrfs, ZFS, tmpfs, APFS:
   * 255). NTFS counts 255 UTF-16 units, never more than the UTF-8 bytes of the same name, so it takes some names
   * longer than this (a folder of 100 CJK characters, 300 bytes): only names still to be made are held to it.
   */
  public static final int MAX_NAME_BYTES = 255;

  /**
   * Whether a path to be written has a name longer than {@link #MAX_NAME_BYTES} (its last name or a folder on its way
   * that does not exist yet): found up front, a command refuses it before any work instead of failing at the write
   * with "File name too long".
   *
   * @param path the file or folder to be written
   * @return empty if every name fits; else the problem, e.g. {@code "the name ooo...o.npy is 304 bytes long (UTF-8),
   *     more than the 255 a file name may have"}
   */
  public static Optional<String> ofNameLength(Path path) {
    Path absolute = path.toAbsolutePath().normalize();
    Path at = absolute.getRoot();
    for (Path name : absolute) {
      at = at == null ? name : at.resolve(name);
      int bytes = name.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      // a name that exists was taken by its file system (NTFS takes longer ones): only the names to be made count
      if (bytes > MAX_NAME_BYTES && !Files.exists(at, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        String shown = name.toString().length() > 40
            ? name.toString().substring(0, 20) + "..." + name.toString().substring(name.toString().length() - 12)
            : name.toString();
        return Optional.of("the name " + shown + " is " + bytes + " bytes long (UTF-8), more than the "
            + MAX_NAME_BYTES + " a file name may have");
      }
    }
    return Optional.empty();
  }

  /**
   * Why files cannot be created in a folder (created first, with its missing parents, if need be), found
   * without changing anything: a creation is tried for real in the folder or its nearest existing ancestor
   * (permission bits do not tell the whole story: read-only file systems, and root, whom they do not bind).
   *
   * @param folder the folder
   * @return empty if files can be created there; else the problem, e.g. {@code "is not a folder"},
   *     {@code "cannot create files in /data (read-only or permission denied)"}
   */
  public static Optional<String> ofWritingInto(Path folder) {
    Optional<String> name = ofNameLength(folder);
    if (name.isPresent()) {
      return name;
    }
    Path existing = folder.toAbsolutePath().normalize();
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return Optional.empty();
    }
    if (!Files.isDirectory(existing)) {
      return Optional.of(existing.equals(folder.toAbsolutePath().normalize())
          ? "is not a folder" : existing + " is not a folder");
    }
    return canCreateFilesIn(existing) ? Optional.empty()
        : Optional.of("cannot create files in " + existing + " (read-only or permission denied)");
  }

  /**
   * Whether a file can be created in an existing folder, tried for real (a probe file created and deleted).
   *
   * @param dir the folder
   * @return true if a file could be created there
   */
  public static boolean canCreateFilesIn(Path dir) {
    try {
      Path probe = Files.createTempFile(dir, ".diffusion-write-probe-", ".tmp");
      Files.delete(probe);
      return true;
    } catch (IOException | SecurityException e) {
      return false;
    }
  }

  /**
   * A one-line description of an I/O failure, without Java class names and without repeating the file
   * name that {@link FileSystemException#getMessage()} puts in front.
   *
   * @param e the failure
   * @return e.g. {@code "no such file"}, {@code "permission denied"}, {@code "No space left on device"}
   */
  public static String describe(IOException e) {
    if (e instanceof javax.imageio.IIOException && e.getCause() instanceof IOException cause) {
      // ImageIO's writers say "I/O error writing PNG file!" over the failure that matters (a full disk)
      return describe(cause);
    }
    if (e instanceof java.nio.channels.ClosedByInterruptException) {
      return "interrupted (the writing thread was interrupted, which closes its file)";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileAlreadyExistsException) {
      return "already exists";
    }
    if (e instanceof NotDirectoryException) {
      return "not a folder";
    }
    if (e instanceof DirectoryNotEmptyException) {
      return "folder not empty";
    }
    if (e instanceof FileSystemException fs) {
      String reason = fs.getReason();
      if (reason != null && !reason.isBlank()) {
        return CheckpointException.oneLine(reason);
      }
      return "input/output error";
    }
    String m = e.getMessage();
    return m == null || m.isBlank() ? "input/output error" : CheckpointException.oneLine(m);
  }

  /**
   * Why a text is no path, in one line. Under a locale whose character set is ASCII (C or POSIX: a container or
   * an {@code env -i} without a locale) the JVM encodes file names in ASCII, so a name with any other character
   * ({@code données}, {@code 日本}) cannot be given to the file system: that is said with the remedy, where Java
   * said only "Malformed input or input contains unmappable characters".
   *
   * @param e the failure of {@code Path.of}
   * @return e.g. {@code "not a valid path (Nul character not allowed)"}, or for a name the file-name encoding
   *     cannot hold, what the encoding is and that a UTF-8 locale ({@code LC_ALL=C.UTF-8}) takes it
   */
  public static String describe(InvalidPathException e) {
    return describe(e, System.getProperty("sun.jnu.encoding", ""));
  }

  /** {@link #describe(InvalidPathException)} for a JVM whose file names are encoded in {@code encoding}. */
  static String describe(InvalidPathException e, String encoding) {
    String reason = CheckpointException.oneLine(String.valueOf(e.getReason()));
    if (reason.startsWith("Malformed input or input contains unmappable characters")
        && !encoding.replace("-", "").equalsIgnoreCase("UTF8")) {
      return "not a file name this JVM can use: it encodes file names in " + encoding + " (its locale's character "
          + "set; that of the C and POSIX locales is ASCII), which has no character for some of the name's; run it "
          + "under a UTF-8 locale (LC_ALL=C.UTF-8, which the ./diffusion launcher sets for the C and POSIX locales)";
    }
    return "not a valid path (" + reason + ")";
  }
}
