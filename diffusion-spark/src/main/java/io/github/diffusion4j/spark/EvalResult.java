package io.github.diffusion4j.spark;

import io.github.diffusion4j.eval.Gaussian;
import io.github.diffusion4j.eval.QualityReport;

/**
 * What an evaluation job found.
 *
 * @param report the scores, as {@code diffusion eval} prints them
 * @param samples the Gaussian of the samples (mean and covariance in double, aggregated across partitions)
 * @param reference the Gaussian of the real images (fitted on the driver, as on one machine)
 * @param shards the number of shards the samples were drawn in
 * @param referenceSource where the real images come from, in words ({@code Diffusion.referenceSource()})
 * @param sampler the sampler that drew the samples
 * @param steps its inference steps
 */
public record EvalResult(QualityReport report, Gaussian samples, Gaussian reference, int shards,
    String referenceSource, String sampler, int steps) {}
