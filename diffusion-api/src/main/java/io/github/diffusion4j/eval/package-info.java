/**
 * Sample-quality metrics for generated images in {@code [0, 1]}, all in double precision and pure Java:
 * the pixel-space {@link io.github.diffusion4j.eval.FrechetDistance} between
 * {@link io.github.diffusion4j.eval.Gaussian} fits (with its own symmetric eigensolver), the
 * {@link io.github.diffusion4j.eval.GradientResidual} of a fit to the tutorial's colour ramps, and the
 * {@link io.github.diffusion4j.eval.CornerUniformity} KS statistics (one test of all corners pooled, and the mean
 * of one test per corner and channel, the PyTorch reference's definition); {@link
 * io.github.diffusion4j.eval.QualityMetrics} computes them all into a {@link
 * io.github.diffusion4j.eval.QualityReport}.
 *
 * <p>Likelihood: {@link io.github.diffusion4j.eval.VariationalBound} computes the DDPM authors' variational
 * bound on the negative log-likelihood of images under a model, in bits per dimension, in full or as a
 * stratified estimate ({@link io.github.diffusion4j.eval.TimestepStrata}), into a {@link
 * io.github.diffusion4j.eval.BoundReport}; {@link io.github.diffusion4j.eval.GaussianTerms} holds its
 * Gaussian KL and discretised decoder likelihood.
 */
package io.github.diffusion4j.eval;
