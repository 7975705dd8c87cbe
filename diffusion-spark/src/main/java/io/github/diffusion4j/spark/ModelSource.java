package io.github.diffusion4j.spark;

import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.io.Checkpoint;
import io.github.diffusion4j.io.CheckpointException;
import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.io.FileProblems;
import io.github.diffusion4j.runtime.TrainedModel;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * The checkpoint the driver checked, as the executors get it: its folder, the SHA-256 of each file they
 * load, the configuration overrides, and (when broadcast) the files' bytes. An executor loads exactly these
 * bytes or fails: a file changed on the shared storage after the driver read it is refused, so every task
 * samples the same weights.
 */
final class ModelSource implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The files {@link TrainedModel#load} reads from a diffusion4j checkpoint folder that decide the samples. */
  static final List<String> FILES = List.of(Checkpoint.MODEL_FILE, Checkpoint.EMA_FILE, Checkpoint.CONFIG_FILE,
      Checkpoint.SCHEDULER_FILE);

  /**
   * The files {@link TrainedModel#load} reads from a folder, relative to it: a diffusers folder's as {@link
   * DiffusersFolder#files} lists them (in {@code unet/} and {@code scheduler/} for a pipeline), else a checkpoint's
   * {@link #FILES}.
   *
   * @param dir the folder the driver loaded
   * @return the names, with {@code /} between folders
   */
  static List<String> files(Path dir) {
    return DiffusersFolder.isDiffusersFolder(dir) ? DiffusersFolder.files(dir) : FILES;
  }

  private final String directory;
  private final List<String> overrides;
  private final TreeMap<String, String> sha256;
  private final Broadcast<TreeMap<String, byte[]>> bytes;
  private final String key;

