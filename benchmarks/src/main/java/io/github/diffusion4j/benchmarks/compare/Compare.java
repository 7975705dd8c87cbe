package io.github.diffusion4j.benchmarks.compare;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.HotSpotDiagnosticMXBean;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.NoiseVersion;
import io.github.diffusion4j.runtime.ProviderDiscovery;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code diffusion bench}: times a workload on each backend, each in its own JVM (one backend per process), and
 * the PyTorch reference script of that workload in the same run when it and Debian's python3-torch are present,
 * and prints the ratios. The launcher ({@code ./diffusion bench ...}) runs this class from
 * {@code benchmarks/target/benchmarks.jar}; the product's command line has no benchmark code.
 */
@Command(name = "diffusion bench", mixinStandardHelpOptions = true, versionProvider = Compare.Version.class,
    description = {"Times training and sampling of a workload on each backend and against its PyTorch reference "
        + "measured in the same run; prints ratios (docs/benchmarks.md)."})
public final class Compare implements Callable<Integer> {
  /** The version of the build, and the JVM (what {@code diffusion --version} says, for the bench). */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Compare.class.getPackage().getImplementationVersion();
      return new String[] {"diffusion bench, diffusion4j " + (v == null ? "(development build)" : v),
          "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
    }
  }

  /**
   * Runs the comparison, or with {@code --in-process} one backend's figures as a JSON line; bad arguments are
   * one line on standard error and exit code 2.
   *
   * @param args the command line after {@code diffusion bench}
   */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /**
   * The command's exit code for these arguments: 0, 2 for bad arguments (one line on standard error), 1 when a
   * timing failed.
   *
   * @param args the command line after {@code diffusion bench}
   * @return the exit code
   */
  static int run(String... args) {
    CommandLine cli = new CommandLine(new Compare());
    cli.setParameterExceptionHandler((e, a) -> {
      System.err.println("diffusion bench: " + e.getMessage() + " (see diffusion bench --help)");
      return 2;
    });
    cli.setExecutionExceptionHandler((e, c, p) -> {
      boolean bad = e instanceof IllegalArgumentException;
      System.err.println("diffusion bench: " + e.getMessage());
      if (((Compare) c.getCommand()).verbose) {
        e.printStackTrace();
      }
      return bad ? 2 : 1;
    });
    return cli.execute(args);
  }

  @Option(names = "--verbose", description = "Print the stack trace of a failure.")
  boolean verbose;

  @Option(names = "--backend", paramLabel = "NAME", description = "Only this backend (default: every backend found).")
  String backend;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "1",
      description = "Native threads, 1 to 1024 (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--train-steps", paramLabel = "N",
      description = "Timed steps per repetition (default: 4000 for mlp, 10 for unet, 3 for ddpm, 2 for cifar10).")
  Integer trainStepsOption;

  int trainSteps;

  @Option(names = "--samples", paramLabel = "N", defaultValue = "1000",
      description = "Images to sample (mlp workload; default: ${DEFAULT-VALUE}).")
  int samples;

  @Option(names = "--ddim-steps", paramLabel = "N",
      description = "DDIM steps of the mlp and pretrained workloads (default: 20; 50 for pretrained).")
  Integer ddimStepsOption;

  int ddimSteps;

  @Option(names = "--noise-version", paramLabel = "1|2", defaultValue = "1",
      description = "Sampling noise of the mlp workload (sampling.noise_version, docs/noise.md; default: ${DEFAULT-VALUE}).")
  int noiseVersion;

  @Option(names = "--reps", paramLabel = "N", defaultValue = "3",
      description = "Repetitions of each timing; the median is reported "
          + "(default: ${DEFAULT-VALUE}; the unet, ddpm and pretrained workloads' PyTorch references do not take it: "
          + "they time training once, DDIM the median of three, and one image).")
  int reps;

  @Option(names = "--sampling-warmup", paramLabel = "SECONDS", defaultValue = "5",
      description = "Seconds each sampler of the mlp workload samples before it is timed, on every side "
          + "(default: ${DEFAULT-VALUE}, 2 before the sampling loop split batches over threads; 0: one call, as "
          + "before 2026-12-05).")
  double samplingWarmup;

  @Option(names = "--train-warmup", paramLabel = "SECONDS", defaultValue = "20",
      description = "Seconds the unet and ddpm workloads train before training is timed, on every side (default: "
          + "${DEFAULT-VALUE}; one step before 2026-12-05's fifth sitting: the JIT compiles ND4J's kernels over a "
          + "U-Net's first ~20 steps).")
  double trainWarmup;

  @Option(names = "--rounds", paramLabel = "N", defaultValue = "1",
      description = "Rounds of the whole comparison (every backend, "
          + "then the reference), each printed; with two or more, each ratio's median over the rounds and every "
          + "round's value (mlp, unet and ddpm workloads; default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--reference", paramLabel = "FILE",
      description = "Path of torch_timing.py (default: the repository's "
          + "benchmarks/reference/torch_timing.py, found from the working directory up).")
  Path reference;

  @Option(names = "--python", paramLabel = "FILE", defaultValue = "/usr/bin/python3",
      description = "The Python interpreter of the PyTorch reference (default: ${DEFAULT-VALUE}, Debian's).")
  String python;

  @Option(names = "--no-reference", description = "Skip the PyTorch reference.")
  boolean noReference;

  @Option(names = "--workload", defaultValue = "mlp", paramLabel = "mlp|unet|ddpm|pretrained|cifar10",
      description = {"mlp: the tutorial's workload against benchmarks/reference/torch_timing.py (default);",
          "unet: the default U-Net (1x32x32, batch 64) against docs/unet_reference.py bench;",
          "ddpm: the DDPM authors' CIFAR-10 model (35.7M parameters) at --batch against docs/ddpm_reference.py bench;",
          "pretrained: seconds per image of DDIM sampling (batch 1) with --checkpoint DIR against "
              + "docs/diffusers_reference.py bench (the reference needs a diffusers folder);",
          "cifar10: memory, not speed: the DDPM CIFAR-10 model's training steps at --batch, peak resident size."},
      completionCandidates = WorkloadNames.class)
  String workload;

  /** The workloads' names, for completion (the main CLI's too, through its description) and errors. */
  static final class WorkloadNames implements Iterable<String> {
    private static final List<String> NAMES = List.of("mlp", "unet", "ddpm", "pretrained", "cifar10");

    @Override
    public java.util.Iterator<String> iterator() {
      return NAMES.iterator();
    }
  }

  @Option(names = "--checkpoint", paramLabel = "DIR", description = "The model of the pretrained workload: a diffusers "
      + "folder (or a checkpoint folder; then without the PyTorch reference).")
  Path checkpoint;

  @Option(names = "--batch", paramLabel = "N",
      description = "Batch of the ddpm and cifar10 workloads (default: 16 for ddpm, 64 for cifar10).")
  Integer batchOption;

  int batch;

  @Option(names = "--in-process", hidden = true, description = "Run one backend in this JVM and print JSON.")
  boolean inProcess;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  /** The most native threads, as the configuration's {@code threads} key allows. */
  static final int MAX_THREADS = 1024;

  /** The options that only some workloads read, with those workloads. */
  private static final Map<String, List<String>> WORKLOADS_OF_OPTION = Map.of(
      "--samples", List.of("mlp"),
      "--noise-version", List.of("mlp"),
      "--sampling-warmup", List.of("mlp"),
      "--reference", List.of("mlp"),
      "--ddim-steps", List.of("mlp", "pretrained"),
      "--train-steps", List.of("mlp", "unet", "ddpm", "cifar10"),
      "--reps", List.of("mlp", "unet", "ddpm", "pretrained"),
      "--train-warmup", List.of("unet", "ddpm"),
      "--batch", List.of("ddpm", "cifar10"),
      "--checkpoint", List.of("pretrained"));

  @Override
  public Integer call() throws Exception {
    trainSteps = trainStepsOption != null ? trainStepsOption
        : "unet".equals(workload) ? 10 : "ddpm".equals(workload) ? 3 : "cifar10".equals(workload) ? 2 : 4000;
    batch = batchOption != null ? batchOption : "ddpm".equals(workload) ? 16 : 64;
    ddimSteps = ddimStepsOption != null ? ddimStepsOption : "pretrained".equals(workload) ? 50 : 20;
    if (noiseVersion != 1 && noiseVersion != 2) {
      throw new IllegalArgumentException("--noise-version " + noiseVersion + ": use 1 or 2");
    }
    if (!(samplingWarmup >= 0 && samplingWarmup <= 600)) {
      throw new IllegalArgumentException("--sampling-warmup " + samplingWarmup + ": use seconds from 0 to 600");
    }
    if (!(trainWarmup >= 0 && trainWarmup <= 600)) {
      throw new IllegalArgumentException("--train-warmup " + trainWarmup + ": use seconds from 0 to 600");
    }
    if (trainSteps < 1 || samples < 1 || ddimSteps < 1 || reps < 1 || threads < 1 || batch < 1 || rounds < 1) {
      throw new IllegalArgumentException(
          "--train-steps, --samples, --ddim-steps, --reps, --threads, --batch and --rounds must be at least 1");
    }
    if (!WorkloadNames.NAMES.contains(workload)) {
      throw new IllegalArgumentException("--workload " + workload + ": use mlp, unet, ddpm, pretrained or cifar10");
    }
    if (threads > MAX_THREADS) {
      throw new IllegalArgumentException("--threads " + threads + ": use 1 to " + MAX_THREADS);
    }
    if (workload.equals("mlp") && ddimSteps > Workloads.MLP_TIMESTEPS) {
      throw new IllegalArgumentException("--ddim-steps " + ddimSteps + ": the mlp workload has "
          + Workloads.MLP_TIMESTEPS + " timesteps; use 1 to " + Workloads.MLP_TIMESTEPS);
    }
    if (!inProcess) {
      // the children get every option, whatever their workload; a user's option that the workload does not
      // read would be ignored without a word
      CommandLine.ParseResult given = spec.commandLine().getParseResult();
      for (Map.Entry<String, List<String>> e : WORKLOADS_OF_OPTION.entrySet()) {
        if (given.hasMatchedOption(e.getKey()) && !e.getValue().contains(workload)) {
          throw new IllegalArgumentException(e.getKey() + " does not apply to --workload " + workload
              + " (only to " + String.join(", ", e.getValue()) + ")");
        }
      }
    }
    if (rounds > 1 && !List.of("mlp", "unet", "ddpm").contains(workload)) {
      throw new IllegalArgumentException("--rounds " + rounds + " with --workload " + workload
          + ": rounds apply to the mlp, unet and ddpm workloads");
    }
    if (workload.equals("pretrained")) {
      if (checkpoint == null) {
        throw new IllegalArgumentException("--workload pretrained needs --checkpoint DIR (a diffusers folder)");
      }
      if (!Files.isDirectory(checkpoint)) {
        throw new IllegalArgumentException("--checkpoint " + checkpoint + ": no such folder");
      }
    }
    if (!inProcess && !noReference && !workload.equals("cifar10")) {
      String problem = pythonProblem(python);
      if (problem != null) {
        System.err.println("the PyTorch reference is skipped: " + python + " cannot import torch (" + problem
            + "); install python3-torch and libopenblas0-pthread, or pass --python with an interpreter that has them");
        noReference = true;
      }
    }
    if (workload.equals("pretrained")) {
      return inProcess ? PretrainedWorkload.timeInProcess(this) : PretrainedWorkload.compare(this);
    }
    if (inProcess) {
      BackendProvider p = provider(backend);
      try (Backend b = p.create(new BackendOptions(threads))) {
        System.err.println("engine " + backend + ": " + b.describe());
        System.out.println(workload.equals("unet") ? Workloads.runUNet(b, threads, trainSteps, reps, trainWarmup)
            : workload.equals("ddpm") ? Workloads.runDdpm(b, threads, batch, trainSteps, reps, trainWarmup)
            : workload.equals("cifar10") ? Workloads.runCifar10Memory(b, threads, batch, trainSteps)
            : Workloads.run(b, threads, trainSteps, samples, ddimSteps, reps, NoiseVersion.of(noiseVersion),
                samplingWarmup).toJson());
      }
      return 0;
    }
    if (workload.equals("unet")) {
      return unet();
    }
    if (workload.equals("ddpm")) {
      return ddpm();
    }
    if (workload.equals("cifar10")) {
      return cifar10();
    }
    Path script = noReference ? null : findReference();
    if (script == null && !noReference) {
      System.err.println("PyTorch reference not found (pass --reference PATH); printing absolute figures only");
    }
    Rounds all = new Rounds(List.of("train_steps_per_s", "ddpm_s", "ddim_s"),
        List.of("train", "ddpm-" + Workloads.MLP_TIMESTEPS, "ddim-" + ddimSteps));
    inRounds(all, () -> {
      Map<String, Map<String, Double>> rows = timeBackends("backend");
      List<String> references = new ArrayList<>();
      if (script != null) {
        System.err.println("timing the PyTorch reference: " + script);
        List<String> command = new ArrayList<>(List.of(script.toString()));
        command.addAll(mlpReferenceArgs());
        Map<String, Double> torch = runPython(command);
        if (torch != null) {
          rows.put(Rounds.REFERENCE, torch);
          references.add(Rounds.REFERENCE);
        }
      }
      print(rows, references);
      return rows;
    });
    return 0;
  }

  /** The arguments of torch_timing.py after its path: this run's workload, threads and repetitions. */
  List<String> mlpReferenceArgs() {
    return List.of("--threads", String.valueOf(threads), "--train-steps", String.valueOf(trainSteps),
        "--n-samples", String.valueOf(samples), "--ddim-steps", String.valueOf(ddimSteps), "--reps",
        String.valueOf(reps), "--sampling-warmup", String.valueOf(samplingWarmup));
  }

  /** The arguments of {@code docs/unet_reference.py} for the unet workload: {@code bench STEPS THREADS WARMUP}. */
  List<String> unetReferenceArgs() {
    return List.of("bench", String.valueOf(trainSteps), String.valueOf(threads), String.valueOf(trainWarmup));
  }

  /**
   * The arguments of {@code docs/ddpm_reference.py} for the ddpm workload:
   * {@code bench CONFIG BATCH THREADS STEPS DDIM_STEPS WARMUP}.
   */
  List<String> ddpmReferenceArgs() {
    return List.of("bench", "{}", String.valueOf(batch), String.valueOf(threads), String.valueOf(trainSteps),
        String.valueOf(Workloads.UNET_DDIM_STEPS), String.valueOf(trainWarmup));
  }

  /** "1 thread", "2 threads": for the tables' headings. */
  static String threadCount(int threads) {
    return threads + (threads == 1 ? " thread" : " threads");
  }

  /** One round of a comparison: prints its table and returns its rows. */
  private interface Round {
    Map<String, Map<String, Double>> run() throws IOException, InterruptedException;
  }

  /**
   * Runs {@code --rounds} rounds, each announced (a line on standard error and one on standard output when there
   * are several), adds their rows to {@code all} and prints its summary.
   */
  private void inRounds(Rounds all, Round round) throws IOException, InterruptedException {
    for (int r = 1; r <= rounds; r++) {
      if (rounds > 1) {
        System.err.println("round " + r + " of " + rounds);
        System.out.println("round " + r + " of " + rounds + ":");
      }
      all.add(round.run());
    }
    all.summary().forEach(System.out::println);
  }

  private static BackendProvider provider(String name) {
    ProviderDiscovery.Found<BackendProvider> found = ProviderDiscovery.backends();
    BackendProvider p = found.providers().get(name);
    if (p == null) {
      throw new IllegalArgumentException("--backend: " + ProviderDiscovery.unknownBackend(name, found));
    }
    return p;
  }

  /**
   * Whether an interpreter imports torch, checked before anything is timed.
   *
   * @param python the interpreter
   * @return null if it does, else its last line of output (or its exit code)
   * @throws IllegalArgumentException if it cannot be run at all
   */
  /**
   * Why a program could not be started, from {@link ProcessBuilder#start}'s message: the system's words alone.
   *
   * @param message e.g. {@code Cannot run program "x": error=2, No such file or directory} (Java 17), or
   *     {@code Cannot run program "x": Exec failed, error: 2 (No such file or directory) } (Java 25)
   * @return e.g. {@code No such file or directory}; the message as it is where it has neither form
   */
  static String startFailure(String message) {
    Matcher m = START_FAILURE.matcher(String.valueOf(message));
    return !m.find() ? message : m.group(1) != null ? m.group(1).strip() : m.group(2);
  }

  private static final Pattern START_FAILURE = Pattern.compile("error=\\d+, (.*)|error: \\d+ \\((.*)\\)");

  static String pythonProblem(String python) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IllegalArgumentException("--python " + python + ": cannot run it (" + startFailure(e.getMessage()) + ")");
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    int code = p.waitFor();
    if (code == 0) {
      return null;
    }
    return out.isEmpty() ? "exit code " + code : out.substring(out.lastIndexOf('\n') + 1).strip();
  }

  private Path findReference() {
    if (reference != null) {
      if (!Files.isRegularFile(reference)) {
        throw new IllegalArgumentException("--reference " + reference + ": no such file");
      }
      return reference;
    }
    return inRepository(REFERENCE_SCRIPT);
  }

  /** The PyTorch reference of the tutorial's workload, relative to the repository's root. */
  static final String REFERENCE_SCRIPT = "benchmarks/reference/torch_timing.py";

  /**
   * A file of the repository this is run in: the working directory or its first parent that holds the root's
   * {@code pom.xml} and {@code mvnw}; nothing outside the repository is searched.
   *
   * @param relative the path from the root
   * @return the file, or null if there is no repository or no such file in it
   */
  static Path inRepository(String relative) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("pom.xml")) && Files.isRegularFile(dir.resolve("mvnw"))) {
        Path p = dir.resolve(relative);
        return Files.isRegularFile(p) ? p : null;
      }
    }
    return null;
  }

  /**
   * Times the chosen backend, or every backend found, each in a child JVM.
   *
   * @param what how the progress line names the timing, before the backend's name
   * @return the child's figures by backend name
   */
  Map<String, Map<String, Double>> timeBackends(String what) throws IOException, InterruptedException {
    List<String> names = new ArrayList<>();
    if (backend != null) {
      provider(backend);
      names.add(backend);
    } else {
      names.addAll(ProviderDiscovery.backends().providers().keySet());
    }
    Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
    for (String name : names) {
      System.err.println("timing " + what + " " + name + " in a child JVM ...");
      rows.put(name, runChild(name));
    }
    return rows;
  }

  /** The CIFAR-10 model's memory: each backend in a child JVM (the children's 4 GB heap); no reference. */
  private int cifar10() throws IOException, InterruptedException {
    Map<String, Map<String, Double>> rows = timeBackends("the CIFAR-10 model's training steps on backend");
    System.out.printf(Locale.ROOT, "workload: the DDPM CIFAR-10 model (35.7M parameters), training at batch %d; "
        + "%s; resident sizes of the child JVM%n", batch, threadCount(threads));
    System.out.printf(Locale.ROOT, "%-13s %14s %12s %18s%n", "", "model RSS MB", "step s", "peak RSS MB");
    for (Map.Entry<String, Map<String, Double>> e : rows.entrySet()) {
      Map<String, Double> v = e.getValue();
      for (int i = 1; i <= trainSteps; i++) {
        System.out.printf(Locale.ROOT, "%-13s %14s %12.1f %18.0f%n", i == 1 ? e.getKey() : "",
            i == 1 ? String.format(Locale.ROOT, "%.0f", v.get("model_rss_mb")) : "", v.get("step" + i + "_s"),
            v.get("step" + i + "_peak_rss_mb"));
      }
    }
    return 0;
  }

  /** The U-Net comparison: each backend in a child JVM, then the reference module in PyTorch. */
  private int unet() throws IOException, InterruptedException {
    return model("the U-Net", "U-Net 1x32x32 base 32 mult [1,2,2] attention", Workloads.unetSpec(),
        Workloads.UNET_BATCH, "docs/unet_reference.py", unetReferenceArgs());
  }

  /** The DDPM CIFAR-10 model's comparison, as {@link #unet()}, at {@code --batch}. */
  private int ddpm() throws IOException, InterruptedException {
    return model("the DDPM CIFAR-10 model", "the DDPM CIFAR-10 model (35.7M parameters, 3x32x32)",
        io.github.diffusion4j.model.DdpmUNetSpec.cifar10(), batch, "docs/ddpm_reference.py", ddpmReferenceArgs());
  }

  /**
   * Times a model's training steps and forward passes on each backend in a child JVM, then its reference module in
   * PyTorch, and prints the figures, the ratios and the floors.
   *
   * @param what how the progress lines name the model
   * @param title how the table names the workload
   * @param spec the model
   * @param size the batch
   * @param script the reference script, relative to the repository
   * @param args its arguments
   */
  private int model(String what, String title, io.github.diffusion4j.model.ModelSpec spec, int size, String script,
      List<String> args) throws IOException, InterruptedException {
    Rounds all = new Rounds(List.of("unet_train_steps_per_s", "unet_forward_s", "unet_ddim_s"),
        List.of("train", "forward", "ddim-" + Workloads.UNET_DDIM_STEPS));
    inRounds(all, () -> modelRound(what, title, spec, size, script, args));
    return 0;
  }

  /** One round of {@link #model}: its table; returns its rows. */
  private Map<String, Map<String, Double>> modelRound(String what, String title,
      io.github.diffusion4j.model.ModelSpec spec, int size, String script, List<String> args)
      throws IOException, InterruptedException {
    Map<String, Map<String, Double>> rows = timeBackends(what + " on backend");
    Path path = reference(script);
    if (path != null) {
      System.err.println("timing the PyTorch reference: " + path);
      List<String> all = new ArrayList<>(List.of(path.toString()));
      all.addAll(args);
      Map<String, Double> torch = runPython(all);
      if (torch != null) {
        rows.put(Rounds.REFERENCE, torch);
      }
    }
    printModel(rows, title, spec, size);
    return rows;
  }

  /**
   * Prints a model workload's table: each row's figures, the ratios against the reference's and the floors.
   *
   * @param rows the figures by row name, the reference's under {@value Rounds#REFERENCE}
   * @param title how the table names the workload
   * @param spec the model
   * @param size the batch
   */
  void printModel(Map<String, Map<String, Double>> rows, String title, io.github.diffusion4j.model.ModelSpec spec,
      int size) {
    System.out.printf(Locale.ROOT, "workload: %s, batch %d; %s%n", title, size, threadCount(threads));
    // DDIM-50 images/s: from the measured sampling where the workload samples (the U-Net's DDIM-5 of the batch, ten
    // times as many steps), else from the forward pass (50 passes a sampling)
    String ddim = "DDIM-" + Workloads.UNET_DDIM_STEPS + " s";
    System.out.printf(Locale.ROOT, "%-13s %16s %14s %14s %20s%n", "", "train steps/s", "forward s", ddim,
        "DDIM-50 images/s");
    for (Map.Entry<String, Map<String, Double>> e : rows.entrySet()) {
      double f = e.getValue().get("unet_forward_s");
      Double d = e.getValue().get("unet_ddim_s");
      System.out.printf(Locale.ROOT, "%-13s %16.3f %14.4f %14s %20.2f%n", e.getKey(),
          e.getValue().get("unet_train_steps_per_s"), f, d == null ? "-" : String.format(Locale.ROOT, "%.4f", d),
          d == null ? size / (50 * f) : size * Workloads.UNET_DDIM_STEPS / (50 * d));
    }
    Map<String, Double> ref = rows.get(Rounds.REFERENCE);
    if (ref != null) {
      System.out.println("ratios against pytorch (training: steps/s over torch's, higher is better; "
          + "forward and DDIM: time over torch's, lower is better):");
      for (Map.Entry<String, Map<String, Double>> e : rows.entrySet()) {
        if (!e.getKey().equals("pytorch")) {
          System.out.printf(Locale.ROOT, "%-13s %16s %14s %14s%n", e.getKey(), ratio(e.getValue(), ref,
              "unet_train_steps_per_s"), ratio(e.getValue(), ref, "unet_forward_s"),
              ratio(e.getValue(), ref, "unet_ddim_s"));
        }
      }
    }
    ProductFlops products = ProductFlops.of(spec.network());
    printFloors(rows, List.of(
        new Floor("unet_train_steps_per_s", "training step", size * (double) products.training(), true),
        new Floor("unet_forward_s", "forward pass", size * (double) products.forward(), false)));
  }

  /**
   * A reference script of the repository, or null (with a line on standard error) when {@code --no-reference}
   * is given or the script is not there.
   *
   * @param relative the script's path from the repository's root
   * @return the script, or null
   */
  Path reference(String relative) {
    if (noReference) {
      return null;
    }
    Path p = inRepository(relative);
    if (p == null) {
      System.err.println("PyTorch reference " + relative + " not found (run from the repository); figures without it");
    }
    return p;
  }

  /**
   * Runs a reference script with {@code --python} and this run's thread count, and reads the figures of the
   * last JSON line it prints.
   *
   * @param args the script and its arguments
   * @return its figures, or null (with a line on standard error) if it failed
   */
  Map<String, Double> runPython(List<String> args) throws IOException, InterruptedException {
    describeReference();
    List<String> cmd = new ArrayList<>();
    cmd.add(python);
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
    pb.environment().put("OPENBLAS_NUM_THREADS", String.valueOf(threads));
    String json = run(pb);
    if (json == null) {
      System.err.println("the PyTorch reference failed (" + python + " with python3-torch and libopenblas0-pthread "
          + "installed? apt-get install -y python3-torch libopenblas0-pthread)");
      return null;
    }
    return parse(json);
  }

  /** The reference's single-matrix-product rate in GFLOP/s, measured once per run; NaN until then or if unknown. */
  double sgemmGflops = Double.NaN;

  private boolean engineDescribed;

  private static String envOr(String name) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? "glibc's default" : v;
  }

  /**
   * Prints on standard error, once per run, the reference's engine: PyTorch's version and the OpenBLAS kernels it
   * runs ({@code openblas_get_corename} of the {@code libblas.so.3} it loaded), and {@code OPENBLAS_CORETYPE} if
   * the environment sets it, since both the reference and the ND4J backend follow it (docs/benchmarks.md), and
   * glibc's allocation thresholds, which every side inherits (the {@code diffusion} launcher sets them); and
   * measures the machine's matrix product rate with it ({@code torch.mm} of two 1024x1024 matrices on this run's
   * threads, the best of twenty after three unmeasured), from which the floors are printed.
   */
  private void describeReference() throws IOException, InterruptedException {
    if (engineDescribed) {
      return;
    }
    engineDescribed = true;
    String coreType = System.getenv("OPENBLAS_CORETYPE");
    System.err.println("OPENBLAS_CORETYPE: " + (coreType == null || coreType.isBlank() ? "not set" : coreType)
        + " (ND4J and the PyTorch reference follow it)");
    System.err.println("native allocation (every side): MALLOC_MMAP_THRESHOLD_=" + envOr("MALLOC_MMAP_THRESHOLD_")
        + ", MALLOC_TRIM_THRESHOLD_=" + envOr("MALLOC_TRIM_THRESHOLD_") + ", MALLOC_TOP_PAD_=" + envOr("MALLOC_TOP_PAD_")
        + ", MALLOC_MMAP_MAX_=" + envOr("MALLOC_MMAP_MAX_"));
    System.err.println("Java heap of the backends' children: " + (hugePages()
        ? "transparent huge pages (-XX:+UseTransparentHugePages)" : "4 KiB pages (huge pages not asked for or not offered)"));
    ProcessBuilder pb = new ProcessBuilder(python, "-c", String.join("\n",
        "import ctypes, time, torch",
        "torch.set_num_threads(" + threads + ")",
        "try:",
        "    f = ctypes.CDLL('libblas.so.3').openblas_get_corename",
        "    f.restype = ctypes.c_char_p",
        "    blas = 'OpenBLAS kernels ' + f().decode()",
        "except Exception:",
        "    blas = 'BLAS not OpenBLAS'",
        "a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)",
        "best = float('inf')",
        "for i in range(23):",
        "    t = time.perf_counter(); torch.mm(a, b); t = time.perf_counter() - t",
        "    best = t if i >= 3 and t < best else best",
        "print('engine pytorch: torch ' + torch.__version__ + ', ' + blas)",
        "print('sgemm_gflops %.1f' % (2 * 1024 ** 3 / best / 1e9))"));
    pb.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
    pb.environment().put("OPENBLAS_NUM_THREADS", String.valueOf(threads));
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      return;
    }
    for (String line : out.split("\n")) {
      if (line.startsWith("engine ")) {
        System.err.println(line.strip());
      } else if (line.startsWith("sgemm_gflops ")) {
        sgemmGflops = Double.parseDouble(line.substring(13).strip());
      }
    }
  }

  /**
   * Prints the floor of a workload's figures (its matrix products, {@link ProductFlops}, at the reference's
   * matrix product rate) and the fraction of it each row reaches: the floor's time over the measured time. Above
   * 100% a side's products ran faster than the reference's {@code sgemm} of 1024x1024 matrices (oneDNN's
   * direct convolutions in PyTorch and libtorch can), or it did fewer multiply-adds than the floor counts (ND4J's
   * Winograd forms of the 3x3 convolutions: 2.25x and 4x fewer).
   *
   * @param rows the measured rows
   * @param figures per figure: its JSON key, its label, its operations, and whether it is a rate (per second)
   *     rather than a time
   */
  void printFloors(Map<String, Map<String, Double>> rows, List<Floor> figures) {
    if (!(sgemmGflops > 0)) {
      return;
    }
    StringBuilder what = new StringBuilder();
    for (Floor f : figures) {
      what.append(String.format(Locale.ROOT, "%s%s %.3g GFLOP = %.4f s", what.length() == 0 ? "" : "; ", f.label,
          f.flops / 1e9, f.flops / 1e9 / sgemmGflops));
    }
    System.out.printf(Locale.ROOT, "floor: the matrix products alone at the reference's sgemm rate (1024^3, %s: "
        + "%.1f GFLOP/s): %s%n", threadCount(threads), sgemmGflops, what);
    System.out.println("fraction of the floor reached (the floor's time over the measured time; above 100%: faster "
        + "products, or fewer multiply-adds, as Winograd's convolutions do):");
    for (Map.Entry<String, Map<String, Double>> e : rows.entrySet()) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-13s", e.getKey()));
      for (Floor f : figures) {
        Double v = e.getValue().get(f.key);
        double seconds = v == null ? Double.NaN : f.rate ? 1 / v : v;
        line.append(String.format(Locale.ROOT, " %14s", Double.isFinite(seconds)
            ? String.format(Locale.ROOT, "%.0f%%", 100 * f.flops / 1e9 / sgemmGflops / seconds) : "-"));
      }
      System.out.println(line);
    }
  }

  /** One figure of a workload with its operations, for {@link #printFloors}. */
  record Floor(String key, String label, double flops, boolean rate) {}

  private Map<String, Double> runChild(String name) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // the launcher's default options for the product's commands (`diffusion train`, `sample`): the backends as
    // users run them, on the JVM's default collector (G1); with the Parallel collector ND4J's U-Net trained 21-38%
    // slower on a Zen 5, with -Xmx2g -XX:+UseSerialGC 1-5% slower at two threads on a Zen 3 (docs/benchmarks.md)
    cmd.add("-Xmx4g");
    if (hugePages()) {
      // as the launcher gives the product's commands where the kernel offers them (docs/benchmarks.md, "The Java
      // heap in huge pages"); this JVM has it on only if the launcher asked and the kernel allowed it
      cmd.add("-XX:+UseTransparentHugePages");
    }
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
      // the children draw noise as this JVM would (docs/noise.md: the vectorised fill, the same bits)
      cmd.addAll(List.of("--add-modules", "jdk.incubator.vector"));
    }
    cmd.addAll(newerJvmOptions(Runtime.version().feature()));
    cmd.add("-Dai.djl.offline=true");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Compare.class.getName());
    cmd.addAll(childArgs(name));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
    pb.environment().put("OPENBLAS_NUM_THREADS", String.valueOf(threads));
    String json = run(pb);
    if (json == null) {
      throw new IllegalStateException("the benchmark of backend " + name + " failed");
    }
    return parse(json);
  }

  /**
   * The arguments of a child JVM timing one backend: {@code --in-process} and every option of this run.
   *
   * @param name the backend
   * @return the arguments after the class name
   */
  List<String> childArgs(String name) {
    List<String> cmd = new ArrayList<>(List.of("--in-process", "--workload", workload, "--backend", name, "--threads",
        String.valueOf(threads),
        "--train-steps", String.valueOf(trainSteps), "--samples", String.valueOf(samples),
        "--ddim-steps", String.valueOf(ddimSteps), "--reps", String.valueOf(reps),
        "--noise-version", String.valueOf(noiseVersion), "--batch", String.valueOf(batch),
        "--sampling-warmup", String.valueOf(samplingWarmup), "--train-warmup", String.valueOf(trainWarmup)));
    if (checkpoint != null) {
      cmd.addAll(List.of("--checkpoint", checkpoint.toAbsolutePath().toString()));
    }
    return cmd;
  }

  /**
   * The options that a JVM of feature version {@code feature} takes and Java 17 does not know, as the launcher
   * gives them (its {@code newer_jvm_options}): from Java 24 on, native access and {@code sun.misc.Unsafe}'s memory
   * access allowed, so that a child does not print four WARNING lines for each on first use.
   *
   * @param feature the JVM's feature version ({@link Runtime.Version#feature()})
   * @return the options, none before Java 24
   */
  static List<String> newerJvmOptions(int feature) {
    return feature >= 24
        ? List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow")
        : List.of();
  }

  /** Whether this JVM keeps its heap in transparent huge pages. */
  private static boolean hugePages() {
    return Boolean.parseBoolean(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
        .getVMOption("UseTransparentHugePages").getValue());
  }

  static String run(ProcessBuilder pb) throws IOException, InterruptedException {
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    // a child does not outlive this JVM: a bench stopped by a signal (timeout, kill) would leave it timing on
    Thread reaper = new Thread(p::destroyForcibly, "diffusion-bench-child-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
    try {
      String last = null;
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          if (line.startsWith("{")) {
            last = line;
          }
        }
      }
      return p.waitFor() == 0 ? last : null;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(reaper);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs
      }
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The numeric fields of a one-line JSON object a child or the reference script printed.
   *
   * @param json the object
   * @return its numbers by name, in order
   * @throws IllegalStateException if it is not a JSON object
   */
  static Map<String, Double> parse(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the benchmark printed malformed JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalStateException("the benchmark printed " + json + ", not a JSON object");
    }
    Map<String, Double> m = new LinkedHashMap<>();
    root.properties().forEach(e -> {
      if (e.getValue().isNumber()) {
        m.put(e.getKey(), e.getValue().doubleValue());
      }
    });
    return m;
  }

  void print(Map<String, Map<String, Double>> rows, List<String> references) {
    System.out.printf(Locale.ROOT, "workload: 3x5x5 MLP(128), batch 128, T=100; %d samples; %s%n", samples,
        threadCount(threads));
    System.out.printf(Locale.ROOT, "%-13s %14s %12s %12s%n", "", "train steps/s", "ddpm-100 s", "ddim-" + ddimSteps + " s");
    for (Map.Entry<String, Map<String, Double>> e : rows.entrySet()) {
      Map<String, Double> v = e.getValue();
      System.out.printf(Locale.ROOT, "%-13s %14.1f %12.4f %12.4f%n", e.getKey(), v.get("train_steps_per_s"),
          v.get("ddpm_s"), v.get("ddim_s"));
    }
    for (String refName : references) {
      Map<String, Double> ref = rows.get(refName);
      System.out.println("ratios against " + refName + " (training: steps/s over torch's, higher is better; "
          + "sampling: time over torch's, lower is better):");
      for (Map.Entry<String, Map<String, Double>> e : rows.entrySet()) {
        if (e.getKey().startsWith("pytorch")) {
          continue;
        }
        Map<String, Double> v = e.getValue();
        System.out.printf(Locale.ROOT, "%-13s %14s %12s %12s%n", e.getKey(), ratio(v, ref, "train_steps_per_s"),
            ratio(v, ref, "ddpm_s"), ratio(v, ref, "ddim_s"));
      }
    }
    ProductFlops mlp = ProductFlops.of(Workloads.mlpSpec().network());
    printFloors(rows, List.of(
        new Floor("train_steps_per_s", "training step", Workloads.MLP_BATCH * (double) mlp.training(), true),
        new Floor("ddpm_s", "DDPM-" + Workloads.MLP_TIMESTEPS, (double) samples * Workloads.MLP_TIMESTEPS
            * mlp.forward(), false),
        new Floor("ddim_s", "DDIM-" + ddimSteps, (double) samples * ddimSteps * mlp.forward(), false)));
    printNoiseFloor(rows);
  }

  /**
   * Adds the portable noise to the MLP's sampling floors, as issue 16 counts them ("3.9 GFLOP at ~100 GFLOP/s plus
   * 7.5M normals"): the normals of one draw of the batch ({@code samples} images of 75 values, drawn as the
   * sampling loop draws them, {@code Noise.fillPerItem}) timed in this process, the median of 30 draws after two
   * seconds of them, and each sampler's products and draws (DDPM: {@code x_T} and every step but the last;
   * deterministic DDIM: {@code x_T}) against PyTorch's measured time: where that ratio is above a target, no backend
   * drawing this noise with products at the reference's rate can reach the target.
   */
  private void printNoiseFloor(Map<String, Map<String, Double>> rows) {
    Map<String, Double> torch = rows.get("pytorch");
    if (!(sgemmGflops > 0) || torch == null) {
      return;
    }
    int item = Workloads.mlpSpec().imageShape().size();
    float[] draw = new float[samples * item];
    Noise noise = Noise.seeded(1).withVersion(NoiseVersion.of(noiseVersion));
    long warm = System.nanoTime() + 2_000_000_000L; // two seconds of draws first: the JIT compiler's time
    for (long k = 0; System.nanoTime() < warm; k++) {
      noise.split(k).fillPerItem(draw, samples, item, 0);
    }
    double[] times = new double[30];
    for (int i = 0; i < times.length; i++) {
      long t = System.nanoTime();
      noise.split(i).fillPerItem(draw, samples, item, 0);
      times[i] = (System.nanoTime() - t) / 1e9;
    }
    System.out.println(noiseFloorLine(Workloads.median(times), draw.length, torch));
  }

  /**
   * The line of {@link #printNoiseFloor}: DDPM's {@code T} steps of products and {@code T} draws ({@code x_T} and
   * every step but the last), deterministic DDIM's steps of products and one draw, a step's products those of the
   * MLP's forward pass for each of {@code --samples} images, each against PyTorch's time.
   *
   * @param perDraw seconds of one draw of the batch
   * @param values the values of one draw
   * @param torch the reference's figures ({@code ddpm_s}, {@code ddim_s})
   * @return the line
   */
  String noiseFloorLine(double perDraw, int values, Map<String, Double> torch) {
    double flopsPerStep = (double) samples * ProductFlops.of(Workloads.mlpSpec().network()).forward();
    double ddpm = Workloads.MLP_TIMESTEPS * (flopsPerStep / 1e9 / sgemmGflops + perDraw);
    double ddim = ddimSteps * flopsPerStep / 1e9 / sgemmGflops + perDraw;
    return String.format(Locale.ROOT, "with the portable noise (version %d, %d values a draw, %.2f ns a value in this "
        + "process): DDPM-%d (%d draws) %.4f s = %.2fx pytorch's time; DDIM-%d (1 draw) %.4f s = %.2fx",
        noiseVersion, values, perDraw / values * 1e9, Workloads.MLP_TIMESTEPS, Workloads.MLP_TIMESTEPS,
        ddpm, ddpm / torch.get("ddpm_s"), ddimSteps, ddim, ddim / torch.get("ddim_s"));
  }

  static String ratio(Map<String, Double> v, Map<String, Double> ref, String key) {
    if (ref == null || !ref.containsKey(key) || !v.containsKey(key)) {
      return "-";
    }
    return String.format(Locale.ROOT, "%.2fx", v.get(key) / ref.get(key));
  }
}
