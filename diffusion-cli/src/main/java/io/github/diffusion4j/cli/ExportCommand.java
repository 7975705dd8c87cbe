package io.github.diffusion4j.cli;

import io.github.diffusion4j.config.ConfigLoader;
import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.runtime.TrainedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffusion export}: a checkpoint as a diffusers {@code DDPMPipeline} folder. */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Writes a checkpoint as a diffusers DDPMPipeline folder (model_index.json, unet/, scheduler/) that "
        + "Python loads with DDPMPipeline.from_pretrained(DIR) or UNet2DModel.from_pretrained(DIR, subfolder=\"unet\"). "
        + "Models of kind ddpm, unet and unet2d; the EMA weights when the checkpoint has them (--set sampling.use_ema=false "
        + "for the raw weights)."})
final class ExportCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "A checkpoint folder or a run folder.")
  Path checkpoint;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "diffusers",
      description = "The folder format: diffusers (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "The folder to write (new, or a diffusers folder to replace).")
  Path out;

  @Option(names = "--backend", paramLabel = "NAME", description = "Backend to load the weights with (default: the config's).")
  String backend;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a key of the checkpoint's config.")
  List<String> overrides = new ArrayList<>();

  @Override
  public Integer call() {
    if (!format.equals("diffusers")) {
      throw new BadInputException("--format " + format + ": supported is diffusers");
    }
    if (Files.exists(out) && !OutputFiles.isEmptyFolder(out) && !DiffusersFolder.isDiffusersFolder(out)) {
      throw new BadInputException("--out " + out + ": exists and is not a diffusers folder; choose a new folder");
    }
    DiffusersFolder.checkReplaceable(out); // before anything is loaded
    OutputFiles.checkFolderWritable("--out", out);
    List<String> all = new ArrayList<>(overrides);
    if (backend != null) {
      all.add(ConfigLoader.stringOverride("backend", backend));
    }
    // Ctrl-C (SIGINT) or SIGTERM while the model loads says so at once (InterruptGuard.load; the guard held the JVM
    // until the load was done); later it interrupts the export, whose next file operation then fails and deletes the
    // temporary folder it writes into (a 256x256 model's is 455 MB, which stayed behind as --out's .tmp- sibling)
    Thread exporting = Thread.currentThread();
    try (InterruptGuard guard = new InterruptGuard(exporting::interrupt);
        TrainedModel m = guard.load(spec.commandLine().getOut(), "nothing was written to " + out,
            () -> SampleCommand.load(checkpoint, all, spec.commandLine().getErr()))) {
      if (m == null) {
        return DiffusionCli.FAILURE; // a signal came while it loaded: said, and the JVM is ending
      }
      try {
        m.exportDiffusers(out);
      } catch (IllegalArgumentException e) {
        throw new BadInputException("--checkpoint " + checkpoint + ": " + e.getMessage());
      } catch (RuntimeException e) {
        return guard.said(e, spec.commandLine().getOut(), "nothing was written to " + out);
      }
      spec.commandLine().getOut().println("wrote " + out + " (diffusers DDPMPipeline: " + m.model().spec().kind()
          + " as UNet2DModel, " + m.model().spec().network().parameterCount() + " parameters)");
      if (m.diffusion().config().sampling().varianceType() == io.github.diffusion4j.sampling.VarianceType.TUTORIAL) {
        // diffusers' DDPMScheduler takes a variance_type it does not know for fixed_small, without a word
        spec.commandLine().getErr().println("warning: sampling.variance_type is tutorial (sigma = beta), which "
            + "diffusers' DDPMScheduler does not know: DDPMPipeline samples this folder with fixed_small (this SDK "
            + "reads it back as tutorial); export with --set sampling.variance_type=fixed_small or fixed_large to "
            + "say which diffusers is to use");
      }
    }
    return DiffusionCli.OK;
  }
}
