package io.github.diffusion4j.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.cli.BadInputException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark configuration the commands start with. */
class ClusterOptionsTest {
  private static ClusterOptions options(String master, String... conf) {
    ClusterOptions o = new ClusterOptions();
    o.master = master;
    o.ship = "auto";
    o.conf = new java.util.ArrayList<>(List.of(conf));
    return o;
  }

  /**
   * On a standalone cluster the executors have Spark's jars only; without spark.jars every task failed with
   * "ClassNotFoundException: io.github.diffusion4j.spark.ShardPlan$Shard" (the launcher gave none).
   */
  @Test
  void aClusterMasterShipsTheApplicationJarsButNotSparks() {
    SparkConf c = options("spark://head:7077").conf("sample", false);
    assertTrue(c.contains("spark.jars"), c.toDebugString());
    List<String> jars = List.of(c.get("spark.jars").split(","));
    // picocli is on this class path as a jar (the command line's); Spark's core is where Spark's jars are
    assertTrue(jars.stream().anyMatch(j -> j.contains("picocli")), jars.toString());
    assertFalse(jars.stream().anyMatch(j -> j.contains("spark-core_")), jars.toString());
  }

  /**
   * Without --master the context runs where spark-submit's spark.master says, else on every core with 4 attempts per
   * task (the retries of a failed shard that docs/spark.md describes); --master overrides the property.
   */
  @Test
  void withoutAMasterTheJobRunsLocallyWithRetriesOrWhereSparkSubmitSays() {
    String before = System.getProperty("spark.master");
    try {
      System.clearProperty("spark.master");
      SparkConf c = options(null).conf("sample", false);
      assertEquals("local[*,4]", c.get("spark.master"));
      assertEquals("diffusion4j sample", c.get("spark.app.name"));
      System.setProperty("spark.master", "local[3]");
      assertEquals("local[3]", options(null).conf("sample", false).get("spark.master"));
      assertEquals("local[2]", options("local[2]").conf("sample", false).get("spark.master"));
    } finally {
      if (before == null) {
        System.clearProperty("spark.master");
      } else {
        System.setProperty("spark.master", before);
      }
    }
  }

  /** A master given with --conf (which overrides --master) is checked as --master is, and named as given. */
  @Test
  void aMasterGivenWithConfIsChecked() {
    BadInputException e = assertThrows(BadInputException.class, () -> options(null, "spark.master=bogus").check());
    assertTrue(e.getMessage().startsWith("--conf spark.master=bogus: not a Spark master URL"), e.getMessage());
    e = assertThrows(BadInputException.class, () -> options("local[2]", "spark.master=mesos://head:5050").check());
    assertTrue(e.getMessage().startsWith("--conf spark.master=mesos://head:5050: no Spark cluster manager"),
        e.getMessage());
    options(null, "spark.master=spark://head:7077").check();
    assertEquals("spark://head:7077", options("local[2]", "spark.master=spark://head:7077").conf("sample", false)
        .get("spark.master"));
  }

  /**
   * A master given as the spark.master system property (-Dspark.master=..., which the configuration starts with when
   * no option gives one) was not checked, and a malformed one failed inside Spark, in Spark's words.
   */
  @Test
  void aMasterGivenAsASystemPropertyIsChecked() {
    String before = System.getProperty("spark.master");
    try {
      System.setProperty("spark.master", "bogus");
      BadInputException e = assertThrows(BadInputException.class, () -> options(null).check());
      assertTrue(e.getMessage().startsWith("-Dspark.master=bogus: not a Spark master URL (allowed: local, "),
          e.getMessage());
      System.setProperty("spark.master", "mesos://head:5050");
      e = assertThrows(BadInputException.class, () -> options(null).check());
      assertTrue(e.getMessage().startsWith("-Dspark.master=mesos://head:5050: no Spark cluster manager"),
          e.getMessage());
      // an option's master overrides the property, and is the one checked
      options("local[2]").check();
      options(null, "spark.master=local[2]").check();
      System.setProperty("spark.master", "local[3]");
      options(null).check();
    } finally {
      if (before == null) {
        System.clearProperty("spark.master");
      } else {
        System.setProperty("spark.master", before);
      }
    }
  }

  @Test
  void localModeAndAGivenSparkJarsAreLeftAlone() {
    assertFalse(options("local[2]").conf("sample", false).contains("spark.jars"));
    assertEquals("/opt/app.jar",
        options("spark://head:7077", "spark.jars=/opt/app.jar").conf("sample", false).get("spark.jars"));
  }

  @Test
  void applicationJarsAreTheClassPathsJarsOutsideSparksFolder(@TempDir Path dir) throws IOException {
    Path spark = Files.createDirectories(dir.resolve("spark-lib"));
    Path lib = Files.createDirectories(dir.resolve("lib"));
    Path classes = Files.createDirectories(dir.resolve("classes"));
    Path core = Files.createFile(spark.resolve("spark-core_2.13-4.2.0.jar"));
    Path app = Files.createFile(dir.resolve("diffusion-spark.jar"));
    Path dep = Files.createFile(lib.resolve("picocli-4.7.7.jar"));
    String cp = String.join(File.pathSeparator, app.toString(), dep.toString(), core.toString(), classes.toString(),
        dir.resolve("missing.jar").toString(), dep.toString(), "");
    assertEquals(app + "," + dep, ClusterOptions.applicationJars(cp, spark));

    // spark.jars is comma-separated: a jar under a folder with a comma would become two missing paths
    Path comma = Files.createFile(Files.createDirectories(dir.resolve("a,b")).resolve("app.jar"));
    BadInputException e = assertThrows(BadInputException.class,
        () -> ClusterOptions.applicationJars(app + File.pathSeparator + comma, spark));
    assertTrue(e.getMessage().startsWith("--master: the jar " + comma + " has a comma in its path"), e.getMessage());
  }

