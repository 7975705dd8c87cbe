/**
 * Sample-quality metrics for generated images in {@code [0, 1]}, all in double precision and pure Java:
 * the pixel-space {@link io.github.diffusion4j.eval.FrechetDistance} between
 * {@link io.github.diffusion4j.eval.Gaussian} fits (with its own symmetric eigensolver), the
 * {@link io.github.diffusion4j.eval.GradientResidual} of a fit to the tutorial's colour ramps, and the
 * {@link io.github.diffusion4j.eval.CornerUniformity} KS statistic; {@link
 * io.github.diffusion4j.eval.QualityMetrics} computes all three into a {@link
 * io.github.diffusion4j.eval.QualityReport}.
 */
package io.github.diffusion4j.eval;
