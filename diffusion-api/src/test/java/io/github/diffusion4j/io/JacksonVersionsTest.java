package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.core.Version;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JacksonVersionsTest {
  private static Map<String, Version> versions(String core, String databind, String yaml) {
    Map<String, Version> m = new LinkedHashMap<>();
    m.put("jackson-core", parse(core));
    m.put("jackson-databind", parse(databind));
    m.put("jackson-dataformat-yaml", parse(yaml));
    return m;
  }

  private static Version parse(String v) {
    String[] p = v.split("\\.");
    return new Version(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]), null,
        "com.fasterxml.jackson.core", "x");
  }

  @Test
  void aDatabindPinnedAloneIsOneLineNamingTheVersionsAndTheBom() {
    assertEquals("the Jackson modules on the class path are of different versions (jackson-core 2.17.2, "
        + "jackson-databind 2.17.2, jackson-dataformat-yaml 2.21.8); diffusion4j reads its configuration with all "
        + "three, which need one version: align them, e.g. by importing com.fasterxml.jackson:jackson-bom (README, "
        + "\"Packaging an application\"), or, for a mix you have tested, -Ddiffusion4j.jackson.check=false",
        JacksonVersions.problem(versions("2.17.2", "2.17.2", "2.21.8")));
  }

  @Test
  void oneMinorVersionPassesWhateverThePatchLevels() {
    assertNull(JacksonVersions.problem(versions("2.17.2", "2.17.1", "2.17.0")));
  }

  /** Spring Boot 3.2's BOM aligns all three at 2.15.4, which lacks a method the JSON readers call. */
  @Test
  void oneVersionOlderThanTheApiNeedsIsOneLineNamingTheVersionsAndTheCure() {
    assertEquals("the Jackson modules on the class path are older than diffusion4j needs (jackson-core 2.15.4, "
        + "jackson-databind 2.15.4, jackson-dataformat-yaml 2.15.4); it needs 2.16 or later: import "
        + "com.fasterxml.jackson:jackson-bom of such a version, or with Spring Boot's parent or BOM set the property "
        + "jackson-bom.version (README, \"Packaging an application\")",
        JacksonVersions.problem(versions("2.15.4", "2.15.4", "2.15.4")));
    assertNull(JacksonVersions.problem(versions("2.16.0", "2.16.0", "2.16.0")));
  }

  @Test
  void theClassPathOfThisBuildPasses() {
    JacksonVersions.require();
  }
}
