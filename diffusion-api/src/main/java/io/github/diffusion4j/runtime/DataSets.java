package io.github.diffusion4j.runtime;

import io.github.diffusion4j.config.ConfigException;
import io.github.diffusion4j.config.DataConfig;
import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.data.ByteImages;
import io.github.diffusion4j.data.Cifar10Batches;
import io.github.diffusion4j.data.DataFileException;
import io.github.diffusion4j.data.DataProgress;
import io.github.diffusion4j.data.Dataset;
import io.github.diffusion4j.data.GradientImages;
import io.github.diffusion4j.data.IdxImages;
import io.github.diffusion4j.data.ImageFolder;
import io.github.diffusion4j.data.ImageSource;
import io.github.diffusion4j.data.RandomFlip;
import io.github.diffusion4j.io.FileProblems;
import io.github.diffusion4j.io.ImageCache;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The training and evaluation sets a configuration describes. Gradient images are generated from the
 * run's seed ({@code Noise.seeded(seed).split(TRAIN)} and {@code .split(EVAL)}), so every backend and every
 * resumed run sees the same data. IDX images are read from the configured files ({@link IdxImages}),
 * padded to {@code pad_to} and limited to {@code train_size} / {@code eval_size}; the labels files, when
 * given, are read to check that they match their images. Folders and CIFAR-10 batches are decoded once into
 * an {@link ImageCache} under {@code cache_dir} and read from it, memory-mapped; {@code train_size} and
 * {@code eval_size} take images spread evenly over their order. With {@code random_flip}, the training set
 * flips images with draws from {@code Noise.seeded(seed).split(FLIP)}.
 *
 * @param train the training set
 * @param eval the evaluation set, or null when there is none
 * @param imageShape the shape of one image
 * @param report what was loaded
 */
record DataSets(Dataset train, Dataset eval, Shape imageShape, DataReport report) {
  static final long TRAIN = 0x7472616E;
  static final long EVAL = 0x6576616C;
  static final long REFERENCE = 0x72656665;
  static final long FLIP = 0x666C6970;
  /** The cache folder under {@code output.dir} when {@code data.cache_dir} is not given. */
  static final String DEFAULT_CACHE_DIR = ".data-cache";

  /**
   * What the data will be, known before any image is read or generated: the image shape (for IDX, from the
   * files' headers) and how many images each set uses, with every size checked against the arrays it
   * implies.
   *
   * @param imageShape the shape of one image, after padding
   * @param trainImages the training images used
   * @param evalImages the evaluation images used (0: no evaluation set)
   */
  record Plan(Shape imageShape, int trainImages, int evalImages) {}

  /** Reads only what the plan needs (IDX headers) and checks every size, naming the key at fault. */
  static Plan plan(LoadedConfig loaded) {
    DataConfig d = loaded.config().data();
    Plan p;
    switch (d.kind()) {
      case GRADIENTS -> {
        Shape shape = d.imageShape().orElseThrow(() -> loaded.error("data.image_shape", "is required for gradients"));
        p = new Plan(shape, d.trainSize(), d.evalSize());
      }
      case IDX -> p = planIdx(loaded, d);
      // decoded into a memory-mapped cache, not held in the heap: the cache bounds its own sizes
      default -> p = new Plan(d.imageShape().orElseThrow(() -> loaded.error("data.image_shape", "is required for "
          + d.kind().configName())), 0, 0);
    }
    try {
      loaded.config().checkDataSizes(p.imageShape(), p.trainImages(), p.evalImages());
    } catch (ConfigException e) {
      throw loaded.error(e.path(), e.detail());
    }
    return p;
  }

  /**
   * Checks the sizes of a plan, and that a training run's data, model and schedule fit in {@code maxHeap}.
   *
   * @throws ConfigException located at the key to change
   */
  static void checkSizes(LoadedConfig loaded, Plan p, long maxHeap) {
    try {
      loaded.config().checkSizes(p.imageShape(), p.trainImages(), p.evalImages(), maxHeap);
    } catch (ConfigException e) {
      throw loaded.error(e.path(), e.detail());
    }
  }

