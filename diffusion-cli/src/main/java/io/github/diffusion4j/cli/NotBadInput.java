package io.github.diffusion4j.cli;

/**
 * Marks an exception that is a failure (exit 1) whatever its causes are: the command line takes an exception for the
 * user's bad input (exit 2) when a cause says so (a missing file, a bad configuration), and an exception that
 * implements this one keeps such causes for {@code --verbose} without being taken for bad input (e.g. an executor
 * of a Spark job that could not find its own temporary file).
 */
public interface NotBadInput {}
