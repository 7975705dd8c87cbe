/**
 * The {@code diffusion} command (picocli): {@code demo}, {@code train}, {@code sample},
 * {@code interpolate}, {@code eval}, {@code info}, {@code config}, {@code bench}, {@code data}. It uses the api only;
 * backends are found at run time, and so are the subcommands of optional modules ({@link
 * io.github.diffusion4j.cli.CommandExtension}, e.g. {@code spark}). A run's {@code metrics.jsonl} is read
 * with Jackson for the loss chart.
 */
package io.github.diffusion4j.cli;