  /**
   * Generates or reads the images of a plan, once they are known to fit in the heap.
   *
   * @param loaded the configuration
   * @param p its plan
   * @param progress told about building image caches
   * @return the data
   */
  static DataSets load(LoadedConfig loaded, Plan p, DataProgress progress) {
    return load(loaded, p, progress, null);
  }

  /**
   * {@link #load(LoadedConfig, Plan, DataProgress)} with the folder or CIFAR-10 listing {@link #list} made
   * before (by the checks), or null to list here.
   */
  static DataSets load(LoadedConfig loaded, Plan p, DataProgress progress, Sources listed) {
    checkSizes(loaded, p, Runtime.getRuntime().maxMemory());
    DataConfig d = loaded.config().data();
    DataSets sets = switch (d.kind()) {
      case GRADIENTS -> loadGradients(loaded, d);
      case IDX -> loadIdx(loaded, d, p);
      case FOLDER, CIFAR10 -> loadImages(loaded, d, progress, listed != null ? listed : list(loaded));
    };
    if (!d.randomFlip()) {
      return sets;
    }
    Dataset flipped = new RandomFlip(sets.train(), Noise.seeded(loaded.config().seed()).split(FLIP));
    return new DataSets(flipped, sets.eval(), sets.imageShape(), sets.report());
  }

  /**
   * The image shape when the configuration alone determines it (everything but idx, whose files say it),
   * so that sampling a checkpoint does not need its training data.
   */
  static Optional<Shape> configuredShape(DataConfig d) {
    return d.kind() == DataConfig.Kind.IDX ? Optional.empty() : d.imageShape();
  }

  private static DataSets loadGradients(LoadedConfig loaded, DataConfig d) {
    long seed = loaded.config().seed();
    Shape shape = d.imageShape().orElseThrow(() -> loaded.error("data.image_shape", "is required for gradients"));
    Dataset train = GradientImages.dataset(d.trainSize(), shape, Noise.seeded(seed).split(TRAIN));
    Dataset eval = d.evalSize() > 0 ? GradientImages.dataset(d.evalSize(), shape, Noise.seeded(seed).split(EVAL)) : null;
    String source = "generated gradients (seed " + seed + ")";
    return new DataSets(train, eval, shape, new DataReport(d.kind().configName(),
        DataReport.Part.inMemory(source, train.size(), train.size()),
        Optional.ofNullable(eval).map(e -> DataReport.Part.inMemory(source, e.size(), e.size()))));
  }

  /**
   * The listed images of a folder or CIFAR-10 configuration: its training and (where there are any) evaluation
   * sources, with their folders.
   */
  record Sources(Path root, Optional<Path> evalRoot, ImageSource train, ImageSource eval) {}

  /**
   * Lists folder or CIFAR-10 data and checks what {@link #load} checks before it decodes anything (the folders,
   * their listings, the batch size against the images listed): what {@code diffusion config --check} adds for
   * them. Null for the other kinds, whose {@link #plan} checks them.
   *
   * @param loaded the configuration
   * @return the listing, for {@link #load(LoadedConfig, Plan, DataProgress, Sources)}; null for other kinds
   * @throws ConfigException located at the key to change, or a {@link DataFileException} naming the file
   */
  static Sources list(LoadedConfig loaded) {
    DataConfig d = loaded.config().data();
    return d.kind() == DataConfig.Kind.FOLDER || d.kind() == DataConfig.Kind.CIFAR10 ? sources(loaded, d) : null;
  }

  private static Sources sources(LoadedConfig loaded, DataConfig d) {
    Path root = folder(loaded, "data.root", d.root().orElseThrow());
    Optional<Path> evalRoot = d.evalRoot().map(p -> folder(loaded, "data.eval_root", p));
    ImageSource trainSource;
    ImageSource evalSource = null;
    try {
      if (d.kind() == DataConfig.Kind.FOLDER) {
        trainSource = ImageFolder.scan(root, d.fit());
        if (evalRoot.isPresent()) {
          evalSource = ImageFolder.scan(evalRoot.get(), d.fit());
        }
      } else {
        trainSource = Cifar10Batches.train(root, d.fit());
        if (Files.exists(Cifar10Batches.locate(root).resolve(Cifar10Batches.TEST_FILE))) {
          evalSource = Cifar10Batches.test(root, d.fit());
        }
      }
    } catch (DataFileException e) {
      if (e.file().equals(root.toAbsolutePath().normalize())) {
        throw loaded.error("data.root", e.getMessage());
      }
      throw e;
    }
    int batch = loaded.config().training().batchSize();
    if (trainSource.size() < batch) {
      throw loaded.error("training.batch_size", "must be at most the " + trainSource.size() + " training images "
          + "of " + root + ", got " + batch);
    }
    return new Sources(root, evalRoot, trainSource, evalSource);
  }

