package io.github.diffusion4j.io;

import io.github.diffusion4j.model.StateDict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A checkpoint directory, backend-neutral:
 *
 * <pre>
 * model.safetensors            the model's weights (PyTorch state_dict names)     required
 * config.yaml                  the resolved configuration                          required
 * ema.safetensors              EMA weights                                         optional
 * training_state.safetensors   optimiser tensors; step, epoch, noise position      optional
 * scheduler_config.json        diffusers' scheduler keys                           optional
 * manifest.json                format version, provenance, SHA-256 of each file    optional on load
 * </pre>
 *
 * <p>{@link #write} is atomic: the files go into a temporary sibling directory ({@code
 * .tmp-<name>-<random>}), each is flushed to disk, then the directory is flushed and renamed into place;
 * a crash or an exception never leaves a partial checkpoint under the final name. {@link #read} checks
 * the manifest's checksums when there is a manifest.
 *
 * @param directory where the checkpoint was read from
 * @param content what it holds
 * @param manifest its manifest, if it has one
 */
public record Checkpoint(Path directory, CheckpointContent content, Optional<Manifest> manifest) {
  private static final Logger LOG = LoggerFactory.getLogger(Checkpoint.class);

  /** The model's weights. */
  public static final String MODEL_FILE = "model.safetensors";

  /** The EMA weights. */
  public static final String EMA_FILE = "ema.safetensors";

  /** The training state. */
  public static final String TRAINING_STATE_FILE = "training_state.safetensors";

  /** The configuration text. */
  public static final String CONFIG_FILE = "config.yaml";

  /** The scheduler configuration. */
  public static final String SCHEDULER_FILE = "scheduler_config.json";

  /** The manifest. */
  public static final String MANIFEST_FILE = "manifest.json";

  /** The files a checkpoint may hold besides the manifest. */
  private static final List<String> CONTENT_FILES =
      List.of(MODEL_FILE, EMA_FILE, TRAINING_STATE_FILE, CONFIG_FILE, SCHEDULER_FILE);

  /**
   * {@code __metadata__} of the weight files: tells Python loaders (transformers, {@code safe_open})
   * that the tensors follow PyTorch conventions.
   */
  private static final Map<String, String> WEIGHTS_METADATA = Map.of("format", "pt");

  /**
   * Checks for nulls.
   *
   * @param directory where the checkpoint was read from
   * @param content what it holds
   * @param manifest its manifest, if it has one
   * @throws IllegalArgumentException if a component is null
   */
  public Checkpoint {
    if (directory == null || content == null || manifest == null) {
      throw new IllegalArgumentException("directory, content and manifest must not be null");
    }
  }

  /** Called after each file of a checkpoint is written (a seam for tests that simulate crashes). */
  @FunctionalInterface
  interface WriteObserver {
    void written(String fileName) throws IOException;
  }

  /**
   * Writes a checkpoint atomically, replacing any checkpoint already at {@code directory}.
   *
   * @param directory the checkpoint's directory; its parent is created if missing
   * @param content what to store
   * @param provenance backend, seed and time for the manifest
   * @return the manifest written
   * @throws CheckpointException if writing fails; the directory is then as it was before
   */
  public static Manifest write(Path directory, CheckpointContent content, Provenance provenance) {
    return write(directory, content, provenance, name -> {});
  }

  static Manifest write(
      Path directory, CheckpointContent content, Provenance provenance, WriteObserver observer) {
    Manifest[] manifest = new Manifest[1];
    try {
      AtomicFiles.writeDirectory(
          directory,
          tmp -> {
            Map<String, String> hashes = new LinkedHashMap<>();
            writeFile(tmp, MODEL_FILE, hashes, observer,
                out -> SafeTensors.write(out, content.model(), WEIGHTS_METADATA, directory.resolve(MODEL_FILE)));
            if (content.ema().isPresent()) {
              StateDict ema = content.ema().get();
              writeFile(tmp, EMA_FILE, hashes, observer,
                  out -> SafeTensors.write(out, ema, WEIGHTS_METADATA, directory.resolve(EMA_FILE)));
            }
            if (content.trainingState().isPresent()) {
              TrainingState s = content.trainingState().get();
              writeFile(tmp, TRAINING_STATE_FILE, hashes, observer,
                  out -> SafeTensors.write(
                      out, s.optimizer(), s.metadata(), directory.resolve(TRAINING_STATE_FILE)));
            }
            byte[] yaml = content.configYaml().getBytes(StandardCharsets.UTF_8);
            writeFile(tmp, CONFIG_FILE, hashes, observer, out -> out.write(yaml));
            if (content.scheduler().isPresent()) {
              byte[] json = content.scheduler().get().toJson().getBytes(StandardCharsets.UTF_8);
              writeFile(tmp, SCHEDULER_FILE, hashes, observer, out -> out.write(json));
            }
            manifest[0] = Manifest.of(provenance, hashes);
            byte[] m = manifest[0].toJson().getBytes(StandardCharsets.UTF_8);
            AtomicFiles.writeDurably(tmp.resolve(MANIFEST_FILE), out -> out.write(m));
            observer.written(MANIFEST_FILE);
          });
    } catch (IOException e) {
      throw CheckpointWriteException.of(directory, "cannot write checkpoint: " + FileProblems.describe(e), e);
    }
    return manifest[0];
  }

  private static void writeFile(
      Path dir, String name, Map<String, String> hashes, WriteObserver observer, AtomicFiles.Content c)
      throws IOException {
    MessageDigest md = FileSupport.sha256();
    AtomicFiles.writeDurably(
        dir.resolve(name),
        out -> {
          DigestOutputStream dos = new DigestOutputStream(out, md);
          c.writeTo(dos);
          dos.flush();
        });
    hashes.put(name, HexFormat.of().formatHex(md.digest()));
    observer.written(name);
  }

  /**
   * Reads a checkpoint. Only {@value #MODEL_FILE} and {@value #CONFIG_FILE} are required; if there is a
   * {@value #MANIFEST_FILE}, every file it lists must exist and match its SHA-256.
   *
   * @param directory the checkpoint's directory
   * @return the checkpoint
   * @throws CheckpointException naming the file if something is missing, damaged or malformed
   */
  public static Checkpoint read(Path directory) {
    return read(directory, true);
  }

  /**
   * Reads what sampling needs: as {@link #read}, but the content of {@value #TRAINING_STATE_FILE} is neither read
   * nor checked against the manifest (a folder or FIFO under its name is still refused), and the result holds no
   * training state. A damaged optimiser state does not stop a
   * model from being sampled (resuming it still fails, naming the file), and its Adam moments, twice the
   * model's size, are not read for nothing.
   *
   * @param directory the checkpoint's directory
   * @return the checkpoint, without its training state
   * @throws CheckpointException naming the file if something it reads is missing, damaged or malformed
   */
  public static Checkpoint readForSampling(Path directory) {
    return read(directory, false);
  }

  private static Checkpoint read(Path directory, boolean withTrainingState) {
    if (!Files.isDirectory(directory)) {
      throw CheckpointException.of(
          directory, Files.exists(directory) ? "not a directory" : "checkpoint directory not found");
    }
    // every file is checked before any is opened: a folder or a FIFO where a file should be is named as
    // such (and never blocks the reader), whether or not this caller would use the file
    for (String name : new String[] {MODEL_FILE, CONFIG_FILE}) {
      Path p = directory.resolve(name);
      FileProblems.ofReading(p).ifPresent(problem -> {
        throw CheckpointException.of(p, problem.equals("no such file")
            ? "missing; a checkpoint needs " + MODEL_FILE + " and " + CONFIG_FILE : problem);
      });
    }
    for (String name : new String[] {EMA_FILE, TRAINING_STATE_FILE, SCHEDULER_FILE, MANIFEST_FILE}) {
      optional(directory, name).ifPresent(FileSupport::requireReadable);
    }
    Optional<Manifest> manifest = Optional.empty();
    Path manifestFile = directory.resolve(MANIFEST_FILE);
    if (Files.exists(manifestFile)) {
      Manifest m = Manifest.fromJson(FileSupport.readUtf8(manifestFile), manifestFile.toString());
      verify(directory, m, withTrainingState);
      manifest = Optional.of(m);
    }
    StateDict model = readWeights(directory.resolve(MODEL_FILE));
    String yaml = FileSupport.readUtf8(directory.resolve(CONFIG_FILE));
    Optional<StateDict> ema = optional(directory, EMA_FILE).map(Checkpoint::readWeights);
    Optional<TrainingState> state =
        optional(directory, TRAINING_STATE_FILE)
            .filter(p -> withTrainingState)
            .map(p -> TrainingState.from(SafeTensors.read(p), p.toString()));
    Optional<SchedulerConfig> scheduler = optional(directory, SCHEDULER_FILE).map(SchedulerConfig::read);
    return new Checkpoint(
        directory, new CheckpointContent(model, ema, state, yaml, scheduler), manifest);
  }

  /**
   * A weights file's tensors, every one a model parameter: a tensor that is not floating-point (an integer buffer) is
   * refused, naming it and its dtype; the model's layout check names the rest.
   */
  private static StateDict readWeights(Path file) {
    try (SafeTensorsReader f = SafeTensors.open(file)) {
      return f.parameters();
    }
  }

  /** A file the checkpoint may hold, if anything (even a broken link) is there under its name. */
  private static Optional<Path> optional(Path directory, String name) {
    Path p = directory.resolve(name);
    return Files.exists(p, LinkOption.NOFOLLOW_LINKS) ? Optional.of(p) : Optional.empty();
  }

  /** Checks every listed file against its hash; warns about content files the manifest omits. */
  private static void verify(Path directory, Manifest m, boolean withTrainingState) {
    for (Map.Entry<String, String> e : m.sha256().entrySet()) {
      if (!withTrainingState && e.getKey().equals(TRAINING_STATE_FILE)) {
        continue;
      }
      Path file = directory.resolve(e.getKey());
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        throw CheckpointException.of(file, "listed in " + MANIFEST_FILE + " but missing");
      }
      String actual = FileSupport.sha256Hex(file);
      if (!actual.equals(e.getValue())) {
        throw CheckpointException.of(
            file,
            "checksum mismatch: SHA-256 is " + actual + " but " + MANIFEST_FILE + " records "
                + e.getValue() + " (the file was changed or damaged after it was written)");
      }
    }
    for (String name : CONTENT_FILES) {
      if (!withTrainingState && name.equals(TRAINING_STATE_FILE)) {
        continue;
      }
      if (!m.sha256().containsKey(name) && Files.exists(directory.resolve(name))) {
        LOG.warn("{}: not listed in {}; loading it unverified", directory.resolve(name), MANIFEST_FILE);
      }
    }
  }
}
