/**
 * Training data and the forward process: {@link io.github.diffusion4j.data.Dataset} (images in
 * {@code [-1, 1]}, read by index, optionally augmented per epoch), the tutorial's
 * {@link io.github.diffusion4j.data.GradientImages}, {@link io.github.diffusion4j.data.Normalization}, and
 * {@link io.github.diffusion4j.data.ForwardProcess} (Ho et al. eq. 2 iteratively and eq. 4 in closed form, and
 * its inverse).
 *
 * <p>Real images: the IDX files of MNIST and Fashion-MNIST through
 * {@link io.github.diffusion4j.data.IdxImages} (in memory); any folder of PNG, JPEG, BMP and GIF files through
 * {@link io.github.diffusion4j.data.ImageFolder} and the CIFAR-10 binary batches through
 * {@link io.github.diffusion4j.data.Cifar10Batches}, both {@link io.github.diffusion4j.data.ImageSource}s
 * whose images are fitted to a target shape by {@link io.github.diffusion4j.data.ImageFit} and, once decoded
 * into a cache file ({@code io.ImageCache}), read as 8-bit {@link io.github.diffusion4j.data.ByteImages} from
 * a memory mapping. {@link io.github.diffusion4j.data.RandomFlip} flips training images, keyed by seed, epoch
 * and index. A file that cannot be used is a {@link io.github.diffusion4j.data.DataFileException}; an image
 * left out under {@link io.github.diffusion4j.data.BadDataPolicy#SKIP} is a
 * {@link io.github.diffusion4j.data.SkippedImage}.
 */
package io.github.diffusion4j.data;