  /**
   * Whether the evaluation set loads without the training set: a folder configuration with its own evaluation
   * folder ({@code data.eval_root}). CIFAR-10's test batch lies beside its training batches; IDX headers are read
   * for both sets by the plan.
   */
  static boolean evalLoadsAlone(DataConfig d) {
    return d.kind() == DataConfig.Kind.FOLDER && d.evalRoot().isPresent();
  }

  /**
   * The evaluation set of a configuration for which {@link #evalLoadsAlone} holds, neither listing nor decoding the
   * training folder: what {@code eval} and {@code eval --bpd} judge a checkpoint against, so that it is evaluated
   * where only its evaluation images are (the training folder moved, or on another machine). The images are those
   * of {@link #load}'s evaluation set, from the same cache.
   */
  static Dataset loadEval(LoadedConfig loaded, DataProgress progress) {
    DataConfig d = loaded.config().data();
    Path evalRoot = folder(loaded, "data.eval_root", d.evalRoot().orElseThrow());
    ImageSource source = ImageFolder.scan(evalRoot, d.fit());
    return cache(cacheDir(loaded, d), source, d, progress).images().spread(d.evalSize());
  }

  /** Where a folder's or CIFAR-10's image caches are: {@code data.cache_dir}, else under {@code output.dir}. */
  private static Path cacheDir(LoadedConfig loaded, DataConfig d) {
    return d.cacheDir().orElse(loaded.config().output().dir().resolve(DEFAULT_CACHE_DIR));
  }

  /**
   * The folder loading writes image caches into: {@code data.cache_dir} where it is given, else for folders and
   * CIFAR-10 {@code output.dir/.data-cache}; empty for the other kinds, which have no cache.
   */
  static Optional<Path> cacheDirOf(LoadedConfig loaded) {
    DataConfig d = loaded.config().data();
    return d.cacheDir().isPresent() || d.kind() == DataConfig.Kind.FOLDER || d.kind() == DataConfig.Kind.CIFAR10
        ? Optional.of(cacheDir(loaded, d)) : Optional.empty();
  }

  /**
   * Folders and CIFAR-10: each set is listed, decoded into its cache (or its cache reused) and read from the
   * mapping. A configured folder that is missing is an error at its key; a bad image is the cache's {@code
   * DataFileException} (with {@code bad_data: stop}).
   */
  private static DataSets loadImages(LoadedConfig loaded, DataConfig d, DataProgress progress, Sources listed) {
    Path root = listed.root();
    Optional<Path> evalRoot = listed.evalRoot();
    ImageSource trainSource = listed.train();
    ImageSource evalSource = listed.eval();
    int batch = loaded.config().training().batchSize();
    Path cacheDir = cacheDir(loaded, d);
    ImageCache trainCache = cache(cacheDir, trainSource, d, progress);
    ByteImages train = trainCache.images().spread(d.trainSize());
    if (train.size() < batch) {
      throw loaded.error("training.batch_size", "must be at most the " + train.size() + " usable training images "
          + "of " + root + " (" + trainCache.skippedCount() + " skipped), got " + batch);
    }
    ByteImages eval = null;
    Optional<DataReport.Part> evalPart = Optional.empty();
    if (evalSource != null) {
      ImageCache evalCache = cache(cacheDir, evalSource, d, progress);
      eval = evalCache.images().spread(d.evalSize());
      evalPart = Optional.of(DataReport.Part.cached(describe(evalSource, evalRoot.orElse(root)), eval.size(),
          evalCache));
    }
    DataReport report = new DataReport(d.kind().configName(),
        DataReport.Part.cached(describe(trainSource, root), train.size(), trainCache), evalPart);
    return new DataSets(train, eval, d.imageShape().orElseThrow(), report);
  }

