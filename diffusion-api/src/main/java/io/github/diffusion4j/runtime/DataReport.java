package io.github.diffusion4j.runtime;

import io.github.diffusion4j.data.SkippedImage;
import io.github.diffusion4j.io.ImageCache;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * What a configuration's data turned out to be: for the training and the evaluation set, where the images
 * came from, how many are used, how many were skipped as unusable (and which), and the cache they are read
 * from. A training run records it in {@code metrics.jsonl} (a line of {@code "type":"data"}) and the command
 * line prints it.
 *
 * @param kind the {@code data.kind}
 * @param train the training set
 * @param eval the evaluation set, if there is one
 */
public record DataReport(String kind, Part train, Optional<Part> eval) {

  /**
   * Checks the values.
   *
   * @param kind the {@code data.kind}
   * @param train the training set
   * @param eval the evaluation set, if any
   */
  public DataReport {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(train, "train");
    Objects.requireNonNull(eval, "eval");
  }

  /**
   * One set of images.
   *
   * @param source where the images come from (a folder, files, or "generated")
   * @param images the images used
   * @param available the usable images the source holds (before {@code train_size} / {@code eval_size})
   * @param skippedCount the items left out as unusable
   * @param skipped the first of them (up to {@link ImageCache#SKIPPED_KEPT}), and why
   * @param classes the class names (sub-folders), empty when there are none
   * @param cacheFile the cache the images are read from, if any
   * @param cacheStatus whether the cache was built, rebuilt or reused
   * @param cacheNote why the cache was rebuilt, or empty
   * @param cacheSeconds the time the cache took to build, 0 when reused
   */
  public record Part(String source, int images, int available, int skippedCount, List<SkippedImage> skipped,
      List<String> classes, Optional<Path> cacheFile, Optional<ImageCache.Status> cacheStatus,
      Optional<String> cacheNote, double cacheSeconds) {

    /**
     * Checks and copies the values.
     *
     * @param source where the images come from
     * @param images the images used
     * @param available the usable images of the source
     * @param skippedCount the items left out
     * @param skipped the first of them
     * @param classes the class names
     * @param cacheFile the cache, if any
     * @param cacheStatus built, rebuilt or reused
     * @param cacheNote why it was rebuilt
     * @param cacheSeconds the build time
     */
    public Part {
      Objects.requireNonNull(source, "source");
      skipped = List.copyOf(skipped);
      classes = List.copyOf(classes);
      Objects.requireNonNull(cacheFile, "cacheFile");
      Objects.requireNonNull(cacheStatus, "cacheStatus");
      Objects.requireNonNull(cacheNote, "cacheNote");
    }

    /**
     * A set held in memory, with no cache and nothing skipped.
     *
     * @param source where the images come from
     * @param images the images used
     * @param available the images of the source
     * @return the part
     */
    public static Part inMemory(String source, int images, int available) {
      return new Part(source, images, available, 0, List.of(), List.of(), Optional.empty(), Optional.empty(),
          Optional.empty(), 0);
    }

    /**
     * A set read from an image cache.
     *
     * @param source where the images come from
     * @param images the images used
     * @param cache the cache
     * @return the part
     */
    public static Part cached(String source, int images, ImageCache cache) {
      return new Part(source, images, cache.count(), cache.skippedCount(), cache.skipped(), cache.classes(),
          Optional.of(cache.file()), Optional.of(cache.status()), Optional.ofNullable(cache.reason()),
          cache.buildSeconds());
    }

    /**
     * One line: the count, the source, the skipped count, the cache.
     *
     * @param name "train" or "eval"
     * @return the line
     */
    public String summary(String name) {
      StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%s: %,d images from %s", name, images,
          source));
      if (images < available) {
        b.append(String.format(Locale.ROOT, " (%,d of %,d)", images, available));
      }
      if (!classes.isEmpty()) {
        b.append(String.format(Locale.ROOT, ", %d classes", classes.size()));
      }
      if (skippedCount > 0) {
        b.append(String.format(Locale.ROOT, "; %,d skipped as unusable", skippedCount));
      }
      cacheFile.ifPresent(f -> {
        b.append("; cache ").append(f).append(' ');
        switch (cacheStatus.orElseThrow()) {
          case REUSED -> b.append("reused");
          case BUILT -> b.append(String.format(Locale.ROOT, "built in %.1f s", cacheSeconds));
          case REBUILT -> b.append(String.format(Locale.ROOT, "rebuilt in %.1f s (%s)", cacheSeconds,
              cacheNote.orElse("stale")));
          default -> throw new AssertionError(cacheStatus);
        }
      });
      return b.toString();
    }
  }

  /**
   * The report as lines for a console: one per set, then the first skipped images.
   *
   * @param maxSkipped the most skipped images to name per set
   * @return the lines
   */
  public List<String> lines(int maxSkipped) {
    List<String> out = new ArrayList<>();
    out.add(train.summary("train"));
    eval.ifPresent(e -> out.add(e.summary("eval")));
    skippedLines(out, train, maxSkipped);
    eval.ifPresent(e -> skippedLines(out, e, maxSkipped));
    return out;
  }

  private static void skippedLines(List<String> out, Part p, int max) {
    for (int i = 0; i < Math.min(max, p.skipped().size()); i++) {
      out.add("  skipped " + p.skipped().get(i));
    }
    if (p.skippedCount() > Math.min(max, p.skipped().size())) {
      out.add("  ... and " + (p.skippedCount() - Math.min(max, p.skipped().size())) + " more");
    }
  }
}
