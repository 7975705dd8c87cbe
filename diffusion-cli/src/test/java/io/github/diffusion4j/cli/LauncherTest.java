package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher {@code ./diffusion} gives the options of newer JVMs only to the JVMs that know them (Java 17 refuses
 * to start on an option it does not know): its functions {@code java_feature} (the JVM's feature version, from its
 * home's {@code release} file or {@code java -version}) and {@code newer_jvm_options}, run by bash on fake JVMs and
 * on the one running this test.
 */
class LauncherTest {
  private static final Path LAUNCHER = Path.of("..", "diffusion").toAbsolutePath().normalize();

  @TempDir
  Path dir;

  /** Runs {@code call} (with {@code java_cmd} set to {@code javaCmd}) after the launcher's Java functions. */
  private static String bash(String javaCmd, String call) throws IOException, InterruptedException {
    return withFunctions(List.of("java_feature", "newer_jvm_options", "require_java"), "java_cmd=\"$2\"\n" + call,
        null, javaCmd);
  }

  /**
   * Runs {@code script} in bash after the launcher's {@code functions} (taken from the launcher itself), in
   * {@code cwd} (null: this one), with {@code args} as {@code $2}... ({@code $1} is the launcher); its output,
   * once it has exited 0.
   */
  private static String withFunctions(List<String> functions, String script, Path cwd, String... args)
      throws IOException, InterruptedException {
    assumeTrue(Files.isRegularFile(LAUNCHER), "the launcher is beside the module");
    StringBuilder sed = new StringBuilder("sed -n");
    functions.forEach(f -> sed.append(" -e '/^").append(f).append("() {/,/^}/p'"));
    List<String> command = new ArrayList<>(List.of("bash", "-c", "eval \"$(" + sed + " \"$1\")\"\n" + script,
        "bash", LAUNCHER.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    if (cwd != null) {
      pb.directory(cwd.toFile());
    }
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      assumeTrue(false, "no bash: " + e.getMessage());
      throw e;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bash ended");
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  /** A fake JVM home: {@code bin/java} prints {@code versionOutput} to stderr; a {@code release} file if given. */
  private Path fakeJava(String name, String versionOutput, String release) throws IOException {
    Path bin = Files.createDirectories(dir.resolve(name).resolve("bin"));
    Path java = bin.resolve("java");
    Files.writeString(java, "#!/bin/sh\ncat >&2 <<'EOF'\n" + versionOutput + "\nEOF\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    if (release != null) {
      Files.writeString(dir.resolve(name).resolve("release"), release);
    }
    return java;
  }

  @Test
  void theFeatureVersionComesFromTheReleaseFileElseFromJavaVersion() throws Exception {
    // the release file wins, and no JVM is started for it (this java would say 11)
    Path withRelease = fakeJava("release", "openjdk version \"11.0.2\" 2019-01-15",
        "IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_RUNTIME_VERSION=\"25.0.3+9-LTS\"\nJAVA_VERSION=\"25.0.3\"\n");
    assertEquals("25", bash(withRelease.toString(), "java_feature"));
    // reached through a link, as /usr/bin/java is
    Path link = Files.createSymbolicLink(dir.resolve("java-link"), withRelease);
    assertEquals("25", bash(link.toString(), "java_feature"));
    List<String[]> outputs = List.of(
        new String[] {"17", "openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6)"},
        new String[] {"21", "Picked up JAVA_TOOL_OPTIONS: -Dfile.encoding=UTF-8 -Dv=\"9\"\n"
            + "openjdk version \"21\" 2023-09-19\nOpenJDK 64-Bit Server VM (build 21+35, mixed mode)"},
        new String[] {"26", "openjdk version \"26-ea\" 2026-03-17"},
        new String[] {"23", "java version \"23.0.1\" 2024-10-15\nJava(TM) SE Runtime Environment Oracle GraalVM"},
        new String[] {"1", "java version \"1.8.0_392\""},
        new String[] {"", "Error: could not find libjava.so"});
    List<String> got = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < outputs.size(); i++) {
      expected.add(outputs.get(i)[0]);
      got.add(bash(fakeJava("jdk" + i, outputs.get(i)[1], null).toString(), "java_feature"));
    }
    assertEquals(expected, got);
    assertEquals("", bash(dir.resolve("no-such-java").toString(), "java_feature"));
  }

  /** No java, a JAVA_HOME without one, or a Java older than 17: one line each, exit 1, before anything is built. */
  @Test
  void aMissingOrOldJavaIsOneLine() throws Exception {
    String check = "require_java \"$(java_feature)\" 2>&1 && echo ok || echo \"exit $?\"";
    assertEquals("diffusion: no java on PATH: install a JDK 17 or later (Debian: apt-get install "
        + "openjdk-17-jdk-headless), or set JAVA_HOME to one\nexit 1", bash(dir.resolve("no-such-java").toString(),
        "unset JAVA_HOME; " + check));
    assertEquals("diffusion: JAVA_HOME=/nowhere has no bin/java: set JAVA_HOME to a JDK 17 or later, or unset it to "
        + "use the java on PATH\nexit 1", bash("/nowhere/bin/java", "JAVA_HOME=/nowhere " + check));
    Path old = fakeJava("jdk8", "java version \"1.8.0_392\"", null);
    assertEquals("diffusion: " + old + " is older than Java 17, which diffusion4j needs: set JAVA_HOME to a JDK 17 "
        + "or later\nexit 1", bash(old.toString(), check));
    Path eleven = fakeJava("jdk11", "openjdk version \"11.0.2\"", null);
    assertTrue(bash(eleven.toString(), check).endsWith("is older than Java 17, which diffusion4j needs: set "
        + "JAVA_HOME to a JDK 17 or later\nexit 1"));
    assertEquals("ok", bash(fakeJava("jdk17", "openjdk version \"17.0.15\" 2025-04-15", null).toString(), check));
  }

  @Test
  void theNewerOptionsAreGivenFromJava24On() throws Exception {
    String newer = "--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow";
    for (String feature : List.of("", "1", "17", "21", "23", "x")) {
      assertEquals("", bash("java", "newer_jvm_options '" + feature + "'"), "Java " + feature);
    }
    for (String feature : List.of("24", "25", "26")) {
      assertEquals(newer, bash("java", "newer_jvm_options '" + feature + "'"), "Java " + feature);
    }
  }

  /** This JVM's version is read, and this JVM starts with the options the launcher would give it. */
  @Test
  void thisJvmStartsWithTheOptionsTheLauncherGivesIt() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    assertEquals(String.valueOf(Runtime.version().feature()), bash(java, "java_feature"));
    String out = bash(java, "read -r -a opts <<< \"$(newer_jvm_options \"$(java_feature)\")\"\n"
        + "echo \"options: ${opts[*]}\"\n\"$java_cmd\" \"${opts[@]}\" -version");
    assertTrue(out.startsWith(Runtime.version().feature() >= 24
        ? "options: --enable-native-access" : "options: \n"), out);
  }

  /**
   * The launcher is found through symbolic links to it ({@code ln -s ~/diffusion4j/diffusion ~/bin/diffusion}):
   * its function {@code script_dir} gives the clone's folder, where the launcher looked for the jar and
   * {@code ./mvnw} beside the link before ("./mvnw: No such file or directory").
   */
  @Test
  void theCloneIsFoundThroughSymbolicLinksToTheLauncher() throws Exception {
    Path clone = Files.createDirectories(dir.resolve("a clone $x 'q' \u00fc"));
    Path launcher = Files.copy(LAUNCHER, clone.resolve("diffusion"));
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path absolute = Files.createSymbolicLink(bin.resolve("diffusion"), launcher);
    Path relative = Files.createSymbolicLink(dir.resolve("-d"), dir.relativize(absolute)); // a link to a link
    String out = withFunctions(List.of("script_dir"), "for f in \"$2\" \"$3\" \"$4\" ./-d; do script_dir \"$f\"; done",
        dir, launcher.toString(), absolute.toString(), relative.toString());
    String real = clone.toRealPath().toString();
    assertEquals(String.join("\n", real, real, real, real), out);
  }

  /**
   * Under the C locale the JVM decodes arguments and file names as ASCII ({@code --out b\u00e4ume.png}: "Malformed
   * input"): the launcher's {@code utf8_if_ascii} gives the JVM C.UTF-8 there, and leaves any other locale alone.
   */
  @Test
  void anAsciiLocaleBecomesCUtf8AndOthersStay() throws Exception {
    List<String> got = new ArrayList<>();
    for (String locale : List.of("C", "POSIX", "C.UTF-8")) {
      got.add(withFunctions(List.of("utf8_if_ascii"),
          "export LC_ALL=\"$2\"; utf8_if_ascii; echo \"$LC_ALL $(locale charmap 2>/dev/null)\"", null, locale));
    }
    assumeTrue(got.get(2).equals("C.UTF-8 UTF-8"), "this system has the locale C.UTF-8: " + got);
    assertEquals(List.of("C.UTF-8 UTF-8", "C.UTF-8 UTF-8", "C.UTF-8 UTF-8"), got);
  }

  /**
   * A system without C.UTF-8 (glibc before 2.35 without the distribution's patch: CentOS 7, Amazon Linux 2) gives
   * the JVM US English in UTF-8 where it has that (the launcher gave it nothing, so a non-ASCII file name failed);
   * with no UTF-8 locale at all, an argument, the working folder or the clone's with a non-ASCII character gets one
   * warning line that says so, and an all-ASCII command line none. A stand-in {@code locale} on PATH plays systems
   * with the UTF-8 locales given.
   */
  @Test
  void withoutCUtf8AnotherUtf8LocaleIsTakenAndWithoutAnyAnArgumentOfOtherCharactersIsWarnedOf() throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path locale = bin.resolve("locale");
    // charmap: UTF-8 for the locales in $UTF8_LOCALES, else ASCII, as glibc's locale says for one it lacks
    Files.writeString(locale, "#!/bin/sh\ncase \" $UTF8_LOCALES \" in *\" ${LC_ALL:-C} \"*) echo UTF-8 ;; "
        + "*) echo ANSI_X3.4-1968 ;; esac\n");
    Files.setPosixFilePermissions(locale, PosixFilePermissions.fromString("rwxr-xr-x"));
    // (bash's own "setlocale: cannot change locale" for the locale the stand-in claims and this system lacks is left
    // out; a real system has the locale its charmap names)
    String call = "export PATH=\"$2:$PATH\" UTF8_LOCALES=\"$3\" LC_ALL=C; here=/opt/clone;"
        + " utf8_if_ascii \"$4\" 2>\"$2/err\"; grep -v 'setlocale: ' \"$2/err\"; echo \"LC_ALL=$LC_ALL\"";
    List<String> got = new ArrayList<>();
    for (String[] c : new String[][] {{"en_US.UTF-8", "b\u00e4ume.png"}, {"C.utf8 en_US.UTF-8", "x.png"},
        {"", "x.png"}, {"", "b\u00e4ume.png"}}) {
      got.add(withFunctions(List.of("utf8_if_ascii"), call, dir, bin.toString(), c[0], c[1]));
    }
    assertEquals(List.of("LC_ALL=en_US.UTF-8", "LC_ALL=C.utf8", "LC_ALL=C",
        "diffusion: warning: this locale's character set is ASCII and the system has no UTF-8 locale (C.UTF-8, "
            + "en_US.UTF-8) to give Java: a file name or argument with other characters will be refused; install one "
            + "(Debian: apt-get install locales) and set LC_ALL to it\nLC_ALL=C"), got);
  }

  /**
   * The jar is rebuilt when a module's main sources, resources or a POM are newer than it, not for an edited test
   * (the tests are not in the jar, and a rebuild takes a minute or two), nor for what lies in a {@code target} folder.
   */
  @Test
  void theJarIsStaleForMainSourcesResourcesAndPomsButNotForTests() throws Exception {
    assumeTrue(Files.isRegularFile(LAUNCHER), "the launcher is beside the module");
    Path clone = Files.createDirectories(dir.resolve("stale"));
    java.util.Map<String, Path> files = new java.util.LinkedHashMap<>();
    for (String f : List.of("m/src/main/java/A.java", "m/src/test/java/ATest.java", "m/src/test/resources/t.txt",
        "m/src/main/resources/r.txt", "m/pom.xml", "m/target/classes/B.java", "n/src/test/java/NTest.java")) {
      files.put(f, Files.createDirectories(clone.resolve(f).getParent()).resolve(clone.resolve(f).getFileName()));
      Files.writeString(files.get(f), "x");
      Files.setLastModifiedTime(files.get(f), java.nio.file.attribute.FileTime.fromMillis(1_000_000_000_000L));
    }
    Path jar = Files.writeString(clone.resolve("m/target/m.jar"), "jar");
    Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(1_500_000_000_000L));
    String script = "eval \"$(sed -n '/^stale() {/,/^}/p' \"$1\")\"\nhere=\"$2\"; jar=\"$here/m/target/m.jar\"\n"
        + "if stale; then echo stale; else echo fresh; fi";
    java.util.function.Supplier<String> run = () -> {
      try {
        Process p = new ProcessBuilder("bash", "-c", script, "bash", LAUNCHER.toString(), clone.toString())
            .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bash ended");
        return out;
      } catch (java.io.IOException | InterruptedException e) {
        throw new AssertionError(e);
      }
    };
    assertEquals("fresh", run.get(), "nothing newer than the jar");
    for (java.util.Map.Entry<String, Path> f : files.entrySet()) {
      Files.setLastModifiedTime(f.getValue(), java.nio.file.attribute.FileTime.fromMillis(2_000_000_000_000L));
      boolean rebuilds = !f.getKey().contains("/src/test/") && !f.getKey().contains("/target/");
      assertEquals(rebuilds ? "stale" : "fresh", run.get(), f.getKey() + " newer than the jar");
      Files.setLastModifiedTime(f.getValue(), java.nio.file.attribute.FileTime.fromMillis(1_000_000_000_000L));
    }
  }

  /**
   * Two launchers started at once in a clone whose jar is stale (a job scheduler's tasks after a pull) build one
   * after the other: two {@code ./mvnw} at once deleted each other's class files and one failed ("NoSuchFileException:
   * .../target/classes/...class", exit 1). Here a fake {@code ./mvnw} that fails when another runs in the clone.
   */
  @Test
  void launchersStartedAtOnceBuildOneAfterTheOther() throws Exception {
    assumeTrue(Files.isRegularFile(LAUNCHER), "the launcher is beside the module");
    assumeTrue(new ProcessBuilder("sh", "-c", "command -v flock").start().waitFor() == 0, "flock (util-linux)");
    Path clone = Files.createDirectories(dir.resolve("clone"));
    Files.createDirectories(clone.resolve("m/src"));
    Files.writeString(clone.resolve("m/src/A.java"), "class A {}");
    Path mvnw = clone.resolve("mvnw");
    Files.writeString(mvnw, "#!/bin/sh\n"
        + "mkdir building 2>/dev/null || { echo 'two builds at once' >&2; exit 1; }\n"
        + "echo build >> builds.log\n"
        + "sleep 2\n"
        + "mkdir -p m/target && echo jar > m/target/m.jar\n"
        + "rmdir building\n");
    Files.setPosixFilePermissions(mvnw, PosixFilePermissions.fromString("rwxr-xr-x"));
    String sed = "sed -n -e '/^stale() {/,/^}/p' -e '/^build() {/,/^}/p' -e '/^build_if_stale() {/,/^}/p'";
    String script = "set -euo pipefail\neval \"$(" + sed + " \"$1\")\"\n"
        + "here=\"$2\"; module=m; jar=\"$here/m/target/m.jar\"\nbuild_if_stale\necho built";
    List<Process> launchers = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      launchers.add(new ProcessBuilder("bash", "-c", script, "bash", LAUNCHER.toString(), clone.toString())
          .redirectErrorStream(true).start());
    }
    for (Process p : launchers) {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bash ended");
      assertEquals(0, p.exitValue(), out);
      assertTrue(out.endsWith("built"), out);
    }
    assertEquals(List.of("build"), Files.readAllLines(clone.resolve("builds.log")), "the second found the jar fresh");
    // a file system without locks (flock fails, not for a conflict): the build runs without the lock
    Files.delete(clone.resolve("m/target/m.jar"));
    Path bin = Files.createDirectories(dir.resolve("nolocks"));
    Files.writeString(bin.resolve("flock"), "#!/bin/sh\necho 'flock: 9: No locks available' >&2\nexit 1\n");
    Files.setPosixFilePermissions(bin.resolve("flock"), PosixFilePermissions.fromString("rwxr-xr-x"));
    ProcessBuilder unlocked = new ProcessBuilder("bash", "-c", script, "bash", LAUNCHER.toString(), clone.toString())
        .redirectErrorStream(true);
    unlocked.environment().put("PATH", bin + ":" + unlocked.environment().get("PATH"));
    Process p = unlocked.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bash ended");
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.endsWith("built") && !out.contains("waiting"), out);
    assertEquals(List.of("build", "build"), Files.readAllLines(clone.resolve("builds.log")));
  }

  /**
   * The completion script ({@code diffusion generate-completion}, sourced in bash) completes what the launcher runs:
   * after {@code spark}, the subcommands and options of diffusion-spark's commands, and after {@code bench}, the
   * options of the benchmarks' program; it completed both to the main commands (train, sample, ...), which this
   * jar alone has. An option's value from a fixed set ({@code spark sample --format}) completes to the set. The
   * top-level help lists them too.
   */
  @Test
  void completionAndHelpCoverTheCommandsTheLauncherRunsFromOtherModules() throws Exception {
    Path script = Files.writeString(dir.resolve("completion.bash"), CliTest.cli("generate-completion").out());
    String out = withFunctions(List.of("script_dir"), String.join("\n", "source \"$2\"",
        "compopt() { :; } # bash's, which works only while bash itself completes",
        "complete_at() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE};",
        "  COMPREPLY=(); local w=\"${COMP_WORDS[COMP_CWORD]}\" before=\"${COMP_WORDS[COMP_CWORD - 1]}\";",
        "  _complete_diffusion diffusion \"$w\" \"$before\";",
        "  echo \"$1 ${*:2}: ${COMPREPLY[*]}\"; }",
        "complete_at diffusion spark ''", "complete_at diffusion spark sample --",
        "complete_at diffusion spark sample --checkpoint \"${2%.bash}\"", "complete_at diffusion bench --",
        "complete_at diffusion ''", "complete_at diffusion spark sample --format ''",
        "complete_at diffusion spark eval --ship ''", "complete_at diffusion bench --workload ''"),
        null, script.toString());
    List<String> lines = out.lines().toList();
    assertEquals(8, lines.size(), out);
    List<String> spark = List.of(lines.get(0).split(": ", 2)[1].split(" "));
    assertTrue(spark.contains("sample") && spark.contains("eval") && !spark.contains("train"), out);
    String sample = lines.get(1);
    assertTrue(sample.contains("--master") && sample.contains("--count") && !sample.contains("--bundled"), out);
    assertTrue(lines.get(2).contains(script.getFileName().toString()), "a file name: " + out);
    assertTrue(lines.get(3).contains("--train-steps") && lines.get(3).contains("--backend")
        && !lines.get(3).contains("--bundled"), out);
    assertTrue(lines.get(4).contains("spark") && lines.get(4).contains("bench"), out);
    // a value from a fixed set completes to the set, as config --bundled's does (it completed to nothing)
    assertEquals("diffusion spark sample --format : npy safetensors png", lines.get(5), out);
    assertEquals("diffusion spark eval --ship : path broadcast auto", lines.get(6), out);
    assertEquals("diffusion bench --workload : mlp unet ddpm pretrained cifar10", lines.get(7), out);
    String help = CliTest.cli("--help").out();
    assertTrue(help.contains("  spark ") && help.contains("  bench "), help);
  }
}
