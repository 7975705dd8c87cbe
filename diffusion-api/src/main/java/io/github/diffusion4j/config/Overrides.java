package io.github.diffusion4j.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Applies {@code key.path=value} overrides (the CLI's {@code --set}) to a located tree. The value is
 * read as YAML (a scalar, {@code [a, b]} or {@code {k: v}}); every node it adds is located at the
 * override itself, so errors read {@code --set training.epochs=abc: training.epochs: ...}.
 */
final class Overrides {
  private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_-]+");
  private static final String PREFIX = "--set ";

  private Overrides() {}

  /**
   * Applies overrides in order (a later one wins).
   *
   * @param root the tree from the file
   * @param overrides {@code key.path=value} strings
   * @return the new tree
   * @throws ConfigException for a malformed override or a value that is not valid YAML
   */
  static Node.MapNode apply(Node.MapNode root, List<String> overrides) {
    Node.MapNode out = root;
    for (String o : overrides) {
      if (o == null) {
        throw new IllegalArgumentException("an override is null; overrides are key.path=value strings");
      }
      String source = PREFIX + o;
      int eq = o.indexOf('=');
      if (eq < 0) {
        throw new ConfigException(source, 0, 0, "",
            "expected key.path=value, e.g. training.epochs=30");
      }
      String path = o.substring(0, eq).strip();
      String[] keys = path.split("\\.", -1);
      for (String k : keys) {
        if (!KEY.matcher(k).matches()) {
          throw new ConfigException(source, 0, 0, "",
              "expected key.path=value with keys of letters, digits, '_' and '-' separated by '.', "
                  + "e.g. training.epochs=30; got key path '" + path + "'");
        }
      }
      String text = o.substring(eq + 1);
      int comment = commentStart(text);
      if (comment >= 0) {
        throw new ConfigException(source, 0, 0, "", "'#' after a space starts a YAML comment, which would drop '"
            + text.substring(comment) + "' from the value; quote the value (" + path + "=\"" + text.strip()
            + "\") or remove the comment");
      }
      Node value = YamlTree.parseValue(text, source, path);
      out = set(out, keys, 0, value, Location.of(source));
    }
    return out;
  }

  /**
   * Where a YAML comment starts in an override's value: a {@code #} at its start or after a space, outside quotes.
   * YAML drops it and everything after, so {@code output.dir=runs #2} was {@code runs}, silently.
   *
   * @param text the value
   * @return the index of the {@code #}, or -1
   */
  static int commentStart(String text) {
    char quote = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      char before = i == 0 ? ' ' : text.charAt(i - 1);
      if (quote == '"') {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          quote = 0;
        }
      } else if (quote == '\'') {
        if (c == '\'' && i + 1 < text.length() && text.charAt(i + 1) == '\'') {
          i++; // '' is a quote inside single quotes
        } else if (c == '\'') {
          quote = 0;
        }
      } else if (c == '#' && Character.isWhitespace(before)) {
        return i;
      } else if ((c == '"' || c == '\'') && (Character.isWhitespace(before) || "[{,".indexOf(before) >= 0)) {
        quote = c; // a quoted scalar starts only where a token does ("it's" is a plain scalar)
      }
    }
    return -1;
  }

  /**
   * The file's {@code sampling.options} belong to the file's sampler: where the overrides name another sampler,
   * the file's are dropped (as {@code Diffusion.sampler(name)} gives another sampler none), so that a run trained
   * with a custom sampler's options samples with {@code --sampler ddim}; options the overrides give are the new
   * sampler's and stay, whether they replace the whole section ({@code sampling.options={...}}) or set keys of the
   * file's ({@code sampling.options.KEY=VALUE}, which were dropped with the file's until 2026-12-06).
   *
   * @param file the tree from the file
   * @param overridden the tree after the overrides
   * @return {@code overridden}, without the file's sampler options where they belong to a sampler no longer chosen
   */
  static Node.MapNode withoutOtherSamplersOptions(Node.MapNode file, Node.MapNode overridden) {
    Object before = samplerName(file);
    Object after = samplerName(overridden);
    if (java.util.Objects.equals(before, after)
        || !(overridden.get("sampling") != null && overridden.get("sampling").value() instanceof Node.MapNode s)
        || s.get("options") == null
        || isOverride(s.get("options").value().location())) { // options given with the override are its own
      return overridden;
    }
    Node.Entry sampling = overridden.get("sampling");
    Node.Entry options = s.get("options");
    Node.MapNode kept = s.without("options");
    if (options.value() instanceof Node.MapNode o) {
      java.util.Map<String, Node.Entry> own = new java.util.LinkedHashMap<>();
      o.entries().forEach((key, entry) -> {
        if (isOverride(entry.keyLocation())) {
          own.put(key, entry);
        }
      });
      if (!own.isEmpty()) {
        kept = s.with("options", new Node.Entry(options.keyLocation(), new Node.MapNode(o.location(), own)));
      }
    }
    return overridden.with("sampling", new Node.Entry(sampling.keyLocation(), kept));
  }

  /** The sampler a tree chooses: its {@code sampling.sampler}, or the default where it names none. */
  private static Object samplerName(Node.MapNode root) {
    Object named = samplingValue(root, "sampler");
    return named != null ? named : SamplingConfig.SAMPLER.defaultFor(null);
  }

  private static Object samplingValue(Node.MapNode root, String key) {
    Node.Entry sampling = root.get("sampling");
    if (sampling == null || !(sampling.value() instanceof Node.MapNode s) || s.get(key) == null) {
      return null;
    }
    return s.get(key).value() instanceof Node.ScalarNode v ? v.value() : s.get(key).value();
  }

  /**
   * Whether a value was given by an override (its relative paths are resolved against the working
   * directory, where the command was typed, rather than the YAML file's folder).
   *
   * @param at where the value's key was written
   * @return true for an override
   */
  static boolean isOverride(Location at) {
    return at.source() != null && at.line() == 0 && at.source().startsWith(PREFIX);
  }

  private static Node.MapNode set(Node.MapNode map, String[] keys, int i, Node value, Location at) {
    if (i == keys.length - 1) {
      return map.with(keys[i], new Node.Entry(at, value));
    }
    Node.Entry existing = map.get(keys[i]);
    Node.MapNode child = existing != null && existing.value() instanceof Node.MapNode m
        ? m
        : Node.MapNode.empty(at);
    Location keyAt = existing != null && existing.value() instanceof Node.MapNode ? existing.keyLocation() : at;
    return map.with(keys[i], new Node.Entry(keyAt, set(child, keys, i + 1, value, at)));
  }
}
