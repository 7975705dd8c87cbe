/**
 * Training data and the forward process: {@link io.github.diffusion4j.data.Dataset} (images in
 * {@code [-1, 1]} on the heap), the tutorial's {@link io.github.diffusion4j.data.GradientImages},
 * {@link io.github.diffusion4j.data.Normalization}, and {@link io.github.diffusion4j.data.ForwardProcess}
 * (Ho et al. eq. 2 iteratively and eq. 4 in closed form, and its inverse). Real images come from the IDX
 * files of MNIST and Fashion-MNIST through {@link io.github.diffusion4j.data.IdxImages}; a file that cannot
 * be used is a {@link io.github.diffusion4j.data.DataFileException}.
 */
package io.github.diffusion4j.data;
