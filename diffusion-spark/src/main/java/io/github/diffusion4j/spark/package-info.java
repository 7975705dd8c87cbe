/**
 * Sampling and evaluation on Apache Spark ({@link io.github.diffusion4j.spark.SparkDiffusion}): shards of whole
 * sampling batches, one task each, bit-identical to the single-process run for any number of partitions;
 * shards committed atomically with a manifest of checksums; Frechet statistics aggregated across partitions
 * in a tree of fixed shape. Written against the public api only ({@code TrainedModel}, {@code Diffusion},
 * {@code SamplingRequest}, {@code SampleWriter}, the metric accumulators). The output folder's
 * {@code manifest.json} is written and read with Jackson.
 */
package io.github.diffusion4j.spark;
