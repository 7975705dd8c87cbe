package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.ConfigWriter;
import io.github.diffusion4j.config.DiffusionConfig;
import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.io.CheckpointStore;
import io.github.diffusion4j.io.FileProblems;
import io.github.diffusion4j.io.FolderLock;
import io.github.diffusion4j.io.ImageGrid;
import io.github.diffusion4j.io.Provenance;
import io.github.diffusion4j.model.TrainableModel;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.training.EpochSummary;
import io.github.diffusion4j.training.ImageLog;
import io.github.diffusion4j.training.LogRecord;
import io.github.diffusion4j.training.Trainer;
import io.github.diffusion4j.training.TrainingDivergedException;
import io.github.diffusion4j.training.TrainingListener;
import io.github.diffusion4j.training.TrainingProgress;
import io.github.diffusion4j.training.TrainingSummary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A training run with its folder ({@link RunFolder}): the resolved config, the metrics log (which starts
 * with what the data turned out to be, {@link DataReport}, at every start), image logs, and checkpoints every {@code training.checkpoint_every} epochs, at the end, and when stopped early. A run
 * resumed from its latest checkpoint continues exactly as the uninterrupted run would.
 *
 * <p>Weights that are not finite are never checkpointed: a diverged run stops with a message and keeps
 * its last good checkpoint.
 */
public final class TrainingRun implements AutoCloseable {
  private final Diffusion diffusion;
  private final RunFolder folder;
  private final TrainableModel model;
  private final Trainer trainer;
  private final CheckpointStore store;
  private final TrainingProgress from;
  private final MetricsLog metrics;
  private final FolderLock lock;
  private Path lastCheckpoint;
  /** Whether {@link #run} has been called: a run trains once (another {@code run} would train on from where the
   * model is, while the progress and the checkpoints' steps start again from {@link #from}). */
  private boolean ran;
  /** Set by {@link #close()}: a later {@link #run} is refused. */
  private boolean closed;
  /** Held by {@link #run} while it trains: {@link #close()} waits for it. */
  private final java.util.concurrent.locks.ReentrantLock running = new java.util.concurrent.locks.ReentrantLock();
  /** Where {@link #lastCheckpoint} stands: the position resumed from, or the last one saved; null for none. */
  private TrainingProgress savedAt;
  /** What {@link #initialWeights()} returns. */
  private Optional<Path> initialWeights = Optional.empty();
  /** What {@link #startedOver()} returns. */
  private boolean startedOver;
  /**
   * The configuration the run folder's and its checkpoints' {@code config.yaml} record: the run's, with
   * {@code training.init_from} as the run started (the checkpoint folder whose weights it read, not a run folder whose
   * latest checkpoint moves on), kept on resume, which does not read the key.
   */
  private DiffusionConfig recorded;
  /** What {@link #changedSettings()} returns. */
  private List<String> changedSettings = List.of();

  private TrainingRun(Diffusion diffusion, RunFolder folder, TrainableModel model, CheckpointStore store,
      TrainingProgress from, Path lastCheckpoint, FolderLock lock) {
    this.diffusion = diffusion;
    this.folder = folder;
    this.model = model;
    this.trainer = diffusion.trainer(model);
    this.store = store;
    this.from = from;
    this.metrics = new MetricsLog(folder.metrics());
    this.lastCheckpoint = lastCheckpoint;
    this.savedAt = lastCheckpoint == null ? null : from;
    this.lock = lock;
    this.recorded = diffusion.config();
  }

