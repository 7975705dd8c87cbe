package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line in a JVM started under the C locale without the launcher (which gives the JVM C.UTF-8): a
 * {@code java -jar diffusion-cli.jar} in a container without a locale, where Java encodes file names in ASCII. A
 * path with a non-ASCII character, as an argument or in a configuration, is one line naming it with the remedy
 * (picocli's conversion said "cannot convert '...' to interface java.nio.file.Path
 * (java.nio.file.InvalidPathException: Malformed input or input contains unmappable characters: ...)").
 */
class AsciiLocaleCliTest {
  @TempDir
  Path dir;

  /** Exit code and output of {@code diffusion ARGS} in a JVM of its own under LC_ALL=C. */
  private String[] underTheCLocale(String... args) throws IOException, InterruptedException {
    Path log = Files.createTempFile(dir, "child", ".log");
    ProcessBuilder pb = ChildCli.builder(dir, log, args);
    pb.environment().keySet().removeIf(k -> k.startsWith("LC_") || k.equals("LANG") || k.equals("JAVA_TOOL_OPTIONS")
        || k.equals("JDK_JAVA_OPTIONS"));
    pb.environment().put("LC_ALL", "C");
    Process p = pb.start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the JVM ended");
    return new String[] {String.valueOf(p.exitValue()), Files.readString(log, StandardCharsets.UTF_8)};
  }

  @Test
  void aPathTheFileNameEncodingCannotHoldIsOneLineWithTheRemedy() throws Exception {
    assumeTrue(System.getProperty("java.class.path").chars().allMatch(c -> c < 128),
        "a JVM under LC_ALL=C finds no class in a clone at a non-ASCII path");
    String[] arg = underTheCLocale("config", "--check", dir.resolve("donn\u00e9es.yaml").toString());
    assumeTrue(!arg[1].contains("OK") && !arg[1].contains("no such file"),
        "this JVM under LC_ALL=C encodes file names in ASCII: " + arg[1]);
    assertEquals("2", arg[0], arg[1]);
    List<String> lines = arg[1].lines().filter(l -> !l.startsWith("WARNING:")).toList();
    assertTrue(lines.get(0).startsWith("diffusion: Invalid value for option '--check': '"), arg[1]);
    assertTrue(lines.get(0).contains("': not a file name this JVM can use: it encodes file names in ANSI_X3.4-1968"),
        arg[1]);
    assertTrue(lines.get(0).endsWith("(LC_ALL=C.UTF-8, which the ./diffusion launcher sets for the C and POSIX "
        + "locales)"), arg[1]);
    assertFalse(arg[1].contains("java.nio"), arg[1]);

    // the same in a configuration: an ASCII file whose data.root is not
    Path yaml = dir.resolve("folder.yaml");
    Files.writeString(yaml, "data:\n  kind: folder\n  root: bilder-\u00fc\n", StandardCharsets.UTF_8);
    String[] key = underTheCLocale("config", "--check", yaml.toString());
    assertEquals("2", key[0], key[1]);
    String line = key[1].lines().filter(l -> !l.startsWith("WARNING:")).findFirst().orElse("");
    assertTrue(line.startsWith("diffusion: " + yaml + ":3:3: data.root: 'bilder-"), key[1]);
    assertTrue(line.contains("': not a file name this JVM can use: it encodes file names in ANSI_X3.4-1968"), key[1]);
  }
}
