package io.github.diffusion4j.cli;

import io.github.diffusion4j.config.LoadedConfig;
import io.github.diffusion4j.data.Cifar10Batches;
import io.github.diffusion4j.data.DataFileException;
import io.github.diffusion4j.data.ImageFit;
import io.github.diffusion4j.data.ImageFolder;
import io.github.diffusion4j.data.ImageInfo;
import io.github.diffusion4j.data.ImageSource;
import io.github.diffusion4j.runtime.DataReport;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.tensor.Shape;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code diffusion data check}: what the SDK sees in a folder of images (or CIFAR-10 batches), decoding every
 * image; or, with {@code -c}, a configuration's data exactly as training prepares it (building or reusing
 * the image cache).
 */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = {"Decodes every image of a folder (or CIFAR-10 batches) and prints what the SDK sees: the count, "
        + "classes, sizes, colour types and every unusable file. With --image-shape, also what fitting to that "
        + "shape leaves out. With -c, prepares a configuration's data as training does (builds or reuses the "
        + "image cache) and prints its report.",
        "Exit code 0 when every image is usable (-c: when training could start), 2 otherwise."})
final class DataCheckCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(arity = "0..1", paramLabel = "DIR", description = "A folder of images, or of CIFAR-10 batches.")
  Path dir;

  @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Check this configuration's data instead.")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "With -c: override a key (repeatable).")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--image-shape", paramLabel = "C,H,W",
      description = "Fit every image to this shape, as data.image_shape does (C: 1 gray, 3 RGB).")
  String imageShape; // one C,H,W, parsed by fit() (CommaInts)

  @Option(names = "--resize", paramLabel = "crop|pad", defaultValue = "crop",
      description = "With --image-shape: crop (default) or pad, as data.resize.")
  String resize;

  @Option(names = "--upscale", description = "With --image-shape: enlarge smaller images, as data.upscale.")
  boolean upscale;

  @Option(names = "--show", paramLabel = "N", defaultValue = "20", description = "Name at most N bad files (default 20).")
  int show;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if ((dir == null) == (config == null)) {
      throw new BadInputException("give a folder (diffusion data check DIR) or a configuration (-c FILE)"
          + (dir == null ? "" : ", not both"));
    }
    if (show < 0) {
      throw new BadInputException("--show " + show + ": must be 0 or more");
    }
    if (config != null) {
      return checkConfig(out);
    }
    if (!overrides.isEmpty()) {
      throw new BadInputException("--set applies only with -c FILE");
    }
    ImageFit fit = fit();
    if (!Files.isDirectory(dir)) {
      boolean yaml = Files.isRegularFile(dir) && dir.getFileName() != null
          && DiffusionCli.isYamlName(dir.getFileName().toString());
      throw new BadInputException(dir + ": " + (Files.exists(dir) ? "not a folder" : "no such folder")
          + (yaml ? "; for a configuration's data: diffusion data check -c " + ShellWords.quote(dir) : ""));
    }
    // Ctrl-C (SIGINT) or SIGTERM ends the check once the images being decoded are done, and says so while the guard
    // holds the JVM (it ended at once without a word)
    Thread checking = Thread.currentThread();
    try (InterruptGuard guard = new InterruptGuard(checking::interrupt)) {
      try {
        return checkFolder(out, fit, checking);
      } catch (RuntimeException e) { // the check's cancellation
        return guard.said(e, out, "the check of " + dir + " was not finished");
      }
    }
  }

  /** {@code data check DIR}, under the caller's interrupt guard: an interrupt of {@code checking} ends it. */
  private int checkFolder(PrintWriter out, ImageFit fit, Thread checking) {
    if (Cifar10Batches.isBatchFolder(dir)) {
      Path batches = Cifar10Batches.locate(dir);
      out.println("CIFAR-10 binary batches in " + batches);
      ImageFit records = fit != null ? fit : new ImageFit(Shape.of(3, 32, 32), ImageFit.Resize.CROP, false);
      int bad = inspect(out, "train", Cifar10Batches.train(dir, records), fit, checking);
      if (Files.exists(batches.resolve(Cifar10Batches.TEST_FILE))) {
        bad += inspect(out, "test", Cifar10Batches.test(dir, records), fit, checking);
      } else {
        out.println("test: no " + Cifar10Batches.TEST_FILE + " (training will have no evaluation set)");
      }
      return bad == 0 ? DiffusionCli.OK : DiffusionCli.BAD_INPUT;
    }
    ImageFolder folder = ImageFolder.scan(dir, fit != null ? fit : new ImageFit(Shape.of(1, 1, 1),
        ImageFit.Resize.PAD, false));
    out.println("folder " + folder.root());
    if (folder.ignoredCount() > 0) {
      out.printf(Locale.ROOT, "ignored: %,d %s not named as images (%s%s)%n", folder.ignoredCount(),
          folder.ignoredCount() == 1 ? "file" : "files",
          String.join(", ", folder.ignored().subList(0, Math.min(5, folder.ignored().size()))),
          folder.ignoredCount() > 5 ? ", ..." : "");
    }
    return inspect(out, "images", folder, fit, checking) == 0 ? DiffusionCli.OK : DiffusionCli.BAD_INPUT;
  }

  private int checkConfig(PrintWriter out) {
    LoadedConfig loaded = TrainCommand.load(config, null, overrides);
    try (Diffusion d = Diffusion.open(loaded)) {
      DataReport report = DataConsole.prepare(d, out, "the data was not prepared (the cache was not built)");
      if (report == null) {
        return DiffusionCli.FAILURE;
      }
      out.println("data kind " + report.kind() + ", images " + d.imageShape().toCompactString());
      DataConsole.print(out, report, show);
    }
    return DiffusionCli.OK;
  }

  private ImageFit fit() {
    if (imageShape == null) {
      if (!resize.equals("crop") || upscale) {
        throw new BadInputException("--resize and --upscale need --image-shape C,H,W");
      }
      return null;
    }
    String given = imageShape;
    int[] dims = CommaInts.parse(given, 3);
    if (dims == null || dims[0] != 1 && dims[0] != 3 || dims[1] < 1 || dims[2] < 1) {
      throw new BadInputException("--image-shape " + given + ": give C,H,W with C 1 (gray) or 3 (RGB) and positive "
          + "H and W, e.g. 3,32,32");
    }
    ImageFit.Resize r = switch (resize) {
      case "crop" -> ImageFit.Resize.CROP;
      case "pad" -> ImageFit.Resize.PAD;
      default -> throw new BadInputException("--resize " + resize + ": use crop or pad");
    };
    Shape shape;
    try {
      shape = Shape.of(dims);
    } catch (IllegalArgumentException e) { // more elements than an array holds
      throw new BadInputException("--image-shape " + given + ": " + e.getMessage() + "; give smaller H and W");
    }
    return new ImageFit(shape, r, upscale);
  }

  /**
   * Decodes every item (in parallel, a chunk at a time) and prints the summary and the bad items.
   *
   * @param checking the command's thread, whose interrupt (the guard's, on a signal) ends the check once the chunk
   *     being decoded is done (its remaining items are skipped)
   * @return the number of bad items
   * @throws CancellationException if {@code checking} is interrupted
   */
  private int inspect(PrintWriter out, String name, ImageSource source, ImageFit fit, Thread checking) {
    int n = source.size();
    Map<String, Integer> sizes = new LinkedHashMap<>();
    Map<String, Integer> colours = new LinkedHashMap<>();
    int[] perClass = new int[source.classes().size()];
    int unlabelled = 0;
    List<DataFileException> bad = new ArrayList<>();
    int badCount = 0;
    DataConsole progress = new DataConsole(out, TrainingConsole.isTerminal(), false);
    int chunk = 512;
    for (int first = 0; first < n; first += chunk) {
      stopIfInterrupted(checking, progress, first, n, name);
      int from = first;
      List<Object> results = IntStream.range(first, Math.min(n, first + chunk)).parallel()
          .mapToObj(i -> checking.isInterrupted() ? null : decode(source, i, fit)).toList();
      stopIfInterrupted(checking, progress, first, n, name); // before the chunk's skipped items (null) are counted
      for (int k = 0; k < results.size(); k++) {
        Object r = results.get(k);
        if (r instanceof DataFileException e) {
          badCount++;
          if (bad.size() < show) {
            bad.add(e);
          }
          continue;
        }
        ImageInfo info = (ImageInfo) r;
        sizes.merge(info.width() + "x" + info.height(), 1, Integer::sum);
        colours.merge(info.colour(), 1, Integer::sum);
        int label = source.label(from + k);
        if (label >= 0) {
          perClass[label]++;
        } else {
          unlabelled++;
        }
      }
      if (n > 2 * chunk) {
        progress.onProgress(name, Math.min(n, first + chunk), n);
      }
    }
    out.printf(Locale.ROOT, "%s: %,d %s, %,d usable%s%n", name, n, source instanceof Cifar10Batches ? "records"
        : "files", n - badCount, fit == null ? "" : " as " + fit.describe());
    if (perClass.length > 0) {
      StringBuilder b = new StringBuilder();
      for (int c = 0; c < perClass.length; c++) {
        b.append(c == 0 ? "" : ", ").append(source.classes().get(c)).append(' ').append(String.format(Locale.ROOT,
            "%,d", perClass[c]));
      }
      if (unlabelled > 0) {
        b.append(String.format(Locale.ROOT, "; %,d directly in the folder (no class)", unlabelled));
      }
      out.printf(Locale.ROOT, "  classes: %d (%s)%n", perClass.length, b);
    } else if (source instanceof ImageFolder) {
      out.println("  classes: none (no sub-folders)");
    }
    out.println("  sizes: " + top(sizes, 5));
    out.println("  colour: " + top(colours, 8));
    if (badCount > 0) {
      out.printf(Locale.ROOT, "  unusable: %,d%n", badCount);
      for (DataFileException e : bad) {
        // the fit is this command's options, not the keys (checkConfig reports through DataConsole)
        out.println("    " + e.getMessage().replace(ImageFit.TOO_SMALL_FIX, "give --upscale to enlarge such images, or "
            + "--resize pad to pad them"));
      }
      if (badCount > bad.size()) {
        out.printf(Locale.ROOT, "    ... and %,d more (--show N lists more)%n", badCount - bad.size());
      }
    }
    return badCount;
  }

  /** Ends the check where {@code checking} is interrupted (the guard's stop), its progress line first. */
  private static void stopIfInterrupted(Thread checking, DataConsole progress, int done, int n, String name) {
    if (checking.isInterrupted()) {
      progress.close(); // the progress line ends before the guard's
      throw new CancellationException("interrupted after " + done + " of " + n + " " + name);
    }
  }

  private static Object decode(ImageSource source, int index, ImageFit fit) {
    try {
      if (fit == null && source instanceof ImageFolder f) {
        return f.inspect(index);
      }
      return source.read(index, new byte[source.imageShape().size()], 0);
    } catch (DataFileException e) {
      return e;
    }
  }

  /** The most common values with their counts, then how many others. */
  private static String top(Map<String, Integer> counts, int max) {
    if (counts.isEmpty()) {
      return "-";
    }
    List<Map.Entry<String, Integer>> sorted = counts.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()))
        .toList();
    String shown = sorted.stream().limit(max).map(e -> String.format(Locale.ROOT, "%s %,d", e.getKey(), e.getValue()))
        .collect(Collectors.joining(", "));
    return sorted.size() > max ? shown + String.format(Locale.ROOT, ", and %d other values", sorted.size() - max)
        : shown;
  }
}
