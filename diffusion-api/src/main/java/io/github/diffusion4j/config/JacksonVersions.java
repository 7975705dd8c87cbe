package io.github.diffusion4j.config;

import com.fasterxml.jackson.core.Version;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Whether the three Jackson modules the configuration is read with (core, databind, YAML) are of one minor
 * version, as Jackson requires. An application that pins one of them alone (say jackson-databind 2.17 next to the
 * api's jackson-dataformat-yaml) otherwise fails inside the first parse with a {@link NoSuchMethodError}; this
 * turns that into one line that names the versions and the cure. The system property {@value #CHECK}{@code =false}
 * turns the check off, for a mix the application has tested itself.
 */
final class JacksonVersions {
  private JacksonVersions() {}

  /** The system property that turns the check off ({@code false}). */
  static final String CHECK = "diffusion4j.jackson.check";

  private static final String MISMATCH = mismatch(onClassPath());

  /** Throws {@link IllegalStateException} where the Jackson modules on the class path differ in version. */
  static void require() {
    if (MISMATCH != null && !"false".equals(System.getProperty(CHECK))) {
      throw new IllegalStateException(MISMATCH);
    }
  }

  private static Map<String, Version> onClassPath() {
    Map<String, Version> v = new LinkedHashMap<>();
    v.put("jackson-core", com.fasterxml.jackson.core.json.PackageVersion.VERSION);
    v.put("jackson-databind", com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION);
    v.put("jackson-dataformat-yaml", com.fasterxml.jackson.dataformat.yaml.PackageVersion.VERSION);
    return v;
  }

  /** The message for modules of different minor versions, or null where they agree (patch levels may differ). */
  static String mismatch(Map<String, Version> modules) {
    long minors = modules.values().stream().map(v -> v.getMajorVersion() + "." + v.getMinorVersion()).distinct()
        .count();
    if (minors <= 1) {
      return null;
    }
    return "the Jackson modules on the class path are of different versions ("
        + modules.entrySet().stream().map(e -> e.getKey() + " " + e.getValue().toString())
            .collect(Collectors.joining(", "))
        + "); diffusion4j reads its configuration with all three, which need one version: align them, e.g. by "
        + "importing com.fasterxml.jackson:jackson-bom (README, \"Packaging an application\"), or, for a mix you have "
        + "tested, -D" + CHECK + "=false";
  }
}
