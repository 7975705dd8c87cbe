package io.github.diffusion4j.spark.cli;

import io.github.diffusion4j.cli.BadInputException;
import io.github.diffusion4j.cli.InterruptGuard;
import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.io.FileProblems;
import io.github.diffusion4j.spark.SampleFormat;
import io.github.diffusion4j.spark.SampleJob;
import io.github.diffusion4j.spark.SampleManifest;
import io.github.diffusion4j.spark.SparkDiffusion;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code diffusion spark sample}: samples a checkpoint on Spark into shards and a manifest. */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Samples a checkpoint on Spark: each task samples a shard of whole sampling batches and writes it "
        + "into --out (one .npy, .safetensors or PNG folder per shard), then the driver writes manifest.json with "
        + "every shard's first sample, count and SHA-256.",
        "The images are bit-identical to diffusion sample --count N --seed S (default seed 0 here too)."})
final class SparkSampleCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  SamplingArguments sampling;

  @Option(names = "--count", paramLabel = "N", defaultValue = "64", description = "Number of images (default: "
      + "${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Noise seed (default: "
      + "${DEFAULT-VALUE}, as diffusion sample).")
  long seed;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "A new or empty folder on storage the "
      + "driver and every executor see.")
  Path out;

  @Option(names = "--format", paramLabel = "F", defaultValue = "npy", description = "npy, safetensors or png "
      + "(default: ${DEFAULT-VALUE}).", completionCandidates = Formats.class)
  String format;

  @Option(names = "--verify", description = "After the job, read every shard back on the driver and check it against "
      + "the manifest.")
  boolean verify;

  @Mixin
  ClusterOptions cluster;

  @Override
  public Integer call() {
    // as diffusion sample: a --set of what an option of its own gives is refused, not dropped
    io.github.diffusion4j.cli.SamplingOverrides.refuseTakenElsewhere(sampling.overrides, java.util.Map.of(
        "seed", "spark sample takes its noise seed from --seed (default 0), not from the configuration; give --seed "
            + "VALUE",
        "sampling.count", "spark sample takes the number of images from --count (default 64), not from the "
            + "configuration; give --count VALUE"));
    if (count < 1) {
      throw new BadInputException("--count " + count + ": must be at least 1");
    }
    SampleFormat f = SampleFormat.named(format).orElseThrow(() -> new BadInputException("--format " + format
        + ": unknown (allowed: " + String.join(", ", new Formats()) + ")"));
    checkOutput(out);
    cluster.check();
    SampleJob job = new SampleJob(sampling.checkpoint, sampling.overrides(), count, seed, out, f, cluster.partitions(),
        cluster.shipping(), cluster.threads());
    PrintWriter o = spec.commandLine().getOut();
    long start = System.nanoTime();
    // Ctrl-C (SIGINT) or SIGTERM says one line, as diffusion sample's: while Spark starts or the driver loads the
    // checkpoint, at once (nothing is written yet); during the job's tasks, once the job is cancelled and what it wrote deleted (the folder, if
    // it made it: nothing is left to resume, and the same command starts again); once the manifest is written, the
    // guard holds the JVM for the report (without it the JVM could end before a word)
    try (InterruptGuard guard = ClusterOptions.guard()) { // the job's own shutdown hook cancels it
      java.util.Optional<SampleManifest> done = cluster.run("sample",
          sc -> SparkDiffusion.sample(sc, job, load -> guard.load(o, "nothing was written to " + out, load)),
          sampling::translate, guard, o, "nothing was written to " + out, cancelled(out));
      if (done.isEmpty()) {
        return io.github.diffusion4j.cli.DiffusionCli.FAILURE; // said under Ctrl-C or SIGTERM
      }
      SampleManifest m = done.get();
      double seconds = (System.nanoTime() - start) / 1e9;
      // a signal once the manifest is written: the folder is complete, its reading back is left out
      boolean verified = verify && !io.github.diffusion4j.spark.ShutdownHold.inShutdown();
      if (verified) {
        m.verify(out);
      }
      o.printf(Locale.ROOT, "wrote %s (%d %s in %d %s %s, %s %d steps, seed %d, %s) in %.1f s%s%n",
          out.resolve(SampleManifest.FILE), m.count(), m.count() == 1 ? "image" : "images", m.shards().size(),
          m.format().configName(), m.shards().size() == 1 ? "shard" : "shards", m.sampler(), m.steps(),
          m.seed(), m.backend(), seconds, verified ? "; every shard verified" : "");
      if (verify && !verified) {
        o.println("interrupted; the shards were not verified (" + out + " is complete)");
      }
      o.flush();
    }
    return 0;
  }

  /**
   * What a signal during the job leaves: nothing (the shards its tasks finished are deleted, the folder too if the job
   * made it), so the same command starts again; there is no partial run to resume.
   */
  static String cancelled(Path out) {
    return "nothing was written to " + out + " (the job was cancelled and the shards it wrote deleted; the same "
        + "command starts it again)";
  }

  /**
   * Who holds a job's claim on its folder, where that is a live process of this machine ("another job, process N
   * since T, is writing into it"): its temporaries are not an interrupted run's, and must not be deleted. A claim
   * of a dead process, or of another machine's (shared storage), reads as an interrupted run's, with its text.
   */
  static java.util.Optional<String> claimedBy(Path claim) {
    return claimedBy(claim, "holds only the temporaries of an interrupted run, or of a job on another machine");
  }

  /** As {@link #claimedBy(Path)}, with what the folder holds where no live process of this machine claims it. */
  static java.util.Optional<String> claimedBy(Path claim, String holds) {
    try {
      if (!Files.isRegularFile(claim, java.nio.file.LinkOption.NOFOLLOW_LINKS) || Files.size(claim) > 4096) {
        return java.util.Optional.empty();
      }
      String text = Files.readString(claim).strip(); // "process 1234 since 2026-12-06T03:00:00Z"
      String[] words = text.split(" ");
      if (words.length >= 2 && words[0].equals("process") && words[1].matches("[0-9]{1,18}")
          && ProcessHandle.of(Long.parseLong(words[1])).map(ProcessHandle::isAlive).orElse(false)) {
        return java.util.Optional.of("another job (" + text + ") is writing into it; give another new or empty folder");
      }
      return java.util.Optional.of(holds + " ("
          + SparkDiffusion.CLAIM + ": " + text + "); delete the folder once no job writes there, or give a new or "
          + "empty one");
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }

  /** The output folder: new, or an empty folder; never a file or a folder with something in it. */
  static void checkOutput(Path out) {
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new BadInputException("--out " + out + ": is a file; give a new or empty folder");
    }
    if (Files.isDirectory(out)) {
      try (Stream<Path> entries = Files.list(out)) {
        List<Path> all = entries.toList();
        if (!all.isEmpty() && all.stream().allMatch(p -> AtomicFiles.isTemporary(p.getFileName().toString()))) {
          throw new BadInputException("--out " + out + ": " + claimedBy(out.resolve(SparkDiffusion.CLAIM)).orElse(
              "holds only the temporaries of an interrupted run (e.g. " + all.get(0).getFileName() + "); delete the "
                  + "folder, or give a new or empty one"));
        }
        if (!all.isEmpty() && !Files.exists(out.resolve(SampleManifest.FILE))) {
          // a driver killed with kill -9 (or lost with its machine) leaves its claim, the shards its tasks finished and
          // their temporaries: not a result, and not a folder of the user's either
          java.util.Optional<String> claimed = claimedBy(out.resolve(SparkDiffusion.CLAIM), "holds the shards and "
              + "temporaries of an interrupted run, without " + SampleManifest.FILE + ", or of a job on another machine");
          if (claimed.isPresent()) {
            throw new BadInputException("--out " + out + ": " + claimed.get());
          }
        }
        if (!all.isEmpty()) {
          throw new BadInputException("--out " + out + ": not empty; give a new or empty folder (the shards and "
              + "manifest.json go there)");
        }
      } catch (IOException e) {
        throw new BadInputException("--out " + out + ": cannot be read (" + FileProblems.describe(e) + ")");
      }
    } else {
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null && Files.exists(parent) && !Files.isDirectory(parent)) {
        throw new BadInputException("--out " + out + ": " + parent + " is a file");
      }
    }
  }

  /** The names of the formats, for completion (the main CLI's too, through its description) and errors. */
  static final class Formats implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return Stream.of(SampleFormat.values()).map(SampleFormat::configName).iterator();
    }
  }
}
