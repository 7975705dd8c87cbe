package io.github.diffusion4j.spark.cli;

/** Whether standard output is a terminal (for Spark's console progress bar). */
final class Terminal {
  private Terminal() {}

  static boolean isTerminal() {
    return io.github.diffusion4j.cli.Consoles.isInteractive();
  }
}
