package io.github.diffusion4j.spark.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code diffusion spark}: the parent of {@code sample} and {@code eval}. */
@Command(name = "spark", mixinStandardHelpOptions = true,
    description = {"Sampling and evaluation on Apache Spark: local[*] on this machine by default, any cluster with "
        + "--master or spark-submit (docs/spark.md).",
        "The samples are bit-identical to diffusion sample's with the same checkpoint, seed and count, for any "
        + "number of partitions."},
    subcommands = {SparkSampleCommand.class, SparkEvalCommand.class})
final class SparkCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand: sample or eval");
  }
}
