package io.github.diffusion4j.config;

/**
 * Writes a configuration as YAML: every key that applies to it (keys of another {@code kind} and absent
 * optional paths are left out), so that {@link ConfigLoader} reads it back to an equal configuration.
 * Used for the {@code config.yaml} of a run or checkpoint.
 */
public final class ConfigWriter {
  /** The first line of every {@link #toYaml} text: how a run's {@code config.yaml} is told from a user's own. */
  public static final String FIRST_LINE = "# diffusion4j configuration (fully resolved)";

  private ConfigWriter() {}

  /**
   * The fully resolved configuration as YAML.
   *
   * @param config the configuration
   * @return the YAML text; {@code ConfigLoader.loadString(toYaml(c), name).equals(c)}
   */
  public static String toYaml(DiffusionConfig config) {
    return YamlEmitter.write(config, false, FIRST_LINE.substring(2));
  }

  /**
   * The keys whose values differ between two configurations written by {@link #toYaml} (a run's or a checkpoint's
   * {@code config.yaml}), each as {@code key.path: before -> after}, in the order of the later one's keys, then
   * the keys only the earlier one has; a key one side lacks shows {@code (none)} there.
   *
   * @param before the earlier configuration's YAML
   * @param after the later one's
   * @return the differences, empty if there are none
   */
  public static java.util.List<String> changes(String before, String after) {
    java.util.Map<String, String> a = flatten(before);
    java.util.Map<String, String> b = flatten(after);
    java.util.List<String> out = new java.util.ArrayList<>();
    for (java.util.Map.Entry<String, String> e : b.entrySet()) {
      String old = a.get(e.getKey());
      if (!e.getValue().equals(old)) {
        out.add(e.getKey() + ": " + (old == null ? "(none)" : old) + " -> " + e.getValue());
      }
    }
    for (java.util.Map.Entry<String, String> e : a.entrySet()) {
      if (!b.containsKey(e.getKey())) {
        out.add(e.getKey() + ": " + e.getValue() + " -> (none)");
      }
    }
    return out;
  }

  /** {@code key.path -> value as written} of a configuration's YAML, read by the loader's own parser. */
  private static java.util.Map<String, String> flatten(String yaml) {
    java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
    flatten(YamlTree.parseDocument(yaml, "config.yaml"), "", out);
    return out;
  }

  private static void flatten(Node node, String path, java.util.Map<String, String> out) {
    if (node instanceof Node.MapNode map && !map.entries().isEmpty()) {
      map.entries().forEach((k, e) -> flatten(e.value(), path.isEmpty() ? k : path + "." + k, out));
    } else {
      out.put(path, node instanceof Node.ScalarNode sc ? sc.text() : String.valueOf(node.toPlain()));
    }
  }
}
