package io.github.diffusion4j.config;

import io.github.diffusion4j.data.BadDataPolicy;
import io.github.diffusion4j.data.ImageFit;
import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the training and evaluation images come from ({@code data:}).
 *
 * @param kind where the images come from
 * @param imageShape {@code [C, H, W]}: required for gradients and folder; for idx empty (read from the
 *     files) or given to assert the shape the files must have (see {@link #resolveImageShape}); for cifar10
 *     {@code [3, 32, 32]} unless the images are to be converted ({@code C} 1 or 3)
 * @param trainSize gradients: the number of generated training images, at least 1; idx, folder, cifar10:
 *     at most this many are used, 0 = all
 * @param evalSize gradients: the number of generated evaluation images, 0 = no evaluation; idx, folder,
 *     cifar10: at most this many are used, 0 = all
 * @param trainImages idx: the IDX file of training images (required); absolute once loaded from a file
 * @param trainLabels idx: the IDX file of training labels (optional)
 * @param evalImages idx: the IDX file of evaluation images (required)
 * @param evalLabels idx: the IDX file of evaluation labels (optional)
 * @param padTo idx: 0, or 32 to pad images with zeros to 32x32
 * @param root folder: the folder of training images; cifar10: the folder of the binary batches (required)
 * @param evalRoot folder: the folder of evaluation images (optional; none = no evaluation)
 * @param resize folder, cifar10: crop or pad to the target's aspect ratio
 * @param upscale folder, cifar10: enlarge images smaller than the target
 * @param badData folder, cifar10: stop at an unusable image, or skip and count it
 * @param cacheDir folder, cifar10: where the decoded-image cache goes (empty: {@code output.dir/.data-cache})
 * @param randomFlip flip training images horizontally at random, per epoch
 */
public record DataConfig(
    Kind kind,
    Optional<Shape> imageShape,
    int trainSize,
    int evalSize,
    Optional<Path> trainImages,
    Optional<Path> trainLabels,
    Optional<Path> evalImages,
    Optional<Path> evalLabels,
    int padTo,
    Optional<Path> root,
    Optional<Path> evalRoot,
    ImageFit.Resize resize,
    boolean upscale,
    BadDataPolicy badData,
    Optional<Path> cacheDir,
    boolean randomFlip) {

  // ---- keys: path, type, default and description of each component; Schema assembles them ----

  private static final String IDX = Kind.IDX.configName();
  private static final String FOLDER = Kind.FOLDER.configName();
  private static final String CIFAR10 = Kind.CIFAR10.configName();

  static final Key<DataConfig, Kind> KIND = Key.of("data.kind", DataConfig::kind,
      ValueType.enumeration(Kind.class, Kind::configName), Kind.GRADIENTS,
      "where images come from: gradients (generated colour gradients, as in the tutorial), idx "
          + "(MNIST-style IDX files), folder (a folder of PNG, JPEG, BMP and GIF images) or cifar10 (the "
          + "CIFAR-10 binary batches)");
  static final Key<DataConfig, Optional<Shape>> IMAGE_SHAPE = Key.of("data.image_shape",
      DataConfig::imageShape, ValueType.optional(ValueType.shape()), Optional.of(Shape.of(3, 5, 5)),
      "image shape [C, H, W]; for idx it is read from the files (give it only to assert it); for folder "
          + "and cifar10 every image is resized to it, C = 1 for grayscale, 3 for RGB")
      .defaultFor(IDX, Optional.empty()).defaultFor(FOLDER, Optional.empty())
      .defaultFor(CIFAR10, Optional.of(Shape.of(3, 32, 32)));
  static final Key<DataConfig, Integer> TRAIN_SIZE = Key.of("data.train_size", DataConfig::trainSize,
      ValueType.atLeast(0), 50_000,
      "gradients: number of generated training images (at least 1); idx, folder, cifar10: use at most "
          + "this many (0 = all; folder, cifar10: spread evenly over the order)")
      .defaultFor(IDX, 0).defaultFor(FOLDER, 0).defaultFor(CIFAR10, 0);
  static final Key<DataConfig, Integer> EVAL_SIZE = Key.of("data.eval_size", DataConfig::evalSize,
      ValueType.atLeast(0), 1_000,
      "gradients: number of generated evaluation images (0 = no evaluation); idx, folder, cifar10: use "
          + "at most this many (0 = all; folder, cifar10: spread evenly over the order)")
      .defaultFor(IDX, 0).defaultFor(FOLDER, 0).defaultFor(CIFAR10, 0);
  static final Key<DataConfig, Optional<Path>> TRAIN_IMAGES = Key.of("data.train_images",
      DataConfig::trainImages, ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "IDX file of the training images (required)").onlyFor(IDX);
  static final Key<DataConfig, Optional<Path>> TRAIN_LABELS = Key.of("data.train_labels",
      DataConfig::trainLabels, ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "IDX file of the training labels (optional)").onlyFor(IDX);
  static final Key<DataConfig, Optional<Path>> EVAL_IMAGES = Key.of("data.eval_images",
      DataConfig::evalImages, ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "IDX file of the evaluation images (required)").onlyFor(IDX);
  static final Key<DataConfig, Optional<Path>> EVAL_LABELS = Key.of("data.eval_labels",
      DataConfig::evalLabels, ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "IDX file of the evaluation labels (optional)").onlyFor(IDX);
  /** The one side {@code pad_to} pads to, besides 0 (none). */
  static final int PADDED_SIDE = 32;

  static final Key<DataConfig, Integer> PAD_TO = Key.of("data.pad_to", DataConfig::padTo,
      ValueType.oneOf(0, PADDED_SIDE), 0,
      "pad images with zeros to pad_to x pad_to (0 = no padding; 32 pads MNIST's 28x28)").onlyFor(IDX);
  static final Key<DataConfig, Optional<Path>> ROOT = Key.of("data.root", DataConfig::root,
      ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "folder: the folder of training images, searched recursively (a sub-folder per class is recorded as "
          + "its label); cifar10: the folder of data_batch_1.bin ... test_batch.bin (required)")
      .onlyFor(FOLDER, CIFAR10);
  static final Key<DataConfig, Optional<Path>> EVAL_ROOT = Key.of("data.eval_root", DataConfig::evalRoot,
      ValueType.optional(ValueType.path(true)), Optional.<Path>empty(),
      "folder of evaluation images (optional; none = no evaluation)").onlyFor(FOLDER);
  static final Key<DataConfig, ImageFit.Resize> RESIZE = Key.of("data.resize", DataConfig::resize,
      ValueType.enumeration(ImageFit.Resize.class, ImageFit.Resize::configName), ImageFit.Resize.CROP,
      "crop: scale the shorter side to the target and cut out the centre; pad: scale the longer side to "
          + "the target and pad with black, centred").onlyFor(FOLDER, CIFAR10);
  static final Key<DataConfig, Boolean> UPSCALE = Key.of("data.upscale", DataConfig::upscale,
      ValueType.bool(), false,
      "enlarge images smaller than the target (else, with crop, such an image is bad data)")
      .onlyFor(FOLDER, CIFAR10);
  static final Key<DataConfig, BadDataPolicy> BAD_DATA = Key.of("data.bad_data", DataConfig::badData,
      ValueType.enumeration(BadDataPolicy.class, BadDataPolicy::configName), BadDataPolicy.STOP,
      "an unreadable, truncated, empty or too small image: stop (naming the file) or skip (count it and "
          + "name it in the run's report)").onlyFor(FOLDER, CIFAR10);
  static final Key<DataConfig, Optional<Path>> CACHE_DIR = Key.of("data.cache_dir", DataConfig::cacheDir,
      ValueType.optional(ValueType.path(false)), Optional.<Path>empty(),
      "folder of the decoded-image cache, built once and memory-mapped (relative to the working "
          + "directory; none = output.dir/.data-cache)").onlyFor(FOLDER, CIFAR10);
  static final Key<DataConfig, Boolean> RANDOM_FLIP = Key.of("data.random_flip", DataConfig::randomFlip,
      ValueType.bool(), false,
      "flip training images left to right at random, drawn per epoch and image from the seed (DDPM's "
          + "CIFAR-10 augmentation)");

  /** The sources of images ({@code data.kind}). */
  public enum Kind {
    /** Generated colour gradients, as in the tutorial ({@code data.GradientImages}). */
    GRADIENTS("gradients"),
    /** MNIST-style IDX files. */
    IDX("idx"),
    /** A folder of PNG, JPEG, BMP and GIF images ({@code data.ImageFolder}). */
    FOLDER("folder"),
    /** The CIFAR-10 binary batches ({@code data.Cifar10Batches}). */
    CIFAR10("cifar10");

    private final String configName;

    Kind(String configName) {
      this.configName = configName;
    }

    /**
     * The configuration name.
     *
     * @return e.g. {@code "gradients"}
     */
    public String configName() {
      return configName;
    }
  }

  /**
   * Validates the values.
   *
   * @param kind where the images come from
   * @param imageShape {@code [C, H, W]}: required for gradients and folder; for idx empty (read from the
   *     files) or given to assert the shape the files must have (see {@link #resolveImageShape}); for cifar10
   *     {@code [3, 32, 32]} unless the images are to be converted ({@code C} 1 or 3)
   * @param trainSize gradients: the number of generated training images, at least 1; idx, folder, cifar10:
   *     at most this many are used, 0 = all
   * @param evalSize gradients: the number of generated evaluation images, 0 = no evaluation; idx, folder,
   *     cifar10: at most this many are used, 0 = all
   * @param trainImages idx: the IDX file of training images (required); absolute once loaded from a file
   * @param trainLabels idx: the IDX file of training labels (optional)
   * @param evalImages idx: the IDX file of evaluation images (required)
   * @param evalLabels idx: the IDX file of evaluation labels (optional)
   * @param padTo idx: 0, or 32 to pad images with zeros to 32x32
   * @param root folder: the folder of training images; cifar10: the folder of the binary batches (required)
   * @param evalRoot folder: the folder of evaluation images (optional; none = no evaluation)
   * @param resize folder, cifar10: crop or pad to the target's aspect ratio
   * @param upscale folder, cifar10: enlarge images smaller than the target
   * @param badData folder, cifar10: stop at an unusable image, or skip and count it
   * @param cacheDir folder, cifar10: where the decoded-image cache goes (empty: {@code output.dir/.data-cache})
   * @param randomFlip flip training images horizontally at random, per epoch
   * @throws ConfigException naming the key at fault
   */
  public DataConfig {
    KIND.check(kind);
    IMAGE_SHAPE.check(imageShape);
    TRAIN_SIZE.check(trainSize);
    EVAL_SIZE.check(evalSize);
    TRAIN_IMAGES.check(trainImages);
    TRAIN_LABELS.check(trainLabels);
    EVAL_IMAGES.check(evalImages);
    EVAL_LABELS.check(evalLabels);
    PAD_TO.check(padTo);
    ROOT.check(root);
    EVAL_ROOT.check(evalRoot);
    RESIZE.check(resize);
    UPSCALE.check(upscale);
    BAD_DATA.check(badData);
    CACHE_DIR.check(cacheDir);
    RANDOM_FLIP.check(randomFlip);
    String k = kind.configName();
    TRAIN_IMAGES.requireDefaultUnlessFor(k, trainImages);
    TRAIN_LABELS.requireDefaultUnlessFor(k, trainLabels);
    EVAL_IMAGES.requireDefaultUnlessFor(k, evalImages);
    EVAL_LABELS.requireDefaultUnlessFor(k, evalLabels);
    PAD_TO.requireDefaultUnlessFor(k, padTo);
    ROOT.requireDefaultUnlessFor(k, root);
    EVAL_ROOT.requireDefaultUnlessFor(k, evalRoot);
    RESIZE.requireDefaultUnlessFor(k, resize);
    UPSCALE.requireDefaultUnlessFor(k, upscale);
    BAD_DATA.requireDefaultUnlessFor(k, badData);
    CACHE_DIR.requireDefaultUnlessFor(k, cacheDir);
    switch (kind) {
      case GRADIENTS -> {
        if (imageShape.isEmpty()) {
          throw new ConfigException(IMAGE_SHAPE.path(), "required when kind is gradients");
        }
        if (trainSize < 1) {
          throw new ConfigException(TRAIN_SIZE.path(),
              "must be at least 1 when kind is gradients, got " + trainSize);
        }
      }
      case IDX -> {
        if (trainImages.isEmpty()) {
          throw new ConfigException(TRAIN_IMAGES.path(), "required when kind is idx");
        }
        if (evalImages.isEmpty()) {
          throw new ConfigException(EVAL_IMAGES.path(), "required when kind is idx");
        }
      }
      case FOLDER, CIFAR10 -> {
        if (root.isEmpty()) {
          throw new ConfigException(ROOT.path(), "required when kind is " + k + " (the folder of "
              + (kind == Kind.FOLDER ? "training images)" : "the binary batches data_batch_1.bin ...)"));
        }
        if (imageShape.isEmpty()) {
          throw new ConfigException(IMAGE_SHAPE.path(), "required when kind is " + k + ": the [C, H, W] "
              + "every image is resized to, e.g. [3, 64, 64]");
        }
        int c = imageShape.get().dim(0);
        if (c != 1 && c != 3) {
          throw new ConfigException(IMAGE_SHAPE.path(), "must have 1 (grayscale) or 3 (RGB) channels when "
              + "kind is " + k + ", got " + imageShape.get());
        }
      }
      default -> throw new AssertionError(kind);
    }
  }

  /**
   * How images are fitted to the target (folder and cifar10).
   *
   * @return the fit
   * @throws IllegalStateException for other kinds, whose shape is not a target
   */
  public ImageFit fit() {
    if (kind != Kind.FOLDER && kind != Kind.CIFAR10) {
      throw new IllegalStateException("kind " + kind.configName() + " is not fitted");
    }
    return new ImageFit(imageShape.orElseThrow(), resize, upscale);
  }

  /**
   * Generated gradient images.
   *
   * @param imageShape {@code [C, H, W]}
   * @param trainSize training images, at least 1
   * @param evalSize evaluation images, 0 = no evaluation
   * @return the config
   */
  public static DataConfig gradients(Shape imageShape, int trainSize, int evalSize) {
    return new DataConfig(Kind.GRADIENTS, Optional.of(imageShape), trainSize, evalSize, Optional.empty(),
        Optional.empty(), Optional.empty(), Optional.empty(), 0, Optional.empty(), Optional.empty(),
        RESIZE.defaultFor(null), UPSCALE.defaultFor(null), BAD_DATA.defaultFor(null),
        Optional.empty(), false);
  }

  /**
   * The image shape the model sees: for gradients, folder and cifar10 the configured one; for idx the files'
   * shape after padding, checked against {@code image_shape} when that is given.
   *
   * @param fromFiles idx: the {@code [C, H, W]} the IDX files hold (ignored for gradients)
   * @return the image shape
   * @throws ConfigException if the files are larger than {@code pad_to} or disagree with
   *     {@code image_shape}
   */
  public Shape resolveImageShape(Shape fromFiles) {
    if (kind != Kind.IDX) {
      return imageShape.orElseThrow();
    }
    Shape actual = fromFiles;
    if (padTo > 0) {
      if (fromFiles.dim(1) > padTo || fromFiles.dim(2) > padTo) {
        throw new ConfigException(PAD_TO.path(),
            "the IDX images are " + fromFiles.dim(1) + "x" + fromFiles.dim(2) + ", larger than pad_to "
                + padTo);
      }
      actual = Shape.of(fromFiles.dim(0), padTo, padTo);
    }
    if (imageShape.isPresent() && !imageShape.get().equals(actual)) {
      Shape want = imageShape.get();
      // the two mistakes a user makes with MNIST-like files: colour channels, and the padded size without pad_to
      boolean gray = want.dim(0) != actual.dim(0) && actual.dim(0) == 1;
      boolean padded = padTo == 0 && want.dim(0) == actual.dim(0) && want.dim(1) == PADDED_SIDE
          && want.dim(2) == PADDED_SIDE && actual.dim(1) <= PADDED_SIDE && actual.dim(2) <= PADDED_SIDE;
      throw new ConfigException(IMAGE_SHAPE.path(),
          "is " + want + " but the IDX files give " + actual + (padTo > 0 ? " after pad_to " + padTo : "")
              + (gray ? " (IDX images are gray: C = 1)" : "")
              + (padded ? "; remove image_shape, correct it, or set " + PAD_TO.path() + ": " + PADDED_SIDE
                  + " to pad the images to " + PADDED_SIDE + "x" + PADDED_SIDE
                  : "; remove image_shape or correct it"));
    }
    return actual;
  }
}
