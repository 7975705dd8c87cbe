package io.github.diffusion4j.config;

/**
 * Writes a configuration as block YAML, driven by the {@link Schema}: every key that applies, in schema
 * order. In documented mode each key gets a comment with its description and type, and keys that do
 * not apply (another kind, or absent optional values) are written commented out, so the output still
 * loads back to the same configuration.
 */
final class YamlEmitter {
  /** The width comments are wrapped to. */
  private static final int WIDTH = 100;
  /** The column where the type comment after a documented value starts. */
  private static final int TYPE_COLUMN = 40;

  private final StringBuilder out = new StringBuilder();
  private final boolean documented;

  private YamlEmitter(boolean documented) {
    this.documented = documented;
  }

  /**
   * The configuration as YAML.
   *
   * @param config the configuration
   * @param documented whether to comment every key
   * @param header comment lines written first (without {@code #})
   * @return the text
   */
  static String write(DiffusionConfig config, boolean documented, String... header) {
    YamlEmitter e = new YamlEmitter(documented);
    for (String h : header) {
      e.out.append(h.isEmpty() ? "#" : "# " + h).append('\n');
    }
    if (documented && header.length > 0) {
      e.out.append('\n');
    }
    e.section(Schema.ROOT, config, "");
    return e.out.toString();
  }

  private <R> void section(Section<R> section, R record, String indent) {
    String kind = section.kindOf(record);
    for (Section.Member<R> m : section.members()) {
      if (m instanceof Key<R, ?> key) {
        key(key, record, kind, indent);
      } else {
        sub((Section.Sub<R, ?>) m, record, indent);
      }
    }
  }

  private <R, S> void sub(Section.Sub<R, S> sub, R record, String indent) {
    if (documented) {
      if (indent.isEmpty()) {
        out.append('\n');
      }
      comment(indent, sub.section().doc());
    }
    out.append(indent).append(sub.name()).append(":\n");
    section(sub.section(), sub.getter().apply(record), indent + "  ");
  }

  /** Writes a comment, wrapped at {@link #WIDTH} columns where it has spaces to break at. */
  private void comment(String indent, String text) {
    String prefix = indent + "# ";
    StringBuilder line = new StringBuilder(prefix);
    boolean empty = true;
    for (String word : text.split(" ")) {
      if (!empty && line.length() + 1 + word.length() > WIDTH) {
        out.append(line).append('\n');
        line = new StringBuilder(prefix).append("  ");
        empty = true;
      }
      if (!empty) {
        line.append(' ');
      }
      line.append(word);
      empty = false;
    }
    out.append(line).append('\n');
  }

  private <R, T> void key(Key<R, T> key, R record, String kind, String indent) {
    boolean applies = key.appliesTo(kind);
    T value = applies ? key.get(record) : key.defaultFor(key.firstKind());
    String text = key.type().format(value);
    if (!documented) {
      if (applies && text != null) {
        out.append(indent).append(key.name()).append(": ").append(text).append('\n');
      }
      return;
    }
    java.util.List<String> others = key.kindDefaultTexts(v -> String.valueOf(key.type().format(v)));
    comment(indent, (key.onlyFor() == null ? "" : "(" + key.onlyFor() + " only) ") + key.doc()
        + (others.isEmpty() ? "" : " (" + (key.generalDefaultKinds() == null ? "default" : key.generalDefaultKinds())
            + ": " + key.type().format(key.defaultFor(null)) + "; " + String.join("; ", others) + ")"));
    StringBuilder line = new StringBuilder(indent);
    if (!applies || text == null) {
      line.append("# ");
    }
    line.append(key.name()).append(':');
    if (text != null) {
      line.append(' ').append(text);
    }
    line.append(' ');
    while (line.length() < TYPE_COLUMN) {
      line.append(' ');
    }
    out.append(line).append("# ").append(key.type().describe()).append('\n');
  }
}