  @Test
  void clusterExecutorsGetTheLaunchersNativeSettingsUnlessGiven() {
    SparkConf c = new SparkConf(false).set("spark.executorEnv.MALLOC_TOP_PAD_", "1")
        .set("spark.executor.extraJavaOptions", "-Dx=1");
    ClusterOptions.executorEnvironment(c, java.util.Map.of("OMP_WAIT_POLICY", "PASSIVE", "MALLOC_TOP_PAD_",
        "67108864", "MALLOC_MMAP_MAX_", "0", "HOME", "/root"));
    assertEquals("PASSIVE", c.get("spark.executorEnv.OMP_WAIT_POLICY"));
    assertEquals("0", c.get("spark.executorEnv.MALLOC_MMAP_MAX_"));
    assertEquals("1", c.get("spark.executorEnv.MALLOC_TOP_PAD_"));
    assertFalse(c.contains("spark.executorEnv.HOME"));
    assertEquals("-Dx=1 -Dai.djl.offline=true", c.get("spark.executor.extraJavaOptions"));
    assertFalse(options("local[2]").conf("sample", false).contains("spark.executor.extraJavaOptions"));
  }

  /**
   * {@code --threads N} gives the executors started for the job {@code OMP_NUM_THREADS=N} in their environment (a
   * native backend's thread pool is sized by it), unless a --conf sets it; without --threads nothing is set.
   */
  @Test
  void threadsPerTaskReachTheExecutorsEnvironment() {
    ClusterOptions o = options("local[2]");
    assertFalse(o.conf("sample", false).contains("spark.executorEnv.OMP_NUM_THREADS"));
    o.threads = 3;
    assertEquals("3", o.conf("sample", false).get("spark.executorEnv.OMP_NUM_THREADS"));
    o.conf.add("spark.executorEnv.OMP_NUM_THREADS=5");
    assertEquals("5", o.conf("sample", false).get("spark.executorEnv.OMP_NUM_THREADS"));
  }

  /**
   * A signal as the command starts Spark (here, before: the guard's hook already ran) says the command's line and starts
   * no context and no job: the context's start heeds no interrupt, and the JVM ended without a word, after seconds.
   */
  @Test
  void aSignalWhileSparkStartsIsSaidAndRunsNoJob() {
    java.io.StringWriter text = new java.io.StringWriter();
    java.io.PrintWriter out = new java.io.PrintWriter(text);
    boolean[] ran = new boolean[1];
    try (io.github.diffusion4j.cli.InterruptGuard guard = new io.github.diffusion4j.cli.InterruptGuard(() -> { })) {
      guard.signalled(); // what the guard's shutdown hook does first
      java.util.Optional<Integer> done = options("local[1]").run("sample", sc -> {
        ran[0] = true;
        return 1;
      }, e -> e, guard, out, "nothing was written to DIR", "cancelled");
      assertTrue(done.isEmpty(), "no result");
    }
    assertFalse(ran[0], "no job ran");
    assertEquals("interrupted; nothing was written to DIR", text.toString().strip());
  }

  /**
   * A signal quiets Spark's task scheduler: its "Task N failed 1 times; aborting job" (a task launched on the executor
   * that Spark's shutdown stops) would stand beside the command's own line on about half of the Ctrl-Cs.
   */
  @Test
  void aSignalQuietsTheTaskSchedulersLog() {
    org.apache.logging.log4j.Logger log = org.apache.logging.log4j.LogManager.getLogger(ClusterOptions.TASK_SCHEDULER_LOG);
    org.apache.logging.log4j.Level before = log.getLevel();
    // the command line's level for it (log4j2-cli.properties; the tests log at another)
    org.apache.logging.log4j.core.config.Configurator.setLevel(ClusterOptions.TASK_SCHEDULER_LOG,
        org.apache.logging.log4j.Level.ERROR);
    try (io.github.diffusion4j.cli.InterruptGuard guard = ClusterOptions.guard()) {
      assertTrue(log.isErrorEnabled(), "before a signal");
      guard.signalled(); // what the guard's shutdown hook does first
      assertFalse(log.isErrorEnabled(), "after it, off");
    } finally {
      org.apache.logging.log4j.core.config.Configurator.setLevel(ClusterOptions.TASK_SCHEDULER_LOG, before);
      Thread.interrupted(); // whatever interrupt the simulated signal left on this thread
    }
  }
  /**
   * A driver heap below Spark's minimum (DIFFUSION_JAVA_OPTS=-Xmx300m) stopped the context's start with Spark's
   * error, exit 1, whose advice (--driver-memory, spark.driver.memory) a running JVM cannot take.
   */
  @Test
  void aHeapBelowSparksMinimumIsBadInputNamingHowToRaiseIt() {
    RuntimeException spark = new IllegalArgumentException("[INVALID_DRIVER_MEMORY] System memory 314572800 must be at "
        + "least 471859200.\nPlease increase heap size using the --driver-memory option or \"spark.driver.memory\" in "
        + "Spark configuration. SQLSTATE: F0000");
    RuntimeException e = ClusterOptions.startFailure(spark);
    assertTrue(e instanceof BadInputException, e.toString());
    assertEquals("Spark needs a driver heap of at least 450 MiB, and this JVM's is 300 MiB: give the JVM more (-Xmx1g "
        + "in DIFFUSION_JAVA_OPTS for ./diffusion, --driver-memory 1g for spark-submit)", e.getMessage());
    RuntimeException other = new IllegalStateException("something else");
    assertTrue(ClusterOptions.startFailure(other) == other);
  }
}