  private static ImageCache cache(Path dir, ImageSource source, DataConfig d, DataProgress progress) {
    ImageCache c = ImageCache.open(ImageCache.fileFor(dir, source), source, d.badData(), progress);
    if (c.count() == 0) {
      throw new DataFileException(c.skipped().get(0).file(), c.skipped().get(0).problem() + " (none of the "
          + c.sourceCount() + " items of " + source.name() + " is usable; 'diffusion data check' lists the "
          + "problems)");
    }
    return c;
  }

  private static String describe(ImageSource source, Path root) {
    return source instanceof Cifar10Batches c ? c.files().size() + " CIFAR-10 batch file(s) in "
        + c.files().get(0).getParent() : root.toAbsolutePath().normalize().toString();
  }

  private static Path folder(LoadedConfig loaded, String key, Path dir) {
    if (!Files.exists(dir)) {
      throw loaded.error(key, "no such folder: " + dir);
    }
    if (!Files.isDirectory(dir)) {
      throw loaded.error(key, "is not a folder: " + dir);
    }
    return dir;
  }

  /**
   * The IDX case. Errors about a configured value (a missing file, a size that does not fit) are located
   * at their key; errors about a file's content are the reader's {@code DataFileException}.
   */
  private static Plan planIdx(LoadedConfig loaded, DataConfig d) {
    Path trainImages = existing(loaded, "data.train_images", d.trainImages().orElseThrow());
    d.trainLabels().ifPresent(p -> existing(loaded, "data.train_labels", p));
    Path evalImages = existing(loaded, "data.eval_images", d.evalImages().orElseThrow());
    d.evalLabels().ifPresent(p -> existing(loaded, "data.eval_labels", p));
    IdxImages.Header train = IdxImages.header(trainImages);
    IdxImages.Header eval = IdxImages.header(evalImages);
    if (eval.rows() != train.rows() || eval.cols() != train.cols()) {
      throw loaded.error("data.eval_images", "holds " + eval.rows() + "x" + eval.cols() + " images but "
          + "data.train_images holds " + train.rows() + "x" + train.cols() + "; both must have one size");
    }
    Shape shape;
    try {
      shape = d.resolveImageShape(train.imageShape());
    } catch (ConfigException e) {
      throw loaded.error(e.path(), e.detail());
    }
    int batch = loaded.config().training().batchSize();
    int trainCount = d.trainSize() > 0 ? Math.min(d.trainSize(), train.count()) : train.count();
    if (trainCount < batch) {
      throw loaded.error("training.batch_size", "must be at most the " + trainCount + " training images "
          + "used from " + trainImages + ", got " + batch);
    }
    int evalCount = d.evalSize() > 0 ? Math.min(d.evalSize(), eval.count()) : eval.count();
    return new Plan(shape, trainCount, evalCount);
  }

  /** The IDX case: the plan has checked the headers and sizes; the images are read now. */
  private static DataSets loadIdx(LoadedConfig loaded, DataConfig d, Plan p) {
    Path trainImages = d.trainImages().orElseThrow();
    Path evalImages = d.evalImages().orElseThrow();
    IdxImages reader = IdxImages.reader().padTo(d.padTo());
    Dataset trainSet = reader.limit(d.trainSize()).read(trainImages, d.trainLabels()).images();
    Dataset evalSet = reader.limit(d.evalSize()).read(evalImages, d.evalLabels()).images();
    return new DataSets(trainSet, evalSet, p.imageShape(), new DataReport(d.kind().configName(),
        DataReport.Part.inMemory(trainImages.toString(), trainSet.size(), IdxImages.header(trainImages).count()),
        Optional.of(DataReport.Part.inMemory(evalImages.toString(), evalSet.size(), IdxImages.header(evalImages).count()))));
  }

  private static Path existing(LoadedConfig loaded, String key, Path file) {
    FileProblems.ofReading(file).ifPresent(problem -> {
      throw loaded.error(key, file + ": " + problem);
    });
    return file;
  }
}
