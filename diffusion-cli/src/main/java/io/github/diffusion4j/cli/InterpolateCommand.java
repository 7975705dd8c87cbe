package io.github.diffusion4j.cli;

import io.github.diffusion4j.io.ImageGrid;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.TrainedModel;
import io.github.diffusion4j.sampling.Latents;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.tensor.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffusion interpolate}: deterministic DDIM along a spherical path between two latents. */
@Command(name = "interpolate", mixinStandardHelpOptions = true,
    description = {"Samples with deterministic DDIM (eta = 0) along a spherical interpolation between two noise "
        + "latents and writes the images as a strip.",
        "--between I,J starts at sample I and ends at sample J of 'sample --seed S' (with --sampler ddim --eta 0 and "
        + "the same --steps and --set, those are its images I and J); without it, the ends are two latents of the "
        + "seed's own.",
        "--images A,B starts and ends at two image files instead: DDIM inversion finds the latents that DDIM samples "
        + "back to them (approximately; the closer, the more --steps).",
        "--out FILE.png writes the strip; FILE.npy or FILE.safetensors the raw images (float32 N x C x H x W in "
        + "[0, 1])."})
final class InterpolateCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "A checkpoint folder or a run folder.")
  Path checkpoint;

  @Option(names = "--count", paramLabel = "N", defaultValue = "8", description = "Images along the path, at least 2 (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
      description = "Seed of the two end latents (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--between", paramLabel = "I,J", split = ",", hideParamSyntax = true,
      description = "Start at sample I and end at sample J of 'sample --seed S' (sample numbers from 0).")
  long[] between;

  @Option(names = "--images", paramLabel = "A,B", split = ",", hideParamSyntax = true,
      description = "Start at image file A and end at image file B (centre-cropped and resized to the model's images; "
          + "a file whose name has a comma: give a folder of the two).")
  List<Path> images;

  @Option(names = "--steps", paramLabel = "N", description = "DDIM steps (default: the config's).")
  Integer steps;

  @Option(names = "--backend", paramLabel = "NAME", description = "Backend (default: the config's).")
  String backend;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Override a key of the checkpoint's config, as 'sample --set' does.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--out", paramLabel = "FILE", defaultValue = "interpolation.png",
      description = "Output: .png (a strip), .npy or .safetensors (default: ${DEFAULT-VALUE}).")
  Path out;

  @Override
  public Integer call() {
    String onlyDdim = "interpolate always walks deterministic DDIM (eta 0), whatever the configuration says; the --set "
        + "would not apply";
    SamplingOverrides.refuseTakenElsewhere(overrides, java.util.Map.of(
        "seed", "interpolate takes the seed of its end latents from --seed (default 0), not from the configuration; "
            + "give --seed VALUE",
        "sampling.count", "interpolate takes the number of images from --count (default 8), not from the "
            + "configuration; give --count VALUE",
        "sampling.sampler", onlyDdim,
        "sampling.eta", onlyDdim));
    if (count < 2) {
      throw new BadInputException("--count " + count + ": an interpolation needs at least 2 images");
    }
    if (between != null && (between.length != 2 || between[0] < 0 || between[1] < 0 || between[0] == between[1])) {
      throw new BadInputException("--between " + java.util.Arrays.stream(between).mapToObj(Long::toString)
          .collect(java.util.stream.Collectors.joining(",")) + ": give two different sample numbers I,J, each at "
          + "least 0 (the samples of 'sample --seed " + seed + "' that the strip starts and ends at)");
    }
    if (images != null && between != null) {
      throw new BadInputException("--images and --between: give one of them (the strip's ends are either two image "
          + "files or two samples of the seed)");
    }
    boolean png = "png".equals(OutputFiles.format("--out", out));
    OutputFiles.checkWritable("--out", out);
    // the user's settings, then deterministic DDIM over them (a --set of the sampler or eta cannot undo it)
    List<String> all = SamplingOverrides.of(overrides, backend, "ddim", 0.0);
    // a strip too long to show and the --images are refused before the model is loaded, where its configuration
    // says the shape
    java.util.Optional<Shape> known = TrainedModel.imageShape(checkpoint, all);
    InputImages checked = images == null ? null : known.map(this::ends).orElse(null);
    known.ifPresent(shape -> {
      if (png) {
        strip(shape);
        checkCount(shape);
      } else {
        checkCount(shape);
        OutputFiles.checkCapacity("--out", out, count, shape);
      }
    });
    // Ctrl-C (SIGINT) or SIGTERM while the model loads says so at once (InterruptGuard.load); later it interrupts the
    // inversion or sampling, which ends before its next step; once every image is drawn, a signal waits for the file
    // to be written (InterruptGuard.finish)
    try (InterruptGuard guard = new InterruptGuard(Thread.currentThread()::interrupt);
        TrainedModel m = guard.load(spec.commandLine().getOut(), "nothing was written to " + out,
            () -> SampleCommand.loadFor(checkpoint, all, steps, spec.commandLine().getErr()))) {
      if (m == null) {
        return DiffusionCli.FAILURE; // a signal came while it loaded: said, and the JVM is ending
      }
      Diffusion d = m.diffusion();
      Shape image = d.imageShape();
      ImageGrid.Options layout = png ? strip(image) : null;
      checkCount(image);
      SamplingRequest request = d.request(count, seed);
      float[] a;
      float[] b;
      InputImages ends = checked;
      float[] images;
      try {
        if (this.images != null && checked == null) { // read here where only the model says the images' shape
          ends = ends(image);
        }
        if (ends != null) { // the latents DDIM samples back to the two images
          float[][] latents = m.invert(ends.read(0), ends.read(1));
          a = latents[0];
          b = latents[1];
        } else if (between != null) { // the latents 'sample --seed S' draws for samples I and J (its noise version's)
          a = Latents.initialLatent(request, between[0]);
          b = Latents.initialLatent(request, between[1]);
        } else {
          a = Noise.seeded(seed).split(0).normals(image.size());
          b = Noise.seeded(seed).split(1).normals(image.size());
        }
        images = m.interpolate(a, b, count, SamplingListener.NONE);
        float[] drawn = images;
        int planned = d.plan().size();
        InputImages shown = ends;
        guard.finish(() -> write(drawn, image, layout, "ddim", planned, shown)); // all drawn: a signal waits
      } catch (RuntimeException e) { // the sampling's cancellation (or a failed write)
        return guard.said(e, spec.commandLine().getOut(), "nothing was written to " + out); // said before the JVM goes
      }
      spec.commandLine().getOut().println("wrote " + out + " (" + count + " images, DDIM " + d.plan().size() + " steps)");
      if (ends != null && !Thread.currentThread().isInterrupted()) { // a signal came during the write: done
        int k = image.size();
        boolean fewer = d.plan().size() < d.schedule().size();
        spec.commandLine().getOut().printf(java.util.Locale.ROOT, "the ends differ from %s and %s by a mean of %.1f and "
            + "%.1f levels of 255 (DDIM inversion over %d steps%s)%n", ends.file(0).getFileName(),
            ends.file(1).getFileName(), meanLevels(ends.read(0), images, 0, k),
            meanLevels(ends.read(1), images, (count - 1) * k, k), d.plan().size(),
            fewer ? "; more --steps come closer" : "");
      }
    }
    return DiffusionCli.OK;
  }

  /** Writes the drawn images to {@code --out}: the strip ({@code layout}), or the raw images with their metadata. */
  private void write(float[] images, Shape image, ImageGrid.Options layout, String sampler, int planned,
      InputImages ends) {
    if (layout != null) {
      ImageGrid.writePng(out, images, Shape.batchOf(count, image), layout);
      return;
    }
    try (OutputFiles.SampleOutput output = OutputFiles.samples("--out", out, count, image, java.util.Map.of(
        "range", "[0, 1]", "sampler", sampler, "seed", Long.toString(seed), "steps", Integer.toString(planned),
        "between", between == null ? "none" : between[0] + "," + between[1],
        "images", ends == null ? "none" : ends.file(0).getFileName() + "," + ends.file(1).getFileName()))) {
      output.accept(0, images, count);
      output.commit();
    }
  }

  /** The two --images, checked for the model's {@code image} shape. */
  private InputImages ends(Shape image) {
    InputImages ends = InputImages.of("--images", images, image);
    if (ends.size() != 2) {
      throw new BadInputException("--images: " + ends.size() + (ends.size() == 1 ? " image" : " images")
          + "; give two, A,B (the strip's start and end)");
    }
    for (int i = 0; i < 2; i++) {
      if (sameFile(out, ends.file(i))) { // the strip replaced the picture, and was then compared with itself
        throw new BadInputException("--out " + out + ": is the --images file " + ends.file(i) + ", which the strip "
            + "would replace; give another --out");
      }
    }
    return ends;
  }

  /** Whether {@code out} exists and is the file {@code input} (by another name too: a link, a relative path). */
  private static boolean sameFile(Path out, Path input) {
    try {
      return Files.exists(out) && Files.isSameFile(out, input);
    } catch (java.io.IOException | SecurityException e) {
      return false;
    }
  }

  /** The mean absolute difference, in 8-bit levels, of an image in {@code [-1, 1]} and a sample in {@code [0, 1]}. */
  private static double meanLevels(float[] image, float[] samples, int offset, int k) {
    double sum = 0;
    for (int j = 0; j < k; j++) {
      sum += Math.abs((image[j] + 1) / 2 - samples[offset + j]);
    }
    return sum / k * 255;
  }

  /**
   * Refuses a {@code --count} whose images, sampled in one piece, would not fit in an array (they were refused as
   * a shape's error, exit 1, not naming the option), or in half of the JVM's heap ({@link #checkHeap}).
   */
  private void checkCount(Shape image) {
    long values = (long) count * image.size();
    if (values > Shape.MAX_ELEMENTS) {
      throw new BadInputException("--count " + count + ": " + count + " images of " + image + " are " + values
          + " values, more than the " + Shape.MAX_ELEMENTS + " an interpolation samples at once; give at most "
          + Shape.MAX_ELEMENTS / image.size());
    }
    checkHeap(count, image, Runtime.getRuntime().maxMemory() / 2);
  }

  /**
   * Copies of all the images an interpolation holds at once in the Java heap: the latents, the tensor sampled from
   * them (a heap backend's copy) and the sampled images.
   */
  static final int HEAP_COPIES = 3;

  /**
   * Refuses, before the model is loaded, a {@code --count} whose images, held at once ({@link #HEAP_COPIES} float
   * copies), would take more than {@code budget} bytes of heap (half of the JVM's, as {@code eval} allows its
   * scoring: the rest is the model's, the batches' and the JVM's); they ran out of memory after the model was loaded
   * (exit 1, not naming the option).
   *
   * @param count the images along the path
   * @param image {@code [C, H, W]}
   * @param budget the heap the images may take, in bytes
   * @throws BadInputException naming {@code --count}, with the largest count that fits and the heap under which it
   *     does
   */
  static void checkHeap(int count, Shape image, long budget) {
    long perImage = 4L * HEAP_COPIES * image.size();
    long need = count * perImage;
    if (need <= budget) {
      return;
    }
    long largest = budget / perImage;
    throw new BadInputException(String.format(java.util.Locale.ROOT, "--count %d: %d images of %s take about %.1f GB "
        + "of Java heap at once (%d float copies of them: the latents, the tensor sampled from them and the images); "
        + "%.1f GB are available for them (half the heap; the rest is the model's and the JVM's): %s, or "
        + "DIFFUSION_JAVA_OPTS=-Xmx%dg for ./diffusion", count, count, image, need / 1e9, HEAP_COPIES, budget / 1e9,
        largest >= 2 ? "give at most " + largest : "no count fits", BadInputException.heapGigabytes(need, budget)));
  }

  /** The strip's layout for {@code count} images of {@code image}, refused if too long to show. */
  private ImageGrid.Options strip(Shape image) {
    OutputFiles.checkDrawable("--out", out, image, "write --out FILE.npy or FILE.safetensors instead");
    try { // without its titles first: a strip too long is refused before a title is made for each of its images
      ImageGrid.checkSize(Shape.batchOf(count, image), ImageGrid.Options.defaults().withNrow(count));
    } catch (IllegalArgumentException e) {
      throw new BadInputException("--count " + count + ": the strip is too long: " + e.getMessage());
    }
    List<String> titles = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      titles.add(String.format(java.util.Locale.ROOT, "%.2f", (double) i / (count - 1)));
    }
    ImageGrid.Options layout = ImageGrid.Options.defaults().withNrow(count).withColumnTitles(titles);
    try {
      ImageGrid.checkSize(Shape.batchOf(count, image), layout);
    } catch (IllegalArgumentException e) {
      throw new BadInputException("--count " + count + ": the strip is too long: " + e.getMessage());
    }
    return layout;
  }
}
