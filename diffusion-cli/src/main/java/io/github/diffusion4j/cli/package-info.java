/**
 * The {@code diffusion} command (picocli): {@code demo}, {@code train}, {@code sample},
 * {@code interpolate}, {@code eval}, {@code info}, {@code config}, {@code bench}, {@code data}. It uses the api only;
 * backends are found at run time.
 */
package io.github.diffusion4j.cli;
