package io.github.diffusion4j.cli;

import io.github.diffusion4j.io.DiffusersFolder;
import io.github.diffusion4j.runtime.DdpmImport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code diffusion convert}: the DDPM/DDIM authors' PyTorch checkpoints as a checkpoint folder, in one step. */
@Command(name = "convert", mixinStandardHelpOptions = true,
    description = {"Converts a DDPM or DDIM authors' PyTorch checkpoint (a torch.save of their Model's state dict: "
        + "pesser/pytorch_diffusion's .ckpt, ermongroup/ddim's ckpt.pth) into a folder that 'diffusion sample "
        + "--checkpoint' reads, without Python. The architecture is read from the tensors; the image size is known for "
        + "the published shapes (32 CIFAR-10, 64 CelebA, 256 LSUN/CelebA-HQ) and otherwise given."})
final class ConvertCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE", description = "The torch.save file (.ckpt, .pth, .pt, .bin).")
  Path file;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "The folder to write (new).")
  Path out;

  @Option(names = "--image-size", paramLabel = "N", description = "The image size (default: the published shapes').")
  Integer imageSize;

  @Option(names = "--entry", paramLabel = "NAME", description = {"Where the state dict is in the file: '' (the root), "
      + "'[0]' (an item of a list), a key of a dict (default: the model's only state dict, or the last one of a DDIM "
      + "list: its EMA weights)."})
  String entry;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "diffusion4j",
      description = "diffusion4j (a checkpoint folder, model.kind ddpm) or diffusers (a DDPMPipeline folder) "
          + "(default: ${DEFAULT-VALUE}).")
  String format;

  @Override
  public Integer call() {
    DdpmImport.Format f = switch (format) {
      case "diffusion4j" -> DdpmImport.Format.DIFFUSION4J;
      case "diffusers" -> DdpmImport.Format.DIFFUSERS;
      default -> throw new BadInputException("--format " + format + ": use diffusion4j or diffusers");
    };
    if (imageSize != null && (imageSize < 1 || imageSize > 1 << 14)) {
      throw new BadInputException("--image-size " + imageSize + ": must be in [1, 16384]");
    }
    if (Files.isDirectory(file) && DiffusersFolder.isDiffusersFolder(file)) {
      throw new BadInputException(file + ": a diffusers folder, which needs no conversion: sample it as it is "
          + "(diffusion sample --checkpoint " + ShellWords.quote(file)
          + "); convert takes a torch.save file (.ckpt, .pth, .pt, .bin)");
    }
    if (!Files.isRegularFile(file)) {
      throw new BadInputException(file + ": " + (Files.exists(file) ? "not a file" : "no such file"));
    }
    if (Files.exists(out) && !OutputFiles.isEmptyFolder(out)
        && !(f == DdpmImport.Format.DIFFUSERS && DiffusersFolder.isDiffusersFolder(out))) {
      throw new BadInputException("--out " + out + ": exists; choose a new folder");
    }
    DiffusersFolder.checkReplaceable(out); // before anything is loaded
    OutputFiles.checkFolderWritable("--out", out);
    DdpmImport.Result r;
    // Ctrl-C (SIGINT) or SIGTERM interrupts the conversion, whose next file operation then fails and deletes the
    // temporary folder it writes into (a 256x256 model's is 455 MB, which stayed behind as --out's .tmp- sibling)
    Thread converting = Thread.currentThread();
    try (InterruptGuard guard = new InterruptGuard(converting::interrupt)) {
      try {
        r = DdpmImport.convert(file, out, new DdpmImport.Options(
            imageSize == null ? OptionalInt.empty() : OptionalInt.of(imageSize), Optional.ofNullable(entry), f));
      } catch (RuntimeException e) {
        return guard.said(e, spec.commandLine().getOut(), "nothing was written to " + out);
      }
      // said while the guard holds the JVM: a signal just after the write must not end it before the line
      var s = r.spec();
      spec.commandLine().getOut().println("wrote " + out + " (" + format + "): the DDPM authors' model, "
          + s.imageShape().toCompactString() + " images" + (r.imageSizeGuessed() ? " (the published size for ch_mult "
          + s.channelMult() + "; --image-size to change)" : "") + ", ch " + s.baseChannels() + ", ch_mult "
          + s.channelMult() + ", attention at " + s.attnResolutions() + (r.entry().isEmpty() ? "" : ", from "
          + r.entry()));
      spec.commandLine().getOut().println("sample it: diffusion sample --checkpoint " + ShellWords.quote(out)
          + " --count 16 --out samples.png");
      spec.commandLine().getOut().flush();
    }
    return DiffusionCli.OK;
  }
}
