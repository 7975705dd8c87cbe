package io.github.diffusion4j.data;

import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A folder of images, searched recursively: every file named {@code *.png}, {@code *.jpg}, {@code *.jpeg},
 * {@code *.bmp} or {@code *.gif} (any case) is an image; other files are listed as ignored (a broken link or a
 * FIFO with an image's name too, marked so); files and folders whose names start with a dot are passed over;
 * symbolic links are followed.
 *
 * <p>The order is fixed: images are sorted by their path relative to the folder, name by name in code-point
 * order (so {@code a/x.png} comes before {@code a.png/} and {@code B} before {@code a}), the same on every
 * file system. When images lie in sub-folders, the first sub-folder of each is its class: classes are
 * the sorted names of those sub-folders, and images directly in the folder have no class (label -1), as in
 * torchvision's {@code ImageFolder}.
 *
 * <p>Each image is decoded with ImageIO and fitted to the target ({@link ImageFit}) when it is read; the
 * content decides the format, not the name.
 */
public final class ImageFolder implements ImageSource {
  /** The file name extensions taken as images, lower case. */
  public static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");
  private static final int IGNORED_KEPT = 20;

  /** The names of MNIST-style IDX files ({@code train-images-idx3-ubyte.gz}), which {@code data.kind: idx} reads. */
  private static final Pattern IDX_NAME = Pattern.compile("(?i).*-idx[0-9]-ubyte(\\.gz)?");

  private final Path root;
  private final ImageFit fit;
  private final String[] files;
  /** The files as listed, relative: their names as the file system holds them (files[i] is for showing). */
  private final Path[] paths;
  private final long[] sizes;
  private final long[] modified;
  private final int[] labels;
  private final List<String> classes;
  private final int ignoredCount;
  private final List<String> ignored;

  private ImageFolder(Path root, ImageFit fit, String[] files, Path[] paths, long[] sizes, long[] modified,
      int[] labels, List<String> classes, int ignoredCount, List<String> ignored) {
    this.root = root;
    this.fit = fit;
    this.files = files;
    this.paths = paths;
    this.sizes = sizes;
    this.modified = modified;
    this.labels = labels;
    this.classes = classes;
    this.ignoredCount = ignoredCount;
    this.ignored = ignored;
  }

  /**
   * Lists a folder.
   *
   * @param root the folder
   * @param fit how images are fitted to the target shape
   * @return the listing
   * @throws DataFileException if the folder is missing, cannot be listed, or holds no images
   */
  public static ImageFolder scan(Path root, ImageFit fit) {
    Objects.requireNonNull(fit, "fit");
    Path dir = root.toAbsolutePath().normalize();
    if (!Files.exists(dir)) {
      throw new DataFileException(dir, "no such folder");
    }
    if (!Files.isDirectory(dir)) {
      throw new DataFileException(dir, "is not a folder; give the folder that holds the images");
    }
    List<Entry> entries = new ArrayList<>();
    List<String> ignored = new ArrayList<>();
    int[] ignoredCount = {0};
    String[] idxFile = {null};
    try {
      Files.walkFileTree(dir, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
              return !d.equals(dir) && hidden(d) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
              if (hidden(f)) {
                return FileVisitResult.CONTINUE;
              }
              String rel = relative(dir, f);
              if (!attrs.isRegularFile()) {
                // a broken link or a FIFO named like an image is shown, not dropped without a word
                rel += attrs.isSymbolicLink() ? " (a broken symbolic link)" : " (not a regular file)";
              }
              if (isImageName(f) && attrs.isRegularFile()) {
                entries.add(new Entry(rel, dir.relativize(f), attrs.size(), attrs.lastModifiedTime().toMillis()));
              } else {
                if (ignored.size() < IGNORED_KEPT) {
                  ignored.add(rel);
                }
                ignoredCount[0]++;
                if (idxFile[0] == null && IDX_NAME.matcher(f.getFileName().toString()).matches()) {
                  idxFile[0] = rel;
                }
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
              if (e instanceof FileSystemLoopException) {
                return FileVisitResult.CONTINUE; // a link back to an ancestor: its images are listed once
              }
              if (e instanceof AccessDeniedException) {
                throw new DataFileException(f, "cannot be listed: permission denied");
              }
              throw e;
            }
          });
    } catch (IOException e) {
      throw new DataFileException(dir, "cannot be listed: " + e.getMessage(), e);
    }
    if (entries.isEmpty()) {
      throw new DataFileException(dir, "holds no images (no *.png, *.jpg, *.jpeg, *.bmp or *.gif files"
          + (ignoredCount[0] == 0 ? ", and no other files" : "; " + ignoredCount[0]
              + (ignoredCount[0] == 1 ? " other file, e.g. " : " other files, e.g. ")
              + String.join(", ", ignored.subList(0, Math.min(3, ignored.size()))))
          + ")" + (idxFile[0] == null ? "" : "; " + idxFile[0] + " is an IDX file, read with data.kind: idx "
              + "(data.train_images), not as a folder of images"));
    }
    // names that differ only in characters the platform encoding cannot show are equal as strings (each such
    // character is a replacement character under LANG=C): their paths, bytes on Unix, order them
    entries.sort(Comparator.<Entry, String>comparing(e -> e.key).thenComparing(e -> e.file));
    int n = entries.size();
    String[] files = new String[n];
    Path[] paths = new Path[n];
    long[] sizes = new long[n];
    long[] modified = new long[n];
    Map<String, Integer> classIndex = new TreeMap<>();
    for (Entry e : entries) {
      int slash = e.path.indexOf('/');
      if (slash > 0) {
        classIndex.put(e.path.substring(0, slash), 0);
      }
    }
    List<String> classes = List.copyOf(classIndex.keySet());
    for (int i = 0; i < classes.size(); i++) {
      classIndex.put(classes.get(i), i);
    }
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      Entry e = entries.get(i);
      files[i] = e.path;
      paths[i] = e.file;
      sizes[i] = e.size;
      modified[i] = e.modified;
      int slash = e.path.indexOf('/');
      labels[i] = slash > 0 ? classIndex.get(e.path.substring(0, slash)) : -1;
    }
    return new ImageFolder(dir, fit, files, paths, sizes, modified, labels, classes, ignoredCount[0],
        List.copyOf(ignored));
  }

  /** Whether a file's name ends with one of {@link #EXTENSIONS}, in any case. */
  static boolean isImageName(Path f) {
    return EXTENSIONS.contains(extension(f));
  }

  /** A file name's extension in lower case, without the dot; empty if it has none. */
  static String extension(Path f) {
    String name = f.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(dot + 1).toLowerCase(Locale.ROOT) : "";
  }

  private static boolean hidden(Path p) {
    Path name = p.getFileName();
    return name != null && name.toString().startsWith(".");
  }

  private static String relative(Path dir, Path f) {
    StringBuilder b = new StringBuilder();
    for (Path part : dir.relativize(f)) {
      if (b.length() > 0) {
        b.append('/');
      }
      b.append(part);
    }
    return b.toString();
  }

  /** A listed image; {@code key} sorts name by name ('/' below every other character). */
  private record Entry(String path, Path file, long size, long modified, String key) {
    Entry(String path, Path file, long size, long modified) {
      this(path, file, size, modified, path.replace('/', '\0'));
    }
  }

  /**
   * The folder, absolute.
   *
   * @return the folder
   */
  public Path root() {
    return root;
  }

  /**
   * How images are fitted.
   *
   * @return the fit
   */
  public ImageFit fit() {
    return fit;
  }

  /**
   * An image file.
   *
   * @param index the image, in sorted order
   * @return its absolute path
   */
  public Path file(int index) {
    // the listed path, not its name as a string: under a platform encoding that cannot represent a name
    // (LANG=C and a file named bild-ü.png) the string has replacement characters and names no file
    return root.resolve(paths[index]);
  }

  /**
   * The size of an image file when it was listed.
   *
   * @param index the image
   * @return bytes
   */
  public long fileSize(int index) {
    return sizes[index];
  }

  /**
   * The number of files that were not taken as images (by their names).
   *
   * @return the count
   */
  public int ignoredCount() {
    return ignoredCount;
  }

  /**
   * Some of the files not taken as images, relative to the folder (at most 20).
   *
   * @return the names
   */
  public List<String> ignored() {
    return ignored;
  }

  @Override
  public String name() {
    Path n = root.getFileName();
    return n == null ? "root" : n.toString();
  }

  @Override
  public String identity() {
    return "folder " + root + " -> " + fit.describe();
  }

  @Override
  public Shape imageShape() {
    return fit.shape();
  }

  @Override
  public int size() {
    return files.length;
  }

  @Override
  public String item(int index) {
    return files[index];
  }

  @Override
  public int label(int index) {
    return labels[index];
  }

  @Override
  public List<String> classes() {
    return classes;
  }

  @Override
  public ImageInfo read(int index, byte[] dst, int offset) {
    return ImageDecoder.read(file(index), fit, dst, offset);
  }

  /**
   * Decodes an image only to check it, without fitting it.
   *
   * @param index the image
   * @return what it holds
   * @throws DataFileException if it cannot be decoded
   */
  public ImageInfo inspect(int index) {
    return ImageDecoder.read(file(index), null, null, 0);
  }

  @Override
  public byte[] fingerprint() {
    Fingerprint f = new Fingerprint(identity());
    for (int i = 0; i < files.length; i++) {
      f.file(files[i], sizes[i], modified[i]);
    }
    return f.digest();
  }

  @Override
  public String toString() {
    return identity() + " (" + files.length + (files.length == 1 ? " image" : " images") + (classes.isEmpty() ? ""
        : " in " + classes.size() + (classes.size() == 1 ? " class" : " classes")) + ")";
  }

  /** For tests: the sorted relative names. */
  List<String> names() {
    return Arrays.asList(files.clone());
  }
}