  private ModelSource(String directory, List<String> overrides, TreeMap<String, String> sha256,
      Broadcast<TreeMap<String, byte[]>> bytes) {
    this.directory = directory;
    this.overrides = List.copyOf(overrides);
    this.sha256 = sha256;
    this.bytes = bytes;
    this.key = Sha256.of((sha256 + "\n" + String.join("\n", overrides)).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Pins a checkpoint folder on the driver: hashes the files, and broadcasts them if so asked.
   *
   * @param sc the context
   * @param checkpoint the checkpoint folder (resolved from a run folder by the driver's load)
   * @param overrides the configuration overrides every executor applies
   * @param shipping how the executors get it
   * @return the source
   */
  static ModelSource prepare(JavaSparkContext sc, Path checkpoint, List<String> overrides, Shipping shipping) {
    Path dir = checkpoint.toAbsolutePath().normalize();
    TreeMap<String, String> hashes = new TreeMap<>();
    long total = 0;
    for (String name : files(dir)) {
      Path f = dir.resolve(name);
      if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
        hashes.put(name, Sha256.of(f));
        total += size(f);
      }
    }
    if (hashes.isEmpty()) {
      // an executor would load an empty folder (broadcast) or files nobody checked (path)
      throw new CheckpointException(dir + ": none of the files a model loads from (" + String.join(", ", files(dir))
          + ") is there to send to the executors");
    }
    boolean broadcast = shipping == Shipping.BROADCAST
        || (shipping == Shipping.AUTO && total <= Shipping.BROADCAST_LIMIT);
    Broadcast<TreeMap<String, byte[]>> b = null;
    if (broadcast) {
      TreeMap<String, byte[]> files = new TreeMap<>();
      for (String name : hashes.keySet()) {
        byte[] content = read(dir.resolve(name));
        if (!Sha256.of(content).equals(hashes.get(name))) {
          throw new CheckpointException(dir.resolve(name) + ": changed while it was being read; try again");
        }
        files.put(name, content);
      }
      b = sc.broadcast(files);
    }
    return new ModelSource(dir.toString(), overrides, hashes, b);
  }

  /**
   * What identifies the model: the files' hashes and the overrides.
   *
   * @return a hex digest
   */
  String key() {
    return key;
  }

  /**
   * Whether the files travel as a broadcast.
   *
   * @return true for a broadcast, false for a path
   */
  boolean broadcast() {
    return bytes != null;
  }

  /**
   * The checkpoint folder.
   *
   * @return the path the driver read
   */
  String directory() {
    return directory;
  }

  /**
   * The files and their SHA-256.
   *
   * @return name to hex digest
   */
  Map<String, String> sha256() {
    return java.util.Collections.unmodifiableMap(sha256);
  }

  /**
   * Loads a checkpoint folder on this executor. The driver loaded it with the same overrides, so a backend this JVM
   * does not know is missing from the executors' class path (the job's jars left out of {@code spark.jars}), which
   * the error says, rather than the api's advice to add a dependency or the {@code --set} that carried
   * {@code --backend}.
   */
  private static TrainedModel loadHere(Path dir, List<String> overrides) {
    try {
      return TrainedModel.load(dir, overrides);
    } catch (io.github.diffusion4j.config.ConfigException e) {
      java.util.regex.Matcher m = UNKNOWN_BACKEND.matcher(e.detail());
      if (!"backend".equals(e.path()) || !m.find()) {
        throw e;
      }
      String has = m.group(2) == null ? "none" : java.util.Arrays.stream(m.group(2).split(",\\s*")).sorted()
          .collect(java.util.stream.Collectors.joining(", "));
      io.github.diffusion4j.config.ConfigException here = new io.github.diffusion4j.config.ConfigException("backend",
          "'" + m.group(1) + "' is not on this executor's class path (it has: " + has + "), though the driver has it: "
          + "give the executors the backend's jars (spark.jars, spark-submit --jars or spark.executor.extraClassPath; "
          + "docs/spark.md, \"The executors' class path\")");
      // no cause: a failed job says its innermost error (SparkJobException.of), which would be the api's again
      here.setStackTrace(e.getStackTrace());
      throw here;
    }
  }

  /** The api's error for a backend no provider has: its name, and what this JVM has (absent: none). */
  private static final java.util.regex.Pattern UNKNOWN_BACKEND = java.util.regex.Pattern.compile(
      "^unknown backend '([^']*)'; (?:available: ([^;]*)|no backend is on the class path)");

  /**
   * Loads the model on an executor: from the broadcast bytes (written to a temporary folder, deleted once
   * loaded) or from the folder, after checking every file against the driver's hash.
   *
   * @return the model; the caller closes it
   * @throws CheckpointException if a file differs from what the driver read
   */
  TrainedModel load() {
    if (bytes == null) {
      Path dir = Path.of(directory);
      for (String name : sha256.keySet()) {
        Path f = dir.resolve(name);
        if (!Files.isReadable(f)) {
          // the driver read it: this executor does not see the driver's files
          throw new CheckpointException(f + ": " + (Files.exists(f) ? "not readable" : "not found") + " on this "
              + "executor (--ship path reads the checkpoint at the driver's path on every executor: put it on storage "
              + "they all see, or use --ship broadcast)");
        }
      }
      for (Map.Entry<String, String> e : sha256.entrySet()) {
        verify(dir.resolve(e.getKey()), Sha256.of(dir.resolve(e.getKey())), e.getValue());
      }
      return loadHere(dir, overrides);
    }
    Path tmp = null;
    try {
      tmp = Files.createTempDirectory(TEMP_PREFIX + ProcessHandle.current().pid() + "-");
      removeStale(tmp.getParent(), java.time.Instant.now().minus(STALE_AFTER));
      for (Map.Entry<String, byte[]> e : bytes.value().entrySet()) {
        verify(Path.of(directory, e.getKey()), Sha256.of(e.getValue()), sha256.get(e.getKey()));
        Path f = tmp.resolve(e.getKey());
        Files.createDirectories(f.getParent()); // unet/ and scheduler/ of a diffusers pipeline
        Files.write(f, e.getValue());
      }
      return loadHere(tmp, overrides);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the broadcast checkpoint to a temporary folder: "
          + FileProblems.describe(e), e);
    } finally {
      if (tmp != null) {
        try {
          AtomicFiles.deleteRecursively(tmp);
        } catch (IOException e) {
          // a temporary folder of the executor's; it goes with the machine's temporary files
        }
      }
    }
  }

  /** The start of the temporary folder's name; the executor's process id and a random number follow. */
  static final String TEMP_PREFIX = "diffusion4j-checkpoint-";

  /** How old a dead process's temporary folder must be to be removed (a load takes seconds to minutes). */
  static final java.time.Duration STALE_AFTER = java.time.Duration.ofHours(1);

  /**
   * Removes the temporary checkpoint folders that executors killed while loading left in {@code dir} (a folder as
   * large as the checkpoint each, 140 MB for the CIFAR-10 model): those whose process is no longer running and that
   * were last changed before {@code before}. A folder of a live process, of this one, or newer is left alone (the
   * age also covers a process of another PID namespace sharing the folder, whose id means nothing here); nothing
   * that cannot be read or removed stops the load.
   *
   * @param dir the temporary files' folder
   * @param before the newest modification time a removed folder may have
   */
  static void removeStale(Path dir, java.time.Instant before) {
    long me = ProcessHandle.current().pid();
    try (java.util.stream.Stream<Path> entries = Files.list(dir)) {
      for (Path p : (Iterable<Path>) entries::iterator) {
        String name = p.getFileName().toString();
        int dash = name.indexOf('-', TEMP_PREFIX.length());
        if (!name.startsWith(TEMP_PREFIX) || dash < 0) {
          continue;
        }
        long pid;
        try {
          pid = Long.parseLong(name.substring(TEMP_PREFIX.length(), dash));
        } catch (NumberFormatException e) {
          continue;
        }
        if (pid != me && ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isEmpty()
            && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
            && Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(before)) {
          try {
            AtomicFiles.deleteRecursively(p);
          } catch (IOException e) {
            // another user's, or being removed by another executor: left
          }
        }
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      // the folder cannot be listed: nothing is removed
    }
  }

  /** On the driver, after the job: frees the broadcast bytes on the executors and here (models loaded stay). */
  void release() {
    if (bytes != null) {
      try {
        // blocking: an asynchronous removal still under way when the context stops right after (the command
        // line) is rejected by Spark's stopped thread pool, which prints a RejectedExecutionException
        bytes.destroy(true);
      } catch (RuntimeException e) {
        // the context may be stopping; its broadcasts go with it
      }
    }
  }

  private static void verify(Path file, String actual, String expected) {
    if (!actual.equals(expected)) {
      throw new CheckpointException(file + ": not the file the driver checked (SHA-256 " + actual.substring(0, 12)
          + "..., expected " + expected.substring(0, 12) + "...); a checkpoint must not change while a job reads it");
    }
  }

  private static long size(Path f) {
    try {
      return Files.size(f);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f + ": " + FileProblems.describe(e), e);
    }
  }

  private static byte[] read(Path f) {
    try {
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f + ": " + FileProblems.describe(e), e);
    }
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>(sha256.keySet());
    return directory + " " + parts + (bytes != null ? " (broadcast)" : " (path)");
  }
}
