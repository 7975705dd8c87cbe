package io.github.diffusion4j.cli;

import io.github.diffusion4j.io.ImageGrid;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.runtime.Diffusion;
import io.github.diffusion4j.runtime.TrainedModel;
import io.github.diffusion4j.sampling.Latents;
import io.github.diffusion4j.sampling.Sampler;
import io.github.diffusion4j.sampling.SamplingListener;
import io.github.diffusion4j.sampling.SamplingRequest;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorScope;
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
        + "latents and writes the images as a strip."})
final class InterpolateCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "A checkpoint folder or a run folder.")
  Path checkpoint;

  @Option(names = "--count", paramLabel = "N", defaultValue = "8", description = "Images along the path, at least 2 (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the two end latents.")
  long seed;

  @Option(names = "--steps", paramLabel = "N", description = "DDIM steps (default: the config's).")
  Integer steps;

  @Option(names = "--backend", paramLabel = "NAME", description = "Backend (default: the config's).")
  String backend;

  @Option(names = "--out", paramLabel = "FILE", defaultValue = "interpolation.png", description = "Output PNG (default: ${DEFAULT-VALUE}).")
  Path out;

  @Override
  public Integer call() {
    if (count < 2) {
      throw new BadInputException("--count " + count + ": an interpolation needs at least 2 images");
    }
    if (!"png".equals(OutputFiles.format("--out", out))) {
      throw new BadInputException("--out " + out + ": interpolate writes a .png strip");
    }
    OutputFiles.checkWritable("--out", out);
    List<String> overrides = new ArrayList<>(List.of("sampling.sampler=ddim", "sampling.eta=0.0"));
    if (backend != null) {
      overrides.add("backend=" + backend);
    }
    // a strip too long to show is refused before the model is loaded, where its configuration says the shape
    TrainedModel.imageShape(checkpoint, overrides).ifPresent(this::strip);
    try (TrainedModel m = SampleCommand.loadFor(checkpoint, overrides, steps, spec.commandLine().getErr())) {
      Diffusion d = m.diffusion();
      Shape image = d.imageShape();
      ImageGrid.Options layout = strip(image);
      float[] a = Noise.seeded(seed).split(0).normals(image.size());
      float[] b = Noise.seeded(seed).split(1).normals(image.size());
      Sampler ddim = d.sampler();
      float[] images;
      try (TensorScope s = d.backend().tensors().openScope()) {
        Tensor latents = Latents.interpolate(d.backend().tensors(), a, b, image, count);
        SamplingRequest r = SamplingRequest.of(count, image, seed, d.plan()).withInitialNoise(latents);
        images = m.sample(ddim, r, SamplingListener.NONE);
      }
      ImageGrid.writePng(out, images, Shape.batchOf(count, image), layout);
      spec.commandLine().getOut().println("wrote " + out + " (" + count + " images, DDIM " + d.plan().size() + " steps)");
    }
    return DiffusionCli.OK;
  }

  /** The strip's layout for {@code count} images of {@code image}, refused if too long to show. */
  private ImageGrid.Options strip(Shape image) {
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
