/**
 * {@code diffusion spark sample} and {@code diffusion spark eval}: picocli commands over {@link
 * io.github.diffusion4j.spark.SparkDiffusion}, joined to the {@code diffusion} command line by {@link
 * io.github.diffusion4j.spark.cli.SparkCommandExtension} when this module is on the class path.
 */
package io.github.diffusion4j.spark.cli;
