package io.github.diffusion4j.spark.cli;

import io.github.diffusion4j.cli.BadInputException;
import io.github.diffusion4j.cli.InterruptGuard;
import io.github.diffusion4j.spark.Shipping;
import io.github.diffusion4j.spark.SparkContexts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import picocli.CommandLine.Option;

/** The options of {@code diffusion spark sample} and {@code eval} about the cluster. */
final class ClusterOptions {
  /** The master when neither --master nor spark-submit gives one: every core, 4 attempts per task. */
  static final String LOCAL = "local[*,4]";

  @Option(names = "--master", paramLabel = "URL", description = "Spark master: local[N], local[N,F] (F attempts per "
      + "task), spark://HOST:PORT, yarn, k8s://... (default: spark-submit's, else " + LOCAL + ").")
  String master;

  @Option(names = "--partitions", paramLabel = "P", description = "Shards (one task each) of whole sampling batches; "
      + "at most one per batch (default: Spark's default parallelism).")
  Integer partitions;

  @Option(names = "--threads", paramLabel = "N", description = "Native threads of each task's backend (default: "
      + "a --set threads=N, else spark.task.cpus, the cores Spark gives a task).")
  Integer threads;

  @Option(names = "--ship", paramLabel = "HOW", defaultValue = "auto", description = "How executors get the "
      + "checkpoint: path (shared storage), broadcast (its bytes), auto (broadcast up to 64 MiB; default).",
      completionCandidates = Ways.class)
  String ship;

