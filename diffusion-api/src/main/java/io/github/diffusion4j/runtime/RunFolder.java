package io.github.diffusion4j.runtime;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The layout of a training run's folder.
 *
 * <pre>
 *   config.yaml          the resolved configuration (every key)
 *   metrics.jsonl        one JSON object per log interval ("train"), per epoch ("eval") and per start ("data")
 *   loss.png             train and eval loss curves (written by the command line)
 *   images/step-N.png    the tutorial's image logs: x0, noised, noise, predicted noise, reconstruction
 *   samples.png          samples from the final model
 *   denoise.gif          the denoising trajectory
 *   checkpoints/step-N/  checkpoints (the last few are kept)
 *   samples-ddpm.png     the demo's DDPM samples beside samples.png (DDIM)
 *   quality.json         the demo's scores of both
 * </pre>
 *
 * @param root the run folder
 */
public record RunFolder(Path root) {

  /**
   * Checks the folder.
   *
   * @param root the run folder
   * @throws NullPointerException if {@code root} is null
   */
  public RunFolder {
    java.util.Objects.requireNonNull(root, "root must not be null");
  }

  /**
   * The folder for a new run: {@code dir/name}, or {@code dir/<yyyyMMdd-HHmmss>} when the name is empty.
   *
   * @param dir the output directory
   * @param name the run name (one folder name, as {@code output.name} takes it), or empty or null
   * @return the folder (not created)
   * @throws IllegalArgumentException if the name is not one folder name inside {@code dir} ({@code ..}, a path)
   */
  public static RunFolder under(Path dir, String name) {
    java.util.Objects.requireNonNull(dir, "dir must not be null");
    String n = name == null || name.isBlank()
        ? LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) : name;
    Path run = dir.resolve(n);
    boolean inside = run.getParent() == null ? dir.toString().isEmpty() : run.getParent().equals(dir);
    if (n.equals(".") || n.equals("..") || !inside) {
      throw new IllegalArgumentException("run name '" + n + "': must be one folder name inside " + dir
          + " (no '/', not '.' or '..')");
    }
    return new RunFolder(run);
  }

  /**
   * The resolved configuration.
   *
   * @return {@code config.yaml}
   */
  public Path config() {
    return root.resolve("config.yaml");
  }

  /**
   * The metrics log.
   *
   * @return {@code metrics.jsonl}
   */
  public Path metrics() {
    return root.resolve("metrics.jsonl");
  }

  /**
   * The loss chart.
   *
   * @return {@code loss.png}
   */
  public Path lossChart() {
    return root.resolve("loss.png");
  }

  /**
   * The image-log folder.
   *
   * @return {@code images/}
   */
  public Path images() {
    return root.resolve("images");
  }

  /**
   * The image log of a step.
   *
   * @param step the step
   * @return {@code images/step-<step>.png}
   */
  public Path imageLog(long step) {
    return images().resolve(String.format(Locale.ROOT, "step-%08d.png", step));
  }

  /**
   * The final samples.
   *
   * @return {@code samples.png}
   */
  public Path samples() {
    return root.resolve("samples.png");
  }

  /**
   * The denoising animation.
   *
   * @return {@code denoise.gif}
   */
  public Path denoiseGif() {
    return root.resolve("denoise.gif");
  }

  /**
   * The checkpoint folder.
   *
   * @return {@code checkpoints/}
   */
  public Path checkpoints() {
    return root.resolve("checkpoints");
  }

  /**
   * The demo's DDPM samples, beside {@link #samples()} (its DDIM samples).
   *
   * @return {@code samples-ddpm.png}
   */
  public Path ddpmSamples() {
    return root.resolve("samples-ddpm.png");
  }

  /**
   * The demo's scores of its samples.
   *
   * @return {@code quality.json}
   */
  public Path quality() {
    return root.resolve("quality.json");
  }

  /**
   * The names of every file and folder a run (or the demo) writes at the top of its folder: what a new run may find
   * there from a run killed before its first checkpoint.
   *
   * @return the names
   */
  public java.util.Set<String> fileNames() {
    return java.util.stream.Stream.of(config(), metrics(), lossChart(), images(), samples(), denoiseGif(),
        checkpoints(), ddpmSamples(), quality()).map(p -> p.getFileName().toString())
        .collect(java.util.stream.Collectors.toUnmodifiableSet());
  }
}
