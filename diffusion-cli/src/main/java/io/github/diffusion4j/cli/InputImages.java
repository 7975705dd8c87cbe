package io.github.diffusion4j.cli;

import io.github.diffusion4j.data.DataFileException;
import io.github.diffusion4j.data.ImageFit;
import io.github.diffusion4j.data.ImageFolder;
import io.github.diffusion4j.data.ImageInfo;
import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Image files a command starts from ({@code sample --init}, {@code interpolate --images}): each given file, or every
 * image of a given folder in the order training lists them, fitted to the model's images as a folder's training
 * images are (centre-cropped, enlarged when smaller), so any photo can be given. Each file is decoded when listed (so a
 * bad one is refused before anything is sampled) and kept while all of them fit in {@link #KEPT_VALUES}; beyond that
 * (thousands of large pictures) each is decoded again where it is used, so memory stays flat.
 */
final class InputImages {
  private final String option;
  private final ImageFit fit;
  private final List<Path> files;
  /** The decoded images, or null where they are decoded where used. */
  private final float[][] kept;
  /** What each file held before it was fitted (its size), from the decoding when listed. */
  private final ImageInfo[] infos;

  /** The most values kept decoded: 16 MB of float32, a sampling batch's worth. */
  static final long KEPT_VALUES = 1L << 22;

  private InputImages(String option, ImageFit fit, List<Path> files) {
    this.option = option;
    this.fit = fit;
    this.files = files;
    this.kept = (long) files.size() * fit.shape().size() <= KEPT_VALUES ? new float[files.size()][] : null;
    this.infos = new ImageInfo[files.size()];
  }

  /**
   * Lists the images and decodes each once, so that a file that cannot be used is refused before any sampling.
   *
   * @param option the option, for messages (e.g. {@code --init})
   * @param given files and folders
   * @param image the model's image shape {@code [C, H, W]}
   * @return the images, in the order given (a folder's in its listing order)
   * @throws BadInputException naming the option and the file: missing, not an image, or a model whose images are
   *     neither gray nor RGB
   */
  static InputImages of(String option, List<Path> given, Shape image) {
    ImageFit fit = fitFor(option, image);
    List<Path> files = new ArrayList<>();
    for (Path p : given) {
      try {
        if (!Files.exists(p)) {
          throw new BadInputException(option + " " + p + ": no such file or folder");
        }
        if (Files.isDirectory(p)) {
          ImageFolder folder = ImageFolder.scan(p, fit);
          for (int i = 0; i < folder.size(); i++) {
            files.add(folder.file(i));
          }
        } else {
          files.add(p);
        }
      } catch (DataFileException e) {
        throw new BadInputException(option + " " + e.getMessage(), e);
      }
    }
    InputImages images = new InputImages(option, fit, List.copyOf(files));
    for (int i = 0; i < files.size(); i++) {
      float[] values = new float[fit.shape().size()];
      images.infos[i] = images.decode(i, values);
      if (images.kept != null) {
        images.kept[i] = values;
      }
    }
    return images;
  }

  /**
   * Checks, before a model is loaded, that its images can be started from image files.
   *
   * @param option the option, for messages
   * @param image the model's image shape
   * @return the fit
   */
  static ImageFit fitFor(String option, Shape image) {
    if (image.rank() != 3 || (image.dim(0) != 1 && image.dim(0) != 3)) {
      throw new BadInputException(option + ": the model's images are " + image + "; only a model of gray (1 channel) "
          + "or RGB (3 channels) images can start from image files");
    }
    return new ImageFit(image, ImageFit.Resize.CROP, true);
  }

  /**
   * The number of images.
   *
   * @return at least 0
   */
  int size() {
    return files.size();
  }

  /**
   * An image's file.
   *
   * @param index the image
   * @return the file
   */
  Path file(int index) {
    return files.get(index);
  }

  /**
   * An image, fitted.
   *
   * @param index the image
   * @return its values in {@code [-1, 1]}, {@code [C, H, W]} (the caller must not change them)
   */
  float[] read(int index) {
    if (kept != null) {
      return kept[index];
    }
    float[] values = new float[fit.shape().size()];
    decode(index, values);
    return values;
  }

  /**
   * What an image's file held before it was fitted.
   *
   * @param index the image
   * @return its size and colour type
   */
  ImageInfo info(int index) {
    return infos[index];
  }

  private ImageInfo decode(int index, float[] values) {
    try {
      return fit.read(files.get(index), values);
    } catch (DataFileException e) {
      throw new BadInputException(option + " " + e.getMessage(), e);
    }
  }
}
