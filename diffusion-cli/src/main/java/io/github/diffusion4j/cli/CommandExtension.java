package io.github.diffusion4j.cli;

/**
 * A subcommand that an optional module adds to {@code diffusion}, found with {@link java.util.ServiceLoader}
 * (list the implementation in {@code META-INF/services/io.github.diffusion4j.cli.CommandExtension}). It lets
 * a module with heavy dependencies of its own (Apache Spark for {@code diffusion spark}) join the command
 * line when its jar is on the class path, without those dependencies in the main CLI jar. An extension
 * reports bad input by throwing {@link BadInputException} (one line, exit code 2), like the built-in
 * commands; any other exception is a failure (exit code 1).
 */
public interface CommandExtension {
  /**
   * The subcommand's name.
   *
   * @return e.g. {@code "spark"}
   */
  String name();

  /**
   * A new command object: a picocli {@code @Command} (with its own subcommands if it has any).
   *
   * @return the command
   */
  Object command();
}
