package io.github.diffusion4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code diffusion data}: look at training data before training on it ({@code check}) and time it ({@code bench}). */
@Command(name = "data", mixinStandardHelpOptions = true,
    description = "Checks a folder of images or a configuration's data (what training will see), or times the "
        + "image cache.",
    subcommands = {DataCheckCommand.class, DataBenchCommand.class, CommandLine.HelpCommand.class})
final class DataCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "give a subcommand: check or bench");
  }
}
