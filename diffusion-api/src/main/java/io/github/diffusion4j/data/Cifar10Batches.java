package io.github.diffusion4j.data;

import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The CIFAR-10 binary batches ({@code cifar-10-binary.tar.gz}): {@code data_batch_1.bin} ...
 * {@code data_batch_5.bin} for training and {@code test_batch.bin} for evaluation. Each file is a sequence of
 * 3,073-byte records: the label (0..9), then 1,024 red, 1,024 green and 1,024 blue bytes of a 32x32 image,
 * row by row (the official files hold 10,000 records, 30,730,000 bytes).
 *
 * <p>The folder given may be the one holding the files or the one the archive unpacks into (holding
 * {@code cifar-10-batches-bin/}). Training batches are taken from 1 upwards and must not have gaps. Every
 * file's length must be a whole, positive number of records, checked before anything is read; a record with
 * a label outside 0..9 is a bad image. Records are fitted to the target like any image ({@link ImageFit}):
 * 3x32x32 copies them exactly, one channel takes their luma.
 */
public final class Cifar10Batches implements ImageSource {
  /** The bytes of one record: a label and 3x32x32 pixels. */
  public static final int RECORD_BYTES = 1 + 3 * 32 * 32;
  /** The records of an official batch file. */
  public static final int RECORDS_PER_FILE = 10_000;
  /** The class names, in label order (from {@code batches.meta.txt}). */
  public static final List<String> CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog",
      "frog", "horse", "ship", "truck");
  /** The sub-folder the official archive unpacks into. */
  public static final String ARCHIVE_FOLDER = "cifar-10-batches-bin";
  /** The training batch files, in order. */
  public static final List<String> TRAIN_FILES = List.of("data_batch_1.bin", "data_batch_2.bin",
      "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin");
  /** The test batch file. */
  public static final String TEST_FILE = "test_batch.bin";
  private static final int PLANE = 32 * 32;

  private final Path dir;
  private final String split;
  private final ImageFit fit;
  private final List<Path> files;
  private final long[] sizes;
  private final long[] modified;
  private final int[] firstRecord;
  private final int count;
  /** Labels seen by {@link #read}, plus one (0: not read yet), so that {@link #label} need not read again. */
  private final byte[] seenLabels;

  private Cifar10Batches(Path dir, String split, ImageFit fit, List<Path> files, long[] sizes, long[] modified) {
    this.dir = dir;
    this.split = split;
    this.fit = fit;
    this.files = files;
    this.sizes = sizes;
    this.modified = modified;
    this.firstRecord = new int[files.size() + 1];
    for (int i = 0; i < files.size(); i++) {
      firstRecord[i + 1] = firstRecord[i] + (int) (sizes[i] / RECORD_BYTES);
    }
    this.count = firstRecord[files.size()];
    this.seenLabels = new byte[count];
  }

  /**
   * The folder that holds the batches: {@code dir} itself, or its {@code cifar-10-batches-bin/}.
   *
   * @param dir the folder given
   * @return the folder with the files
   * @throws DataFileException if neither holds {@code data_batch_1.bin}
   */
  public static Path locate(Path dir) {
    Path d = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(d)) {
      throw new DataFileException(d, Files.exists(d) ? "is not a folder; give the folder of the CIFAR-10 batches"
          : "no such folder");
    }
    if (Files.exists(d.resolve(TRAIN_FILES.get(0)))) {
      return d;
    }
    if (Files.exists(d.resolve(ARCHIVE_FOLDER).resolve(TRAIN_FILES.get(0)))) {
      return d.resolve(ARCHIVE_FOLDER);
    }
    throw new DataFileException(d, "holds no CIFAR-10 binary batches (data_batch_1.bin ... data_batch_5.bin, "
        + "test_batch.bin, here or in " + ARCHIVE_FOLDER + "/); unpack cifar-10-binary.tar.gz here");
  }

  /**
   * Whether a folder holds CIFAR-10 batches, itself or in {@code cifar-10-batches-bin/}.
   *
   * @param dir the folder
   * @return true if {@code data_batch_1.bin} is there
   */
  public static boolean isBatchFolder(Path dir) {
    return Files.exists(dir.resolve(TRAIN_FILES.get(0)))
        || Files.exists(dir.resolve(ARCHIVE_FOLDER).resolve(TRAIN_FILES.get(0)));
  }

  /**
   * The training batches: {@code data_batch_1.bin} and those that follow it without a gap.
   *
   * @param dir the folder (see {@link #locate})
   * @param fit how records are fitted
   * @return the source
   * @throws DataFileException if a file is missing, unreadable, or not a whole number of records
   */
  public static Cifar10Batches train(Path dir, ImageFit fit) {
    Path d = locate(dir);
    List<Path> files = new ArrayList<>();
    for (String name : TRAIN_FILES) {
      Path f = d.resolve(name);
      if (!Files.exists(f)) {
        break;
      }
      files.add(f);
    }
    for (int i = files.size(); i < TRAIN_FILES.size(); i++) {
      if (Files.exists(d.resolve(TRAIN_FILES.get(i)))) {
        throw new DataFileException(d.resolve(TRAIN_FILES.get(files.size())),
            "missing, but " + TRAIN_FILES.get(i) + " is there; the training batches must be numbered from 1 "
                + "without gaps");
      }
    }
    return of(d, "train", fit, files);
  }

  /**
   * The test batch, {@code test_batch.bin}.
   *
   * @param dir the folder (see {@link #locate})
   * @param fit how records are fitted
   * @return the source
   * @throws DataFileException if the file is missing, unreadable, or not a whole number of records
   */
  public static Cifar10Batches test(Path dir, ImageFit fit) {
    Path d = locate(dir);
    return of(d, "test", fit, List.of(d.resolve(TEST_FILE)));
  }

  private static Cifar10Batches of(Path dir, String split, ImageFit fit, List<Path> files) {
    Objects.requireNonNull(fit, "fit");
    fit.problem(32, 32).ifPresent(p -> {
      throw new DataFileException(dir, "the CIFAR-10 images are 32x32: every one " + p.replaceFirst("^is 32x32, ", "is "));
    });
    long[] sizes = new long[files.size()];
    long[] modified = new long[files.size()];
    long records = 0;
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      if (!Files.isRegularFile(f)) {
        throw new DataFileException(f, Files.exists(f) ? "is not a regular file" : "no such file");
      }
      try {
        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
        sizes[i] = a.size();
        modified[i] = a.lastModifiedTime().toMillis();
      } catch (IOException e) {
        throw new DataFileException(f, "cannot be read: " + e.getMessage(), e);
      }
      if (sizes[i] == 0 || sizes[i] % RECORD_BYTES != 0) {
        throw new DataFileException(f, (sizes[i] == 0 ? "is empty" : "holds " + sizes[i] + " bytes, not a whole "
            + "number of " + RECORD_BYTES + "-byte records (1 label + 3x32x32 pixels)")
            + "; an official batch holds " + RECORDS_PER_FILE + " records, " + (long) RECORDS_PER_FILE * RECORD_BYTES
            + " bytes (truncated, or not a CIFAR-10 binary batch?)");
      }
      records += sizes[i] / RECORD_BYTES;
    }
    if (records > Integer.MAX_VALUE) {
      throw new DataFileException(dir, "holds more than " + Integer.MAX_VALUE + " records");
    }
    return new Cifar10Batches(dir, split, fit, List.copyOf(files), sizes, modified);
  }

  /**
   * The batch files, in order.
   *
   * @return the files
   */
  public List<Path> files() {
    return files;
  }

  @Override
  public String name() {
    return "cifar10-" + split;
  }

  @Override
  public String identity() {
    return "cifar10 " + split + " " + dir + " -> " + fit.describe();
  }

  @Override
  public Shape imageShape() {
    return fit.shape();
  }

  @Override
  public int size() {
    return count;
  }

  private int fileOf(int index) {
    Objects.checkIndex(index, count);
    int f = 0;
    while (firstRecord[f + 1] <= index) {
      f++;
    }
    return f;
  }

  @Override
  public String item(int index) {
    return files.get(fileOf(index)).getFileName() + " " + recordName(index);
  }

  /** "record K of N" within its file, counted from 1 as every item number a user sees is. */
  private String recordName(int index) {
    int f = fileOf(index);
    return "record " + (index - firstRecord[f] + 1) + " of " + (firstRecord[f + 1] - firstRecord[f]);
  }

  @Override
  public int label(int index) {
    int seen = seenLabels[Objects.checkIndex(index, count)];
    int label = seen != 0 ? seen - 1 : record(index)[0] & 0xff;
    return label < CLASSES.size() ? label : -1;
  }

  @Override
  public List<String> classes() {
    return CLASSES;
  }

  private byte[] record(int index) {
    int f = fileOf(index);
    Path file = files.get(f);
    byte[] r = new byte[RECORD_BYTES];
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.wrap(r);
      long at = (long) (index - firstRecord[f]) * RECORD_BYTES;
      while (b.hasRemaining()) {
        if (ch.read(b, at + b.position()) < 0) {
          throw new DataFileException(file, recordName(index) + ": the file ends early; it "
              + "was " + sizes[f] + " bytes when listed (did it change?)");
        }
      }
    } catch (IOException e) {
      throw new DataFileException(file, "cannot be read: " + e.getMessage(), e);
    }
    return r;
  }

  @Override
  public ImageInfo read(int index, byte[] dst, int offset) {
    byte[] r = record(index);
    int label = r[0] & 0xff;
    if (label < CLASSES.size()) {
      seenLabels[index] = (byte) (label + 1);
    } else {
      throw new DataFileException(files.get(fileOf(index)), recordName(index) + ": label " + label
          + " is outside 0..9 (is this a CIFAR-100 file? it has 2 label bytes per record)");
    }
    int c = fit.channels();
    fit.apply(32, 32, (y, row) -> {
      for (int x = 0; x < 32; x++) {
        int p = 1 + y * 32 + x;
        double red = r[p] & 0xff;
        double green = r[p + PLANE] & 0xff;
        double blue = r[p + 2 * PLANE] & 0xff;
        if (c == 1) {
          row[0][x] = ImageDecoder.luma(red, green, blue);
        } else {
          row[0][x] = red;
          row[1][x] = green;
          row[2][x] = blue;
        }
      }
    }, dst, offset);
    return new ImageInfo(32, 32, "RGB");
  }

  @Override
  public byte[] fingerprint() {
    Fingerprint fp = new Fingerprint(identity());
    for (int i = 0; i < files.size(); i++) {
      fp.file(files.get(i).getFileName().toString(), sizes[i], modified[i]);
    }
    return fp.digest();
  }

  @Override
  public String toString() {
    return identity() + " (" + count + " records)";
  }
}
