package io.github.diffusion4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code checkpoints/} folder of a training run: one {@link Checkpoint} per saved step, named
 * {@code step-<N>} with {@code N} zero-padded to {@value #STEP_DIGITS} digits (so names sort like
 * steps), keeping the last {@code K}.
 *
 * <p>{@link #open} deletes the {@code .tmp-*} leftovers of a process that was killed while writing (a checkpoint
 * that a replacing save had moved aside is put back under its name if nothing took it), so
 * only the process that owns the run (holds its {@link FolderLock}) opens its store; readers use
 * {@link #listIn(Path)}, which changes nothing.
 */
public final class CheckpointStore {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);

  /** The number of digits of the step in a directory name. */
  public static final int STEP_DIGITS = 8;

  /** A {@code keepLast} that keeps every checkpoint. */
  public static final int KEEP_ALL = Integer.MAX_VALUE;

  private static final Pattern STEP_NAME = Pattern.compile("step-(\\d{" + STEP_DIGITS + ",18})");

  /** A checkpoint that {@link AtomicFiles#writeDirectory} moved aside to replace it ({@code .tmp-<name>-<hex>-old}). */
  private static final Pattern LEFT_ASIDE =
      Pattern.compile(Pattern.quote(AtomicFiles.TEMP_PREFIX) + "(step-\\d{" + STEP_DIGITS + ",18})-[0-9a-f]+-old");

  private final Path directory;
  private final int keepLast;

  private CheckpointStore(Path directory, int keepLast) {
    this.directory = directory;
    this.keepLast = keepLast;
  }

  /**
   * Opens (creating if needed) a run's checkpoint folder and deletes leftover temporaries.
   *
   * @param directory the folder
   * @param keepLast how many checkpoints to keep, at least 1 ({@link #KEEP_ALL} for all)
   * @return the store
   * @throws IllegalArgumentException if {@code keepLast < 1}
   * @throws CheckpointException if the folder cannot be created or cleaned
   */
  public static CheckpointStore open(Path directory, int keepLast) {
    if (keepLast < 1) {
      throw new IllegalArgumentException("keepLast must be at least 1, got " + keepLast);
    }
    try {
      Files.createDirectories(directory);
      int cleaned = 0;
      try (Stream<Path> entries = Files.list(directory)) {
        for (Path p : (Iterable<Path>) entries::iterator) {
          String name = p.getFileName().toString();
          Matcher aside = LEFT_ASIDE.matcher(name);
          if (aside.matches() && !Files.exists(directory.resolve(aside.group(1)), LinkOption.NOFOLLOW_LINKS)) {
            // a checkpoint moved aside by a replacing save that crashed before renaming the new one in: the
            // only copy of that step
            Files.move(p, directory.resolve(aside.group(1)), StandardCopyOption.ATOMIC_MOVE);
            LOG.info("{}: restored {} from {}, left by an interrupted save", directory, aside.group(1), name);
          } else if (AtomicFiles.isTemporary(name)) {
            AtomicFiles.deleteRecursively(p);
            cleaned++;
          }
        }
      }
      if (cleaned > 0) {
        LOG.info("{}: deleted {} leftover temporary entries of an interrupted write", directory, cleaned);
      }
    } catch (IOException e) {
      throw CheckpointException.of(directory, "cannot open checkpoint folder: " + FileProblems.describe(e), e);
    }
    return new CheckpointStore(directory, keepLast);
  }

  /**
   * The folder.
   *
   * @return the path
   */
  public Path directory() {
    return directory;
  }

  /**
   * How many checkpoints are kept.
   *
   * @return the count
   */
  public int keepLast() {
    return keepLast;
  }

  /**
   * The directory name of a step.
   *
   * @param step the step, at least 0
   * @return e.g. {@code step-00001000}
   */
  public static String directoryName(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("step must be at least 0, got " + step);
    }
    // Locale.ROOT: under ar-EG, fa-IR or th-TH-u-nu-thai %d writes that locale's digits, which stepOf does not read back
    return String.format(Locale.ROOT, "step-%0" + STEP_DIGITS + "d", step);
  }

  /**
   * The step of a checkpoint directory name.
   *
   * @param name a file name
   * @return the step, or empty if the name is not {@code step-<digits>}
   */
  public static OptionalLong stepOf(String name) {
    Matcher m = STEP_NAME.matcher(name);
    return m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
  }

  /**
   * Saves a checkpoint under the step of its training state, then deletes the oldest beyond
   * {@link #keepLast()}. An old checkpoint that cannot be deleted does not fail the save (the new checkpoint is
   * already in place): it is logged as a warning and tried again by the next save.
   *
   * @param content the content, with a training state
   * @param provenance for the manifest
   * @return the checkpoint's directory
   * @throws IllegalArgumentException if the content has no training state
   * @throws CheckpointException if writing fails (earlier checkpoints are then untouched)
   */
  public Path save(CheckpointContent content, Provenance provenance) {
    long step =
        content
            .trainingState()
            .orElseThrow(
                () -> new IllegalArgumentException("content has no training state; pass the step"))
            .step();
    return save(step, content, provenance);
  }

  /**
   * Saves a checkpoint as {@code step-<step>} (replacing one of the same step), then deletes the oldest
   * beyond {@link #keepLast()}. An old checkpoint that cannot be deleted does not fail the save (the new checkpoint
   * is already durable): it is logged as a warning and tried again by the next save.
   *
   * @param step the step
   * @param content the content
   * @param provenance for the manifest
   * @return the checkpoint's directory
   * @throws CheckpointException if writing fails (earlier checkpoints are then untouched)
   */
  public Path save(long step, CheckpointContent content, Provenance provenance) {
    Saved saved = saveAndPrune(step, content, provenance);
    saved.notPruned().forEach(problem -> LOG.warn("{}", problem));
    return saved.directory();
  }

  /**
   * What {@link #saveAndPrune} did.
   *
   * @param directory the checkpoint written (durable: in place under its name)
   * @param notPruned one line per old checkpoint beyond {@link #keepLast()} that could not be deleted, naming it
   *     and why; empty when all went. Such a checkpoint stays complete and loadable, and the next save tries again
   */
  record Saved(Path directory, List<String> notPruned) {
    Saved {
      java.util.Objects.requireNonNull(directory, "directory");
      notPruned = List.copyOf(notPruned);
    }
  }

  /** {@link #save(long, CheckpointContent, Provenance)}, returning rather than logging what could not be pruned. */
  Saved saveAndPrune(long step, CheckpointContent content, Provenance provenance) {
    Path target = directory.resolve(directoryName(step));
    Checkpoint.write(target, content, provenance);
    return new Saved(target, prune());
  }

  /**
   * The checkpoint directories, oldest step first.
   *
   * @return the directories
   * @throws CheckpointException if the folder cannot be listed
   */
  public List<Path> list() {
    return listIn(directory);
  }

  /**
   * The checkpoint directories of a folder, oldest step first, without opening a store: nothing is created
   * or deleted, so a reader (sampling while a run trains) never disturbs the writer. Only complete
   * checkpoints are listed: a checkpoint is written under a temporary name and renamed when complete.
   *
   * @param directory a {@code checkpoints/} folder
   * @return the directories; empty if the folder does not exist
   * @throws CheckpointException if the folder cannot be listed
   */
  public static List<Path> listIn(Path directory) {
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(directory)) {
      return out;
    }
    try (Stream<Path> entries = Files.list(directory)) {
      entries
          .filter(p -> stepOf(p.getFileName().toString()).isPresent() && Files.isDirectory(p))
          .sorted(Comparator.comparingLong(p -> stepOf(p.getFileName().toString()).getAsLong()))
          .forEach(out::add);
    } catch (IOException e) {
      throw CheckpointException.of(directory, "cannot list checkpoints: " + FileProblems.describe(e), e);
    }
    return out;
  }

  /**
   * The directory of the newest checkpoint.
   *
   * @return the directory, or empty if there is none
   */
  public Optional<Path> latestDirectory() {
    List<Path> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /**
   * Reads the newest checkpoint.
   *
   * @return the checkpoint, or empty if there is none
   * @throws CheckpointException if the newest checkpoint is damaged
   */
  public Optional<Checkpoint> latest() {
    return latestDirectory().map(Checkpoint::read);
  }

  /**
   * Deletes the oldest checkpoints beyond {@code keepLast}, each renamed away first; returns one line for each that
   * could not be (it stays, complete, under its name, or under a {@code .tmp-} name that the next {@link #open}
   * deletes, and the next save tries again).
   */
  private List<String> prune() {
    List<String> problems = new ArrayList<>();
    List<Path> all;
    try {
      all = list();
    } catch (CheckpointException e) {
      return List.of(e.getMessage() + "; old checkpoints not pruned this time");
    }
    for (int i = 0; i < all.size() - keepLast; i++) {
      Path old = all.get(i);
      Path doomed = AtomicFiles.temporarySibling(old, "deleted");
      try {
        // renamed first, so that a crash mid-delete leaves a .tmp- entry, never a partial step-N
        Files.move(old, doomed, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException | RuntimeException e) {
        problems.add(old + ": cannot delete old checkpoint (kept; the next save tries again): "
            + describe(e));
        continue;
      }
      try {
        AtomicFiles.deleteRecursively(doomed);
      } catch (IOException | RuntimeException e) {
        problems.add(old + ": cannot delete old checkpoint (moved aside as " + doomed.getFileName()
            + ", which the next opening of the store deletes): " + describe(e));
      }
    }
    return problems;
  }

  private static String describe(Exception e) {
    return e instanceof IOException io ? FileProblems.describe(io) : String.valueOf(e.getMessage());
  }
}
