package io.github.diffusion4j.config;

import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the training and evaluation images come from ({@code data:}).
 *
 * @param kind {@link Kind#GRADIENTS} or {@link Kind#IDX}
 * @param imageShape {@code [C, H, W]}: required for gradients; for idx empty (read from the files) or
 *     given to assert the shape the files must have (see {@link #resolveImageShape})
 * @param trainSize gradients: the number of generated training images, at least 1; idx: at most this
 *     many are used, 0 = all
 * @param evalSize gradients: the number of generated evaluation images, 0 = no evaluation; idx: at most
 *     this many are used, 0 = all
 * @param trainImages idx: the IDX file of training images (required); absolute once loaded from a file
 * @param trainLabels idx: the IDX file of training labels (optional)
 * @param evalImages idx: the IDX file of evaluation images (required)
 * @param evalLabels idx: the IDX file of evaluation labels (optional)
 * @param padTo idx: 0, or 32 to pad images with zeros to 32x32
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
    int padTo) {

  /** The sources of images ({@code data.kind}). */
  public enum Kind {
    /** Generated colour gradients, as in the tutorial ({@code data.GradientImages}). */
    GRADIENTS("gradients"),
    /** MNIST-style IDX files. */
    IDX("idx");

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
   * @param kind {@link Kind#GRADIENTS} or {@link Kind#IDX}
   * @param imageShape {@code [C, H, W]}: required for gradients; for idx empty (read from the files) or given
   *     to assert the shape the files must have (see {@link #resolveImageShape})
   * @param trainSize gradients: the number of generated training images, at least 1; idx: at most this many
   *     are used, 0 = all
   * @param evalSize gradients: the number of generated evaluation images, 0 = no evaluation; idx: at most
   *     this many are used, 0 = all
   * @param trainImages idx: the IDX file of training images (required); absolute once loaded from a file
   * @param trainLabels idx: the IDX file of training labels (optional)
   * @param evalImages idx: the IDX file of evaluation images (required)
   * @param evalLabels idx: the IDX file of evaluation labels (optional)
   * @param padTo idx: 0, or 32 to pad images with zeros to 32x32
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
    String k = kind.configName();
    Schema.TRAIN_IMAGES.requireDefaultUnlessFor(k, trainImages);
    Schema.TRAIN_LABELS.requireDefaultUnlessFor(k, trainLabels);
    Schema.EVAL_IMAGES.requireDefaultUnlessFor(k, evalImages);
    Schema.EVAL_LABELS.requireDefaultUnlessFor(k, evalLabels);
    Schema.PAD_TO.requireDefaultUnlessFor(k, padTo);
    if (kind == Kind.GRADIENTS) {
      if (imageShape.isEmpty()) {
        throw new ConfigException(Schema.IMAGE_SHAPE.path(), "required when kind is gradients");
      }
      if (trainSize < 1) {
        throw new ConfigException(Schema.TRAIN_SIZE.path(),
            "must be at least 1 when kind is gradients, got " + trainSize);
      }
    } else {
      if (trainImages.isEmpty()) {
        throw new ConfigException(Schema.TRAIN_IMAGES.path(), "required when kind is idx");
      }
      if (evalImages.isEmpty()) {
        throw new ConfigException(Schema.EVAL_IMAGES.path(), "required when kind is idx");
      }
    }
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
        Optional.empty(), Optional.empty(), Optional.empty(), 0);
  }

  /**
   * The image shape the model sees: for gradients the configured one; for idx the files' shape after
   * padding, checked against {@code image_shape} when that is given.
   *
   * @param fromFiles idx: the {@code [C, H, W]} the IDX files hold (ignored for gradients)
   * @return the image shape
   * @throws ConfigException if the files are larger than {@code pad_to} or disagree with
   *     {@code image_shape}
   */
  public Shape resolveImageShape(Shape fromFiles) {
    if (kind == Kind.GRADIENTS) {
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
