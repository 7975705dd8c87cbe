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
    Schema.DATA_KIND.check(kind);
    Schema.IMAGE_SHAPE.check(imageShape);
    Schema.TRAIN_SIZE.check(trainSize);
    Schema.EVAL_SIZE.check(evalSize);
    Schema.TRAIN_IMAGES.check(trainImages);
    Schema.TRAIN_LABELS.check(trainLabels);
    Schema.EVAL_IMAGES.check(evalImages);
    Schema.EVAL_LABELS.check(evalLabels);
    Schema.PAD_TO.check(padTo);
    Schema.DATA_ROOT.check(root);
    Schema.EVAL_ROOT.check(evalRoot);
    Schema.RESIZE.check(resize);
    Schema.UPSCALE.check(upscale);
    Schema.BAD_DATA.check(badData);
    Schema.CACHE_DIR.check(cacheDir);
    Schema.RANDOM_FLIP.check(randomFlip);
    String k = kind.configName();
    Schema.TRAIN_IMAGES.requireDefaultUnlessFor(k, trainImages);
    Schema.TRAIN_LABELS.requireDefaultUnlessFor(k, trainLabels);
    Schema.EVAL_IMAGES.requireDefaultUnlessFor(k, evalImages);
    Schema.EVAL_LABELS.requireDefaultUnlessFor(k, evalLabels);
    Schema.PAD_TO.requireDefaultUnlessFor(k, padTo);
    Schema.DATA_ROOT.requireDefaultUnlessFor(k, root);
    Schema.EVAL_ROOT.requireDefaultUnlessFor(k, evalRoot);
    Schema.RESIZE.requireDefaultUnlessFor(k, resize);
    Schema.UPSCALE.requireDefaultUnlessFor(k, upscale);
    Schema.BAD_DATA.requireDefaultUnlessFor(k, badData);
    Schema.CACHE_DIR.requireDefaultUnlessFor(k, cacheDir);
    switch (kind) {
      case GRADIENTS -> {
        if (imageShape.isEmpty()) {
          throw new ConfigException(Schema.IMAGE_SHAPE.path(), "required when kind is gradients");
        }
        if (trainSize < 1) {
          throw new ConfigException(Schema.TRAIN_SIZE.path(),
              "must be at least 1 when kind is gradients, got " + trainSize);
        }
      }
      case IDX -> {
        if (trainImages.isEmpty()) {
          throw new ConfigException(Schema.TRAIN_IMAGES.path(), "required when kind is idx");
        }
        if (evalImages.isEmpty()) {
          throw new ConfigException(Schema.EVAL_IMAGES.path(), "required when kind is idx");
        }
      }
      case FOLDER, CIFAR10 -> {
        if (root.isEmpty()) {
          throw new ConfigException(Schema.DATA_ROOT.path(), "required when kind is " + k + " (the folder of "
              + (kind == Kind.FOLDER ? "training images)" : "the binary batches data_batch_1.bin ...)"));
        }
        if (imageShape.isEmpty()) {
          throw new ConfigException(Schema.IMAGE_SHAPE.path(), "required when kind is " + k + ": the [C, H, W] "
              + "every image is resized to, e.g. [3, 64, 64]");
        }
        int c = imageShape.get().dim(0);
        if (c != 1 && c != 3) {
          throw new ConfigException(Schema.IMAGE_SHAPE.path(), "must have 1 (grayscale) or 3 (RGB) channels when "
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
        Schema.RESIZE.defaultFor(null), Schema.UPSCALE.defaultFor(null), Schema.BAD_DATA.defaultFor(null),
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
        throw new ConfigException(Schema.PAD_TO.path(),
            "the IDX images are " + fromFiles.dim(1) + "x" + fromFiles.dim(2) + ", larger than pad_to "
                + padTo);
      }
      actual = Shape.of(fromFiles.dim(0), padTo, padTo);
    }
    if (imageShape.isPresent() && !imageShape.get().equals(actual)) {
      throw new ConfigException(Schema.IMAGE_SHAPE.path(),
          "is " + imageShape.get() + " but the IDX files give " + actual
              + (padTo > 0 ? " after pad_to " + padTo : "") + "; remove image_shape or correct it");
    }
    return actual;
  }
}
