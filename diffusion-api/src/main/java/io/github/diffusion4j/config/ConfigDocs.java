package io.github.diffusion4j.config;

import java.util.List;

/**
 * Documentation generated from the schema: the default configuration with every key commented (printed
 * by {@code diffusion config}) and the README's reference table.
 */
public final class ConfigDocs {
  private ConfigDocs() {}

  /**
   * The default configuration as YAML with a comment on every key (its description, type and allowed
   * values); keys that apply only to another {@code kind}, and optional paths, are shown commented out.
   * The text loads back to {@link ConfigLoader#defaults()}.
   *
   * @return the YAML text
   */
  public static String describe() {
    return YamlEmitter.write(ConfigLoader.defaults(), true,
        "diffusion4j configuration: every key with its default value.",
        "Keys left out of a file take these defaults. Override one on the command line with",
        "--set key.path=value, e.g. --set training.epochs=30.");
  }

  /**
   * A Markdown table of every key: path, type and allowed values, default, description.
   *
   * @return the table, one row per key
   */
  public static String markdownTable() {
    StringBuilder b = new StringBuilder();
    b.append("| key | type | default | description |\n");
    b.append("|---|---|---|---|\n");
    for (Key<?, ?> k : Schema.keys()) {
      row(b, k);
    }
    return b.toString();
  }

  private static <R, T> void row(StringBuilder b, Key<R, T> k) {
    String def = defaultText(k, k.defaultFor(k.firstKind()));
    List<String> others = k.kindDefaultTexts(v -> defaultText(k, v));
    if (!others.isEmpty()) {
      def += " (" + String.join("; ", others) + ")";
    }
    String doc = k.onlyFor() != null ? "(" + k.onlyFor() + " only) " + k.doc() : k.doc();
    b.append("| `").append(k.path()).append("` | ").append(cell(k.type().describe())).append(" | ")
        .append(cell(def)).append(" | ").append(cell(doc)).append(" |\n");
  }

  private static <T> String defaultText(Key<?, T> k, T value) {
    String t = k.type().format(value);
    return t == null ? "none" : "`" + t + "`";
  }

  private static String cell(String s) {
    return s.replace("|", "\\|");
  }
}