  /** What a command that owns a run folder tells a second process (see {@link FolderLock}). */
  static final String OWNER = "diffusion training";

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TrainingRun.class);

  /**
   * Starts a new run in a folder that has no checkpoints yet. Everything the configuration decides is
   * checked first ({@link Diffusion#check()}), the data is loaded and the model created, and only then is
   * the folder created and taken ({@link FolderLock}): a run whose configuration fails leaves no folder, and
   * a folder another process trains into is refused.
   *
   * @param diffusion the configuration
   * @param folder the run folder (created if missing)
   * @return the run; close it to release the model and the folder
   * @throws io.github.diffusion4j.io.CheckpointException if the folder already holds checkpoints (resume it
   *     instead), found before the data is loaded
   * @throws FolderLock.FolderInUseException if another process holds the folder
   */
  public static TrainingRun start(Diffusion diffusion, RunFolder folder) {
    check(diffusion, folder, false); // said before the data is built
    diffusion.trainingData();
    diffusion.evalData();
    boolean created = !Files.exists(folder.root(), LinkOption.NOFOLLOW_LINKS);
    TrainableModel model = diffusion.createModel();
    FolderLock lock = null;
    RunFolder taken = folder;
    try {
      Optional<Path> initFrom = diffusion.config().training().initFrom();
      // before the folder is made: weights that do not fit leave none
      Optional<InitialWeights.Loaded> initial = initFrom.map(from -> InitialWeights.load(diffusion, from, model));
      DiffusionConfig recorded = withInitFrom(diffusion.config(), initial.map(InitialWeights.Loaded::folder));
      if (folder.stamped()) { // a timestamp the SDK chose: a folder of its own, made now, even in another run's second
        taken = folder.claim();
        created = true;
      }
      lock = FolderLock.acquire(taken.root(), OWNER);
      CheckpointStore store = openStore(diffusion, taken);
      if (!store.list().isEmpty()) {
        created = false;
        throw holdsCheckpoints(taken); // written meanwhile by a process that has since let the folder go
      }
      // the folder's config.yaml is a run's (checkFolder refused any other): one left by a run that stopped before
      // its first checkpoint
      boolean startedOver = Files.exists(taken.config());
      writeConfig(recorded, taken);
      TrainingRun run = new TrainingRun(diffusion, taken, model, store, TrainingProgress.START, null, lock);
      run.startedOver = startedOver;
      if (startedOver) {
        LOG.info("{}: held no checkpoint, left by a run that stopped before its first: taken again, its log started "
            + "anew", taken.root());
      }
      run.initialWeights = initial.map(InitialWeights.Loaded::file);
      run.recorded = recorded;
      // a run killed before its first checkpoint left its log lines here: this run starts the log again
      run.metrics.truncateAfter(-1, 0);
      return run;
    } catch (RuntimeException e) {
      model.close();
      if (lock != null) {
        lock.close();
      }
      if (created && (lock != null || taken != folder)) { // made here: locked, or claimed and then refused the lock
        deleteQuietly(taken.root(), e);
      }
      throw e;
    }
  }

  /**
   * Every check that {@link #start} ({@code resume} false) and {@link #resume} ({@code resume} true) make before
   * anything is loaded, for a caller that prepares something costly first (the command line builds a folder's image
   * cache, for minutes): the configuration's ({@link Diffusion#check()}: a backend or sampler name no provider
   * registers, data that does not fit, ...; a resumed run's {@code training.init_from} is not read, as its weights
   * are its checkpoint's), then the folder's ({@link #checkFolder}).
   *
   * @param diffusion the configuration
   * @param folder the run folder
   * @param resume whether the run is to be resumed
   * @throws io.github.diffusion4j.config.ConfigException located at the key at fault
   * @throws io.github.diffusion4j.io.CheckpointException if the folder is refused
   */
  public static void check(Diffusion diffusion, RunFolder folder, boolean resume) {
    diffusion.check(!resume);
    checkFolder(folder, resume); // a user's mistake
  }

  /**
   * The check that {@link #start} ({@code resume} false) and {@link #resume} ({@code resume} true) make of a run
   * folder's checkpoints before anything is loaded, for a caller that prepares something costly first (the command
   * line builds a folder's image cache): a new run refuses a folder that holds checkpoints or files a run does not
   * write, a resume a folder that does not exist. An existing folder without checkpoints is left to {@link #resume},
   * which first says whether another process trains into it. A {@linkplain RunFolder#stamped() stamped} folder of a
   * new run is not checked: the run takes a free folder of its name.
   *
   * @param folder the run folder
   * @param resume whether the run is to be resumed
   * @throws io.github.diffusion4j.io.CheckpointException if the folder is refused, in the words of {@code start} or
   *     {@code resume}
   */
  public static void checkFolder(RunFolder folder, boolean resume) {
    if (resume && !Files.isDirectory(folder.root())) {
      throw noCheckpoint(folder);
    }
    if (!resume && folder.stamped()) {
      return; // the run takes a new folder of the name (RunFolder.claim), not this one if it exists
    }
    if (!resume && Files.isDirectory(folder.checkpoints()) && !CheckpointStore.listIn(folder.checkpoints()).isEmpty()) {
      throw holdsCheckpoints(folder);
    }
    if (!resume) {
      checkNewRunFolder(folder);
    }
  }

  /**
   * Resumes a run from its latest checkpoint, once the configuration passes {@link Diffusion#check()} and
   * the folder is taken ({@link FolderLock}).
   *
   * @param diffusion the configuration (must describe the same model as the checkpoint)
   * @param folder the run folder
   * @return the run
   * @throws io.github.diffusion4j.io.CheckpointException if there is no usable checkpoint
   * @throws FolderLock.FolderInUseException if another process holds the folder
   */
  public static TrainingRun resume(Diffusion diffusion, RunFolder folder) {
    check(diffusion, folder, true);
    FolderLock lock = FolderLock.acquire(folder.root(), OWNER);
    TrainableModel model = null;
    try {
      if (CheckpointStore.listIn(folder.checkpoints()).isEmpty()) {
        throw noCheckpoint(folder); // before openStore creates anything
      }
      requireWritable(folder);
      CheckpointStore store = openStore(diffusion, folder);
      Path latest = store.latestDirectory().orElseThrow(() -> noCheckpoint(folder));
      io.github.diffusion4j.io.Checkpoint c = io.github.diffusion4j.io.Checkpoint.read(latest);
      checkEpochsLeft(diffusion.config().training().epochs(), c, latest); // before the model is made and loaded
      model = diffusion.createModel();
      TrainingProgress p = Checkpoints.restore(latest, c.content(), model);
      List<String> changed = changedSettings(latest, c, folder, diffusion.config());
      DiffusionConfig recorded = withInitFrom(diffusion.config(), startedFrom(c));
      writeConfig(recorded, folder);
      TrainingRun run = new TrainingRun(diffusion, folder, model, store, p, latest, lock);
      run.recorded = recorded;
      run.changedSettings = changed;
      if (!changed.isEmpty()) {
        LOG.warn("{}: resumed with changed settings: {}", folder.root(), String.join("; ", changed));
      }
      run.metrics.truncateAfter(p.step(), p.epoch());
      return run;
    } catch (RuntimeException e) {
      if (model != null) {
        model.close();
      }
      lock.close();
      throw e;
    }
  }

  /**
   * Refuses a resume that would train nothing and record a lower {@code training.epochs} in the run's {@code
   * config.yaml} (typically a run raised with {@code --set training.epochs=N}, resumed without it): one whose count is
   * below the epochs its checkpoint has trained, or equal to them while the checkpoint's own configuration asks for
   * more (the raised run stopped at an epoch's end). A finished run resumed with its own count is allowed.
   */
  private static void checkEpochsLeft(int epochs, io.github.diffusion4j.io.Checkpoint c, Path latest) {
    Optional<io.github.diffusion4j.io.TrainingState> state = c.content().trainingState();
    if (state.isEmpty()) {
      return; // Checkpoints.restore says it cannot be resumed
    }
    long epoch = state.get().epoch(); // the epoch it stands in, from 0
    long batch = state.get().noisePosition(); // the next batch of that epoch
    int recorded = recordedEpochs(c);
    if (epoch < epochs || (epoch == epochs && batch == 0 && recorded <= epochs)) {
      return;
    }
    String trained = epoch + (epoch == 1 ? " epoch" : " epochs") + (batch > 0 ? " and part of the next" : "");
    long wanted = Math.max(recorded, epoch + 1);
    throw new io.github.diffusion4j.io.CheckpointException("training.epochs: " + epochs + ", but the checkpoint "
        + latest + " has trained " + trained + " (step " + state.get().step() + ")"
        + (recorded > epochs ? " of the " + recorded + " its run was configured for" : "")
        + "; resuming would train nothing: give a training.epochs above " + epoch + " to continue the run "
        + "(--set training.epochs=" + wanted + "), or sample from it (diffusion sample --checkpoint)");
  }

  /** The {@code training.epochs} a checkpoint's own {@code config.yaml} records; 0 where it cannot be read. */
  private static int recordedEpochs(io.github.diffusion4j.io.Checkpoint c) {
    try {
      return TrainedModel.readConfig(c, List.of()).config().training().epochs();
    } catch (RuntimeException e) {
      return 0; // not a configuration this version reads: compared by the count alone
    }
  }

  /**
   * Refuses, before anything is written, a folder for a new run that holds files a run does not write, or a
   * {@code config.yaml} a run did not write (the user's own configuration, which the run's would replace): a run's
   * files would be written among them, over any of the same name. Hidden files ({@code .lock}, temporaries, a data
   * cache) are left alone.
   */
  private static void checkNewRunFolder(RunFolder folder) {
    Path root = folder.root();
    if (!Files.isDirectory(root)) {
      return;
    }
    List<String> others = new ArrayList<>();
    java.util.Set<String> runFiles = folder.fileNames();
    try (java.util.stream.Stream<Path> files = Files.list(root)) {
      files.map(f -> f.getFileName().toString()).filter(n -> !n.startsWith(".") && !runFiles.contains(n)).sorted()
          .forEach(others::add);
    } catch (IOException e) {
      throw new UncheckedIOException(root + ": cannot be listed: " + FileProblems.describe(e), e);
    }
    if (!others.isEmpty()) {
      throw new io.github.diffusion4j.io.CheckpointException(root.toAbsolutePath() + ": holds files a run does not "
          + "write (" + String.join(", ", others.subList(0, Math.min(3, others.size())))
          + (others.size() > 3 ? ", ... " + others.size() + " in all" : "") + "); a new run needs a new or empty "
          + "folder (choose another output.name or --run-dir)");
    }
    Path config = folder.config();
    if (Files.isRegularFile(config) && !writtenByARun(config)) {
      throw new io.github.diffusion4j.io.CheckpointException(config.toAbsolutePath() + ": is not a run's resolved "
          + "configuration, and a new run writes its own there; keep your configuration elsewhere, or choose "
          + "another output.name or --run-dir");
    }
  }

  /** Whether a {@code config.yaml} starts as the resolved configuration a run writes ({@link ConfigWriter}). */
  private static boolean writtenByARun(Path config) {
    try (java.io.BufferedReader r = Files.newBufferedReader(config, java.nio.charset.StandardCharsets.UTF_8)) {
      String first = r.readLine();
      return ConfigWriter.FIRST_LINE.equals(first);
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static io.github.diffusion4j.io.CheckpointException holdsCheckpoints(RunFolder folder) {
    return new io.github.diffusion4j.io.CheckpointException(folder.root().toAbsolutePath() + " already holds checkpoints; resume it "
        + "(--resume; TrainingRun.resume from Java) or choose another output.name");
  }

  private static io.github.diffusion4j.io.CheckpointException noCheckpoint(RunFolder folder) {
    return new io.github.diffusion4j.io.CheckpointException(folder.checkpoints().toAbsolutePath() + ": no checkpoint to resume "
        + "from (a relative output.dir is resolved against the working folder); start the run without --resume");
  }

  private static void deleteQuietly(Path root, RuntimeException failure) {
    try {
      AtomicFiles.deleteRecursively(root);
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  private static CheckpointStore openStore(Diffusion diffusion, RunFolder folder) {
    try {
      Files.createDirectories(folder.images());
    } catch (IOException e) {
      throw new UncheckedIOException(folder.root() + ": cannot create the run folder: " + FileProblems.describe(e), e);
    }
    return CheckpointStore.open(folder.checkpoints(), diffusion.config().training().keepCheckpoints());
  }

  /**
   * The settings of {@code config} that differ from those the latest checkpoint was written with (its
   * {@code config.yaml}, else the run folder's), as {@link ConfigWriter#changes} gives them. The checkpoint's
   * {@code config.yaml} is compared as this version reads it ({@link TrainedModel}'s reading, the manifest's noise
   * version included), so a key added since an older build wrote it counts as the value it stood for there, not as a
   * change; one this version no longer reads is compared as written.
   */
  private static List<String> changedSettings(
      Path latest, io.github.diffusion4j.io.Checkpoint checkpoint, RunFolder folder, DiffusionConfig config) {
    Path before = Files.isRegularFile(latest.resolve("config.yaml")) ? latest.resolve("config.yaml") : folder.config();
    if (!Files.isRegularFile(before)) {
      return List.of();
    }
    try {
      String was = Files.readString(before);
      if (before.equals(latest.resolve("config.yaml"))) {
        try {
          was = ConfigWriter.toYaml(TrainedModel.readConfig(checkpoint, List.of()).config());
        } catch (io.github.diffusion4j.config.ConfigException e) {
          // not a configuration this version reads: compared as written
        }
      }
      // more epochs continue a run unless a decaying learning rate spreads its decay over the run's steps: the
      // resumed run's rates then follow another curve than either run's
      boolean decays = config.training().lrSchedule() != io.github.diffusion4j.training.LearningRateSchedule.Kind.CONSTANT;
      return ConfigWriter.changes(was, ConfigWriter.toYaml(config)).stream()
          .filter(c -> {
            String key = c.substring(0, c.indexOf(':'));
            return !continues(key) || (decays && key.equals("training.epochs"));
          })
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(before + ": cannot read: " + FileProblems.describe(e), e);
    }
  }

  /**
   * Whether a key may change on resume and the run still end as an uninterrupted one would: more epochs (how a run
   * is continued; not with a linear or cosine learning rate, whose decay spans the run's steps), another backend or thread count (the same bits on ND4J at any count; across backends, and across
   * DJL's counts, the rounding differs and training magnifies it, so the weights end otherwise, not listed since
   * moving a run to another backend is intended), where the output goes, and the weights a new run started from
   * ({@code training.init_from}, which a resumed run does not read).
   */
  private static boolean continues(String key) {
    return key.equals("training.epochs") || key.equals("backend") || key.equals("threads") || key.startsWith("output.")
        || key.equals(InitialWeights.KEY);
  }

  /**
   * The weights file a new run started from ({@code training.init_from}: a checkpoint's {@code ema.safetensors} or
   * {@code model.safetensors}, or a diffusers folder's weights).
   *
   * @return the file; empty for freshly initialised weights and for a resumed run
   */
  public Optional<Path> initialWeights() {
    return initialWeights;
  }

  /**
   * Whether this new run took a folder that a run stopped before its first checkpoint left (killed, or failed at its
   * first step: its {@code config.yaml} and log, no checkpoint); the folder's configuration was replaced and its log
   * started anew. Logged too.
   *
   * @return true for such a folder; false for a new or empty folder and for a resumed run
   */
  public boolean startedOver() {
    return startedOver;
  }

  /**
   * The settings this run was resumed with that differ from those of the checkpoint it resumed from and make it
   * end otherwise than an uninterrupted run would, each as {@code key.path: before -> after}
   * ({@code training.learning_rate: 0.001 -> 5.0e-4}); more epochs (unless the learning rate decays over the run's
   * steps), another backend or thread count and another output place are not listed. A non-empty list is also logged as a warning.
   *
   * @return the changes; empty for a new run, or a resume that continues the run as it was
   */
  public List<String> changedSettings() {
    return changedSettings;
  }

  /** The start a resumed run's checkpoint records ({@code training.init_from}), empty where it records none. */
  private static Optional<Path> startedFrom(io.github.diffusion4j.io.Checkpoint checkpoint) {
    try {
      return TrainedModel.readConfig(checkpoint, List.of()).config().training().initFrom();
    } catch (io.github.diffusion4j.config.ConfigException e) {
      return Optional.empty(); // not a configuration this version reads: it records no start this version knows
    }
  }

  private static DiffusionConfig withInitFrom(DiffusionConfig c, Optional<Path> initFrom) {
    return c.training().initFrom().equals(initFrom) ? c : c.withTraining(c.training().withInitFrom(initFrom));
  }

  /**
   * Refuses to resume a run whose folders it writes cannot be written, before the model is loaded: a checkpoints/
   * or images/ of another user's (a shared runs folder) was resumed, trained every epoch and failed at the checkpoint
   * that would have saved them ("cannot write checkpoint: permission denied"). The files in the run folder itself
   * are found by its config.yaml, written before the training.
   */
  private static void requireWritable(RunFolder folder) {
    for (Path dir : List.of(folder.checkpoints(), folder.images())) {
      if (Files.isDirectory(dir)) {
        FileProblems.ofWritingInto(dir).ifPresent(p -> {
          String said = "cannot resume " + folder.root() + ": " + p + "; resume a copy of the run that you own (cp -r)";
          throw new UncheckedIOException(said, new java.nio.file.AccessDeniedException(dir.toString()));
        });
      }
    }
  }

  private static void writeConfig(DiffusionConfig config, RunFolder folder) {
    try {
      AtomicFiles.writeString(folder.config(), ConfigWriter.toYaml(config));
    } catch (IOException e) {
      throw new UncheckedIOException(folder.config() + ": cannot write: " + FileProblems.describe(e), e);
    }
  }

  /**
   * The run folder.
   *
   * @return the folder
   */
  public RunFolder folder() {
    return folder;
  }

  /**
   * The model being trained, for use on the thread that runs {@link #run} (in a listener) or after {@code run}
   * returns. It is not guarded as {@link TrainedModel#model()} is: a call from another thread while {@code run}
   * trains races with the training step, and no call is supported after {@link #close()}.
   *
   * @return the model (closed with the run)
   */
  public TrainableModel model() {
    return model;
  }

  /**
   * Where this run starts.
   *
   * @return the progress it starts from
   */
  public TrainingProgress startsFrom() {
    return from;
  }

  /**
   * The checkpoint written last (or resumed from).
   *
   * @return its folder, if any
   */
  public Optional<Path> lastCheckpoint() {
    return Optional.ofNullable(lastCheckpoint);
  }

  /** Stops after the current step (during an epoch's evaluation, before its next batch: a resume evaluates first);
   * the run then writes a final checkpoint and returns. Thread-safe. Interrupting the thread in {@link #run} does the
   * same (the thread stays interrupted). */
  public void requestStop() {
    trainer.requestStop();
  }

  /**
   * Trains to the end (or until stopped), writing the run folder.
   *
   * @param listeners more listeners (progress bars)
   * @return the summary
   * @throws TrainingDivergedException if the loss stops being finite (the message names the last good
   *     checkpoint)
   * @throws IllegalStateException if this run has been run before (to train further, resume the folder:
   *     {@link #resume})
   */
  public TrainingSummary run(TrainingListener... listeners) {
    // the Diffusion's shared hold first, then this run's lock, the order a sampling call's listener that closes
    // this run takes them in (the reverse could deadlock against a Diffusion.close waiting between them)
    diffusion.trainingStarted(this);
    try {
      running.lock();
      try {
        if (closed) {
          throw new IllegalStateException(folder.root() + ": this run is closed");
        }
        return runOnce(listeners);
      } finally {
        running.unlock();
      }
    } finally {
      diffusion.trainingEnded(this);
    }
  }

  private TrainingSummary runOnce(TrainingListener... listeners) {
    if (ran) {
      throw new IllegalStateException(folder.root() + ": this run has been run; to train further, close it and "
          + "resume the folder (TrainingRun.resume, or diffusion train --resume)");
    }
    ran = true;
    DiffusionConfig c = diffusion.config();
    boolean ema = c.training().ema().enabled();
    int every = c.training().checkpointEvery();
    List<TrainingListener> all = new ArrayList<>(List.of(listeners));
    // the run folder's files are written whether or not the thread is interrupted (an interrupt stops the run
    // before its next step, with a final checkpoint; a log it cut short would fail the run instead)
    all.add(0, new TrainingListener() {
      @Override
      public void onLog(LogRecord record) {
        AtomicFiles.uninterrupted(() -> metrics.log(record));
      }

      @Override
      public void onImages(ImageLog log) {
        AtomicFiles.uninterrupted(() -> writeImageLog(log));
      }

      @Override
      public void onEpochEnd(EpochSummary e) {
        AtomicFiles.uninterrupted(() -> metrics.epoch(e));
        if ((e.epoch() + 1) % every == 0 || e.epoch() + 1 == c.training().epochs()) {
          checkpoint(e.progress(), ema);
        }
      }

      @Override
      public void onEnd(TrainingSummary s) {
        if (!s.completed()) {
          checkpoint(s.progress(), ema);
        }
      }
    });
    metrics.data(diffusion.dataReport(), from.step());
    diffusion.warnWarmupBeyondLoadedRun();
    try {
      return trainer.train(diffusion.trainingData(), diffusion.evalData(), from, fanOut(all));
    } catch (TrainingDivergedException e) {
      throw new TrainingDivergedException(e.step(), e.getMessage() + "; " + (lastCheckpoint == null
          ? "no checkpoint had been written yet" : "the last good checkpoint is kept: " + lastCheckpoint), e);
    }
  }

  private void checkpoint(TrainingProgress p, boolean ema) {
    // the same position is not written twice; the same step at another position is (a run stopped during its
    // last epoch's evaluation was saved before that evaluation, and its epoch's end replaces it)
    if (lastCheckpoint != null && savedAt != null && savedAt.step() == p.step() && savedAt.epoch() == p.epoch()
        && savedAt.batchInEpoch() == p.batchInEpoch()) {
      return;
    }
    // the checkpoint that an interrupt stops the run for is written with the flag cleared, and set again after
    // an old checkpoint that cannot be deleted (keep_checkpoints) is the store's warning, not the end of the run
    lastCheckpoint = AtomicFiles.uninterrupted(() -> store.save(p.step(), Checkpoints.content(recorded, model, ema, p),
        Provenance.now(diffusion.backend().name(), diffusion.config().seed())));
    savedAt = p;
  }

  private void writeImageLog(ImageLog log) {
    int n = log.batchShape().batch();
    Shape image = log.batchShape().item();
    int k = image.size();
    float[] grid = new float[5 * n * k];
    float[][] rows = {log.x0(), log.noised(), log.noise(), log.predictedNoise(), log.reconstruction()};
    for (int r = 0; r < 5; r++) {
      System.arraycopy(rows[r], 0, grid, r * n * k, n * k);
    }
    List<String> columns = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      columns.add("t=" + log.timesteps()[i]);
    }
    ImageGrid.writePng(folder.imageLog(log.step()), grid, Shape.batchOf(5 * n, image),
        ImageGrid.Options.defaults().withNrow(n).withColumnTitles(columns)
            .withRowTitles(List.of("x0", "noised", "noise", "predicted", "reconstructed")));
  }

  private static TrainingListener fanOut(List<TrainingListener> ls) {
    return new TrainingListener() {
      @Override
      public void onStart(TrainingProgress from, long totalSteps) {
        ls.forEach(l -> l.onStart(from, totalSteps));
      }

      @Override
      public void onStep(long step, int epoch, double loss) {
        for (TrainingListener l : ls) {
          l.onStep(step, epoch, loss);
        }
      }

      @Override
      public void onLog(LogRecord record) {
        ls.forEach(l -> l.onLog(record));
      }

      @Override
      public void onImages(ImageLog log) {
        ls.forEach(l -> l.onImages(log));
      }

      @Override
      public void onEpochEnd(EpochSummary summary) {
        ls.forEach(l -> l.onEpochEnd(summary));
      }

      @Override
      public void onEnd(TrainingSummary summary) {
        ls.forEach(l -> l.onEnd(summary));
      }
    };
  }

  /**
   * Closes the model (not the {@link Diffusion}) and releases the run folder. While {@link #run} is in progress on
   * another thread, it is asked to stop first ({@link #requestStop()}), and close waits until it has written its final
   * checkpoint and returned.
   *
   * @throws IllegalStateException if called from within {@link #run} on the same thread (a listener)
   */
  @Override
  public void close() {
    if (running.isHeldByCurrentThread()) {
      throw new IllegalStateException(folder.root() + ": close() from within run() (a listener) on the same thread; "
          + "close after run returns");
    }
    requestStop();
    running.lock();
    try {
      closed = true;
      model.close();
    } finally {
      try {
        lock.close();
      } finally {
        running.unlock();
      }
    }
  }
}