  @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark configuration value (repeatable), e.g. "
      + "spark.task.maxFailures=8.")
  List<String> conf = new ArrayList<>();

  /**
   * The forms of master URL Spark 4 knows; any other {@code SCHEME://...} is left to Spark (a cluster manager
   * of its own on the class path may take it).
   */
  private static final java.util.regex.Pattern MASTER = java.util.regex.Pattern.compile(
      "local|local\\[([1-9]\\d*|\\*)\\s*(,\\s*[1-9]\\d*\\s*)?]|local-cluster\\[.*]|yarn|[a-z][a-z0-9+.-]*://.+");

  /**
   * Whether a cluster manager on the class path takes a master URL (YARN's and Kubernetes' come with spark-yarn
   * and spark-kubernetes, found by Spark as this looks for them: {@code ExternalClusterManager} services).
   */
  private static boolean hasClusterManager(String master) {
    try {
      for (org.apache.spark.scheduler.ExternalClusterManager m
          : java.util.ServiceLoader.load(org.apache.spark.scheduler.ExternalClusterManager.class)) {
        if (m.canCreate(master)) {
          return true;
        }
      }
      return false;
    } catch (java.util.ServiceConfigurationError | LinkageError e) {
      return true; // Spark will say what is wrong with it
    }
  }

  /**
   * Checks the values before anything starts, the master too wherever it comes from: {@code --master}, a
   * {@code --conf spark.master=...}, or else the {@code spark.master} system property.
   */
  void check() {
    if (master != null) {
      checkMaster("--master " + master, master);
    }
    if (partitions != null && partitions < 1) {
      throw new BadInputException("--partitions " + partitions + ": must be at least 1");
    }
    if (threads != null && threads < 1) {
      throw new BadInputException("--threads " + threads + ": must be at least 1");
    }
    shipping();
    boolean confMaster = false;
    for (String c : conf) {
      int eq = c.indexOf('=');
      if (eq < 1 || !c.startsWith("spark.")) {
        throw new BadInputException("--conf " + c + ": expected spark.KEY=VALUE");
      }
      if (c.substring(0, eq).equals("spark.master")) {
        // it overrides --master (conf sets it last), and the launcher takes it as the master too
        checkMaster("--conf " + c, c.substring(eq + 1));
        confMaster = true;
      }
    }
    String property = System.getProperty("spark.master");
    if (master == null && !confMaster && property != null) {
      // the master conf() starts with when no option gives one: a -Dspark.master=... (DIFFUSION_JAVA_OPTS) or
      // spark-submit's --master; unchecked, a malformed one failed inside Spark, in Spark's words
      checkMaster((System.getProperty("SPARK_SUBMIT") != null ? "spark-submit --master " : "-Dspark.master=")
          + property, property);
    }
  }

  /** Refuses a master URL that is not one, or whose cluster manager is not on the class path; {@code what} names it. */
  private static void checkMaster(String what, String master) {
    if (!MASTER.matcher(master).matches()) {
      throw new BadInputException(what + ": not a Spark master URL (allowed: local, local[N], "
          + "local[*], local[N,F] with N and F at least 1, spark://HOST:PORT, yarn, k8s://HOST:PORT)");
    }
    if (!master.startsWith("local") && !master.startsWith("spark://") && !hasClusterManager(master)) {
      throw new BadInputException(what + ": no Spark cluster manager for it on the class path (the "
          + "diffusion launcher carries Spark's core: local, local[N], spark://HOST:PORT; for YARN or Kubernetes run "
          + "the job with spark-submit, which brings them; docs/spark.md)");
    }
  }

  Shipping shipping() {
    try {
      return Shipping.valueOf(ship.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new BadInputException("--ship " + ship + ": unknown (allowed: " + String.join(", ", new Ways()) + ")");
    }
  }

  /** The ways to ship a checkpoint by name, for completion (the main CLI's too, through its description) and errors. */
  static final class Ways implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return java.util.Arrays.stream(Shipping.values()).map(w -> w.name().toLowerCase(Locale.ROOT)).iterator();
    }
  }

  /**
   * The context's configuration: spark-submit's (system properties), the options on top; on a cluster, the
   * application's jars in {@code spark.jars} unless spark-submit or a --conf gives them.
   */
  SparkConf conf(String what, boolean progress) {
    SparkConf c = new SparkConf();
    if (master != null) {
      c.setMaster(master);
    } else if (!c.contains("spark.master")) {
      c.setMaster(LOCAL);
    }
    c.setIfMissing("spark.app.name", "diffusion4j " + what);
    c.setIfMissing("spark.ui.showConsoleProgress", Boolean.toString(progress));
    if (threads != null) {
      // executors started for this job get the native thread count in their environment too
      c.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", threads.toString());
    }
    for (String kv : conf) {
      int eq = kv.indexOf('=');
      c.set(kv.substring(0, eq), kv.substring(eq + 1));
    }
    String m = c.get("spark.master");
    if (!m.startsWith("local") && !c.contains("spark.jars")) {
      // executors of a cluster have Spark's jars only: without the application's (spark-submit's primary jar and
      // --jars), every task failed with "ClassNotFoundException: ...ShardPlan$Shard"
      String jars = applicationJars(System.getProperty("java.class.path", ""), sparkJars());
      if (!jars.isEmpty()) {
        c.set("spark.jars", jars);
      }
    }
    if (!m.startsWith("local") && System.getProperty("SPARK_SUBMIT") == null) {
      // under spark-submit its command line gives the executors' settings (docs/spark.md's spark-submit line)
      executorEnvironment(c, System.getenv());
    }
    return c;
  }

  /** What the launcher sets for its own JVM that the executors' JVMs need as well (docs/spark.md, spark-submit). */
  static final List<String> EXECUTOR_ENV = List.of("OMP_WAIT_POLICY", "MALLOC_MMAP_THRESHOLD_",
      "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_");

  /**
   * On a cluster, gives the executors the launcher's native settings (passive OpenMP waits, glibc's allocation
   * settings) and DJL's offline mode, unless the configuration sets them: executors that a standalone worker
   * starts have none of the driver's environment, so {@code ./diffusion spark --master spark://...} ran them with
   * spinning OpenMP threads and glibc's defaults (DJL's activations faulted in again every pass).
   */
  static void executorEnvironment(SparkConf c, java.util.Map<String, String> env) {
    for (String name : EXECUTOR_ENV) {
      String value = env.get(name);
      if (value != null && !value.isEmpty()) {
        c.setIfMissing("spark.executorEnv." + name, value);
      }
    }
    String opts = c.get("spark.executor.extraJavaOptions", "");
    if (!opts.contains("ai.djl.offline")) {
      c.set("spark.executor.extraJavaOptions", (opts + " -Dai.djl.offline=true").strip());
    }
  }

  /** The folder of Spark's own jars on this class path (that of spark-core), or null if Spark is not in a jar. */
  private static Path sparkJars() {
    try {
      java.security.CodeSource src = SparkConf.class.getProtectionDomain().getCodeSource();
      Path jar = src == null ? null : Path.of(src.getLocation().toURI());
      return jar == null || !Files.isRegularFile(jar) ? null : jar.toAbsolutePath().getParent();
    } catch (java.net.URISyntaxException | RuntimeException e) {
      return null;
    }
  }

  /**
   * What a cluster's executors need besides Spark, for {@code spark.jars}: the jars of this class path (the
   * launcher's diffusion-spark.jar and lib/, and DIFFUSION_CLASSPATH's jars), without Spark's own (those in
   * the folder of Spark's jars); class folders cannot be shipped and are left out.
   *
   * @param classPath the JVM's class path
   * @param sparkJars the folder of Spark's jars, or null
   * @return comma-separated jar paths
   * @throws BadInputException if a jar's path holds a comma, which {@code spark.jars} would split into two paths
   *     that do not exist (every task failing with a missing class)
   */
  static String applicationJars(String classPath, Path sparkJars) {
    List<String> jars = new ArrayList<>();
    for (String entry : classPath.split(java.io.File.pathSeparator)) {
      if (entry.isEmpty() || !entry.endsWith(".jar")) {
        continue;
      }
      Path p = Path.of(entry).toAbsolutePath().normalize();
      if (!Files.isRegularFile(p) || (sparkJars != null && sparkJars.equals(p.getParent()))) {
        continue;
      }
      if (p.toString().contains(",")) {
        throw new BadInputException("--master: the jar " + p + " has a comma in its path, which Spark's spark.jars "
            + "(a comma-separated list) cannot hold; install diffusion4j under a path without commas, or give the "
            + "executors the jars with --conf spark.jars=URL,... (for example copies under a path without commas)");
      }
      if (!jars.contains(p.toString())) {
        jars.add(p.toString());
      }
    }
    return String.join(",", jars);
  }

  int partitions() {
    return partitions == null ? 0 : partitions;
  }

  int threads() {
    return threads == null ? 0 : threads;
  }

  /**
   * The shared context for a command: spark-submit's configuration (system properties), the options on top.
   *
   * @param what the application's name
   * @param progress whether Spark shows its console progress bar
   * @return a lease on the context
   */
  SparkContexts.Lease start(String what, boolean progress) {
    SparkConf c = conf(what, progress);
    try {
      return SparkContexts.acquire(c);
    } catch (RuntimeException e) {
      // a standalone master that cannot be reached: the context's start waits for it, then stops the context
      throw startFailure(io.github.diffusion4j.spark.SparkJobException.ifStopped(e));
    } catch (Exception e) { // Scala throws SparkException undeclared
      throw new IllegalStateException("Spark cannot start with master " + c.get("spark.master") + ": "
          + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
    }
  }

  /** Spark's refusal of a driver heap below its minimum: the heap and the minimum, in bytes. */
  private static final java.util.regex.Pattern DRIVER_MEMORY = java.util.regex.Pattern.compile(
      "^\\[INVALID_DRIVER_MEMORY] System memory (\\d+) must be at least (\\d+)");

  /**
   * An error of the context's start, as the command says it: a driver heap below Spark's minimum is bad input naming
   * how to raise it (Spark's own advice, {@code --driver-memory} or {@code spark.driver.memory}, cannot reach a JVM
   * that runs already); any other error as it is.
   *
   * @param e the error
   * @return the error to throw
   */
  static RuntimeException startFailure(RuntimeException e) {
    java.util.regex.Matcher m = DRIVER_MEMORY.matcher(String.valueOf(e.getMessage()));
    if (!m.find()) {
      return e;
    }
    return new BadInputException("Spark needs a driver heap of at least " + mib(m.group(2))
        + " MiB, and this JVM's is " + mib(m.group(1)) + " MiB: give the JVM more (-Xmx1g in DIFFUSION_JAVA_OPTS for "
        + "./diffusion, --driver-memory 1g for spark-submit)", e);
  }

  private static long mib(String bytes) {
    return Long.parseLong(bytes) >> 20;
  }

  /** The logger of Spark's task scheduler, quieted under a signal ({@link #guard}). */
  static final String TASK_SCHEDULER_LOG = "org.apache.spark.scheduler.TaskSetManager";

  /**
   * The guard of a Spark command ({@link #run}): a signal's own action only quiets Spark's task scheduler, since the
   * job's shutdown hook cancels the job. Spark's shutdown stops the local executor while the scheduler still launches
   * the job's next task, which then "fails" ({@code ERROR TaskSetManager: Task N in stage 0.0 failed 1 times; aborting
   * job}, a race inside Spark, seen on about half of the Ctrl-Cs of {@code spark sample --master 'local[1]'}) beside
   * the command's own {@code interrupted; ...} line. Where log4j's core is not what Spark logs through, nothing is
   * quieted.
   *
   * @return the guard, open until the command has said what it left
   */
  static InterruptGuard guard() {
    return new InterruptGuard(() -> {
      try {
        org.apache.logging.log4j.core.config.Configurator.setLevel(TASK_SCHEDULER_LOG,
            org.apache.logging.log4j.Level.OFF);
      } catch (LinkageError | RuntimeException e) {
        // another logging back end: its line stays
      }
    });
  }

  /**
   * Runs a job on the shared context ({@link #start}) under the command's {@code guard}, which holds the JVM under
   * Ctrl-C or SIGTERM until the command has said what it left: a signal while Spark starts says {@code interrupted;
   * WHAT} at once and lets the JVM go ({@link InterruptGuard#load}: the context's start heeds no interrupt, and nothing
   * is written yet); one during the job (the driver's load of the checkpoint, the tasks, the merge) is the job's
   * cancellation ({@link io.github.diffusion4j.spark.SparkDiffusion}'s shutdown hook, which cleans up first), said as
   * {@code interrupted; WHAT} too. Any other failure is translated and thrown, a job cancelled by other means
   * ({@code the job was cancelled: ...}) among them.
   *
   * @param what the application's name
   * @param job the job on the context
   * @param translate what a failure means to the user
   * @param guard the command's guard, open around this call and the command's report
   * @param out where the line goes under a signal
   * @param notStarted what a signal while Spark starts leaves (e.g. {@code nothing was written to DIR})
   * @param cancelled what a signal during the job leaves, once it is cancelled and cleaned up
   * @param <T> the job's result
   * @return the result; empty where a signal ended the job (its line is said)
   */
  <T> java.util.Optional<T> run(String what, java.util.function.Function<org.apache.spark.api.java.JavaSparkContext, T> job,
      java.util.function.UnaryOperator<RuntimeException> translate, InterruptGuard guard, java.io.PrintWriter out,
      String notStarted, String cancelled) {
    SparkContexts.Lease spark;
    try {
      spark = guard.load(out, notStarted, () -> start(what, Terminal.isTerminal()));
    } catch (RuntimeException e) {
      throw translate.apply(e);
    }
    if (spark == null) {
      return java.util.Optional.empty(); // a signal while Spark started: said, and the JVM is ending
    }
    try (spark) {
      return java.util.Optional.of(job.apply(spark.context()));
    } catch (RuntimeException e) {
      if (!io.github.diffusion4j.spark.ShutdownHold.inShutdown()) {
        throw translate.apply(e); // a failure, or a job cancelled by other means: not the signal's
      }
      // Spark's shutdown hook cancelled the job, perhaps before the guard's own hook ran
      guard.signalled();
      guard.said(e, out, cancelled);
      return java.util.Optional.empty();
    }
  }
}
