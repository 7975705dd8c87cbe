package io.github.diffusion4j.cli;

import io.github.diffusion4j.data.ImageFit;
import io.github.diffusion4j.data.ImageInfo;
import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Path;
import java.util.List;

/**
 * The inpainting masks of {@code sample --init ... --mask ...}: one mask for every {@code --init} picture, or one per
 * picture in the same order (a folder's in its listing order), each the size of its picture. A mask file is gray or
 * RGB (PNG, JPEG, BMP, GIF; colours become their ITU-R 601 luma, alpha is ignored), fitted to the model's images as
 * its picture is (the same crop and area resampling), then thresholded: a fitted pixel of gray level 128 or more
 * (of 255) is <b>white: regenerated</b>, below 128 <b>black: kept</b> from the picture, as image editors and Stable
 * Diffusion's inpainting pipelines (which binarize their masks at one half) have it. The api's
 * {@link io.github.diffusion4j.sampling.Inpainting} also takes soft values; the threshold keeps a JPEG's ringing and
 * the resampled edges from blending the picture into the regenerated region. (The threshold is the api's
 * {@link ImageFit#thresholdMask}, as {@link ImageFit#readMask} applies it for Java callers.)
 */
final class InputMasks {
  /** The option's name. */
  static final String OPTION = "--mask";

  private final InputImages masks;
  private final int pictures;

  private InputMasks(InputImages masks, int pictures) {
    this.masks = masks;
    this.pictures = pictures;
  }

  /**
   * Lists and decodes the masks and matches them to the pictures.
   *
   * @param given files and folders
   * @param pictures the {@code --init} pictures
   * @param image the model's image shape {@code [C, H, W]}
   * @return the masks
   * @throws BadInputException naming {@code --mask} and the file: missing, not an image, a count that is neither 1 nor
   *     the pictures', or a mask of another size than its picture
   */
  static InputMasks of(List<Path> given, InputImages pictures, Shape image) {
    InputImages.fitFor(OPTION, image);
    InputImages masks = InputImages.of(OPTION, given, Shape.of(1, image.dim(1), image.dim(2)));
    if (masks.size() != 1 && masks.size() != pictures.size()) {
      throw new BadInputException(OPTION + ": " + masks.size() + " masks for " + pictures.size() + " --init "
          + (pictures.size() == 1 ? "image" : "images") + "; give one mask for all the --init images, or one for each "
          + "(in the same order)");
    }
    for (int i = 0; i < pictures.size(); i++) {
      int m = masks.size() == 1 ? 0 : i;
      ImageInfo mask = masks.info(m);
      ImageInfo picture = pictures.info(i);
      if (mask.width() != picture.width() || mask.height() != picture.height()) {
        throw new BadInputException(OPTION + " " + masks.file(m) + ": is " + mask.width() + "x" + mask.height()
            + ", its --init image " + pictures.file(i) + " is " + picture.width() + "x" + picture.height() + "; a mask "
            + "must be its image's size (white: regenerate, black: keep)");
      }
    }
    return new InputMasks(masks, pictures.size());
  }

  /**
   * The number of mask files.
   *
   * @return 1 or the number of pictures
   */
  int size() {
    return masks.size();
  }

  /**
   * A mask's file.
   *
   * @param index the mask
   * @return the file
   */
  Path file(int index) {
    return masks.file(index);
  }

  /**
   * The mask of a picture, thresholded: 1 where the fitted mask is white (level 128 or more: regenerate), 0 where
   * black (keep).
   *
   * @param picture the picture's index among the {@code --init} images
   * @return {@code H * W} values, 0 or 1
   */
  float[] forPicture(int picture) {
    if (picture < 0 || picture >= pictures) {
      throw new IndexOutOfBoundsException("picture " + picture + " of " + pictures);
    }
    return ImageFit.thresholdMask(masks.read(masks.size() == 1 ? 0 : picture));
  }
}
