package io.github.diffusion4j.runtime;

import java.io.IOException;
import java.nio.file.Files;
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
 * @param stamped whether the folder's name is a timestamp the SDK chose ({@link #under} without a name): a new run
 *     ({@link TrainingRun#start}) then takes the first of {@code root}, {@code root-2}, {@code root-3}, ... that does
 *     not exist yet, so runs started in the same second each get a folder of their own
 */
public record RunFolder(Path root, boolean stamped) {

  /**
   * Checks the folder.
   *
   * @param root the run folder
   * @param stamped whether the name is a timestamp the SDK chose
   * @throws NullPointerException if {@code root} is null
   */
  public RunFolder {
    java.util.Objects.requireNonNull(root, "root must not be null");
  }

  /**
   * A run folder of a name of one's own: a new run takes exactly this folder.
   *
   * @param root the run folder
   * @throws NullPointerException if {@code root} is null
   */
  public RunFolder(Path root) {
    this(root, false);
  }

  /**
   * The folder for a new run: {@code dir/name}, or {@code dir/<yyyyMMdd-HHmmss>} when the name is empty (a
   * {@linkplain #stamped() stamped} folder: a run started in the same second as another, whose folder that is, takes
   * {@code <yyyyMMdd-HHmmss>-2}, and so on; {@link TrainingRun#folder()} says which).
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
    return new RunFolder(run, name == null || name.isBlank());
  }

  /**
   * The folder a new run takes, created: this one, or where it is {@linkplain #stamped() stamped}, the first of
   * {@code root}, {@code root-2}, {@code root-3}, ... that does not exist, made at once ({@link Files#createDirectory}
   * makes it for one process only), so two runs started in the same second never share one.
   */
  RunFolder claim() {
    if (!stamped) {
      return this;
    }
    try {
      if (root.getParent() != null) {
        Files.createDirectories(root.getParent());
      }
      for (int k = 1; k <= 10_000; k++) {
        Path p = k == 1 ? root : root.resolveSibling(root.getFileName() + "-" + k);
        try {
          Files.createDirectory(p);
          return new RunFolder(p);
        } catch (java.nio.file.FileAlreadyExistsException taken) {
          // another run's (or anything else's): the next
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(root + ": cannot create the run folder: "
          + io.github.diffusion4j.io.FileProblems.describe(e), e);
    }
    throw new IllegalStateException(root + ": 10000 run folders of this name and second exist already; set a name");
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
