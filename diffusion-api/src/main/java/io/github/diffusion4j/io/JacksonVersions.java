package io.github.diffusion4j.io;

import com.fasterxml.jackson.core.Version;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Whether the three Jackson modules that checkpoints, manifests and the configuration are read with (core, databind,
 * YAML) are of one minor version, as Jackson requires, and not older than the api needs. An application that pins one
 * of them alone (say jackson-databind 2.17 next to the api's jackson-dataformat-yaml), or whose framework manages
 * an older Jackson for all three (Spring Boot 3.0 to 3.2: 2.14 and 2.15), otherwise fails inside the first parse with
 * a {@link NoSuchMethodError}; this turns that into one line that names the versions and the cure. The system
 * property {@value #CHECK}{@code =false} turns the check off, for a mix the application has tested itself.
 */
public final class JacksonVersions {
  private JacksonVersions() {}

  /** The system property that turns the check off ({@code false}). */
  public static final String CHECK = "diffusion4j.jackson.check";

  /**
   * The oldest minor version the api runs on: 2.16 added {@code StreamReadConstraints.Builder.maxNameLength}, which
   * the JSON readers call (2.15 lacks it; 2.14 also lacks {@code YAMLParser.Feature.EMPTY_STRING_AS_NULL}).
   */
  static final int OLDEST_MINOR = 16;

  private static final String PROBLEM = problem(onClassPath());

  /**
   * Throws where the Jackson modules on the class path differ in minor version or are older than the api needs
   * (unless {@value #CHECK}{@code =false}); called before the api's first JSON or YAML parser is built.
   *
   * @throws IllegalStateException with a one-line message naming the three versions and how to align them
   */
  public static void require() {
    if (PROBLEM != null && !"false".equals(System.getProperty(CHECK))) {
      throw new IllegalStateException(PROBLEM);
    }
  }

  private static Map<String, Version> onClassPath() {
    Map<String, Version> v = new LinkedHashMap<>();
    v.put("jackson-core", com.fasterxml.jackson.core.json.PackageVersion.VERSION);
    v.put("jackson-databind", com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION);
    v.put("jackson-dataformat-yaml", com.fasterxml.jackson.dataformat.yaml.PackageVersion.VERSION);
    return v;
  }

  /**
   * The message for modules of different minor versions or of one older than {@link #OLDEST_MINOR}, or null where
   * they agree (patch levels may differ) and are recent enough.
   */
  static String problem(Map<String, Version> modules) {
    String versions = modules.entrySet().stream().map(e -> e.getKey() + " " + e.getValue().toString())
        .collect(Collectors.joining(", "));
    long minors = modules.values().stream().map(v -> v.getMajorVersion() + "." + v.getMinorVersion()).distinct()
        .count();
    if (minors > 1) {
      return "the Jackson modules on the class path are of different versions (" + versions + "); diffusion4j reads "
          + "its configuration with all three, which need one version: align them, e.g. by importing "
          + "com.fasterxml.jackson:jackson-bom (README, \"Packaging an application\"), or, for a mix you have "
          + "tested, -D" + CHECK + "=false";
    }
    Version v = modules.values().iterator().next();
    if (v.getMajorVersion() == 2 && v.getMinorVersion() < OLDEST_MINOR) {
      return "the Jackson modules on the class path are older than diffusion4j needs (" + versions + "); it needs 2."
          + OLDEST_MINOR + " or later: import com.fasterxml.jackson:jackson-bom of such a version, or with Spring "
          + "Boot's parent or BOM set the property jackson-bom.version (README, \"Packaging an application\")";
    }
    return null;
  }
}
