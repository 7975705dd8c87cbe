package io.github.diffusion4j.config;

import io.github.diffusion4j.sampling.SamplerOptions;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A read-only view of a free-form part of the configuration, such as {@code sampling.options}, for
 * code the schema does not know (a custom sampler's provider, which receives it as its
 * {@link SamplerOptions}). Values are read with a type, a default
 * and an allowed range; every error is a {@link ConfigException} at the {@code file:line:col} where the
 * key was written:
 *
 * <pre>{@code
 * ConfigSection options = config.sampling().options();
 * options.requireOnly(Set.of("order", "lower_order_final", "solver"));
 * int order = options.getInt("order", 2, 1, 3);
 * boolean lowerOrderFinal = options.getBoolean("lower_order_final", true);
 * String solver = options.getString("solver", "midpoint", Set.of("midpoint", "heun"));
 * }</pre>
 *
 * <p>Two sections are equal when they have the same path and the same values (locations are ignored).
 */
public final class ConfigSection implements SamplerOptions {
  private final String path;
  private final Node.MapNode node;
  private final Path baseDir;

  ConfigSection(String path, Node.MapNode node, Path baseDir) {
    this.path = Objects.requireNonNull(path, "path");
    this.node = Objects.requireNonNull(node, "node");
    this.baseDir = baseDir;
  }

  /**
   * An empty section.
   *
   * @param path its key path, e.g. {@code sampling.options}
   * @return the section
   */
  public static ConfigSection empty(String path) {
    return new ConfigSection(path, Node.MapNode.empty(Location.of(null)), null);
  }

  /**
   * A section built in code (errors then carry the key path but no file).
   *
   * @param path its key path, e.g. {@code sampling.options}
   * @param values the values: strings, integers ({@code Integer}, {@code Long}, {@code BigInteger}),
   *     {@code Float}/{@code Double}, {@code Boolean}, null, lists and maps of these
   * @return the section
   * @throws IllegalArgumentException for a value of another type
   */
  public static ConfigSection of(String path, Map<String, ?> values) {
    return new ConfigSection(path, (Node.MapNode) fromPlain(values), null);
  }

  private static Node fromPlain(Object v) {
    Location none = Location.of(null);
    if (v instanceof Map<?, ?> m) {
      LinkedHashMap<String, Node.Entry> entries = new LinkedHashMap<>();
      m.forEach((k, x) -> entries.put(String.valueOf(k), new Node.Entry(none, fromPlain(x))));
      return new Node.MapNode(none, entries);
    }
    if (v instanceof Collection<?> c) {
      List<Node> items = new ArrayList<>();
      c.forEach(x -> items.add(fromPlain(x)));
      return new Node.ListNode(none, items);
    }
    if (v == null) {
      return new Node.ScalarNode(none, Node.Kind.NULL, "null", null);
    }
    if (v instanceof String s) {
      return new Node.ScalarNode(none, Node.Kind.STRING, s, s);
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      BigInteger b = BigInteger.valueOf(((Number) v).longValue());
      return new Node.ScalarNode(none, Node.Kind.INT, b.toString(), b);
    }
    if (v instanceof BigInteger b) {
      return new Node.ScalarNode(none, Node.Kind.INT, b.toString(), b);
    }
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      return new Node.ScalarNode(none, Node.Kind.FLOAT, YamlText.number(d), d);
    }
    if (v instanceof Boolean b) {
      return new Node.ScalarNode(none, Node.Kind.BOOLEAN, b.toString(), b);
    }
    throw new IllegalArgumentException("unsupported option value of type " + v.getClass().getName());
  }

  /**
   * The key path of this section.
   *
   * @return e.g. {@code sampling.options}
   */
  public String path() {
    return path;
  }

  /**
   * The keys present, in the order written.
   *
   * @return the keys
   */
  public Set<String> keys() {
    return node.entries().keySet();
  }

  /**
   * Whether a key is present.
   *
   * @param key the key
   * @return true if given
   */
  public boolean has(String key) {
    return node.get(key) != null;
  }

  /**
   * Whether no key is present.
   *
   * @return true if empty
   */
  public boolean isEmpty() {
    return node.entries().isEmpty();
  }

  /**
   * An integer option.
   *
   * @param key the key
   * @param defaultValue the value when the key is absent
   * @param min the smallest allowed value
   * @param max the largest allowed value
   * @return the value
   * @throws ConfigException if the value is not an integer or out of range
   */
  @Override
  public int getInt(String key, int defaultValue, int min, int max) {
    return get(key, defaultValue, ValueType.integer(min, max));
  }

  /**
   * A number option.
   *
   * @param key the key
   * @param defaultValue the value when the key is absent
   * @param min the smallest allowed value (inclusive; {@code Double.NEGATIVE_INFINITY} for none)
   * @param max the largest allowed value (inclusive; {@code Double.POSITIVE_INFINITY} for none)
   * @return the value, always finite
   * @throws ConfigException if the value is not a finite number or out of range
   */
  @Override
  public double getDouble(String key, double defaultValue, double min, double max) {
    return get(key, defaultValue, ValueType.number(min, true, max, true));
  }

  /**
   * A boolean option.
   *
   * @param key the key
   * @param defaultValue the value when the key is absent
   * @return the value
   * @throws ConfigException if the value is not {@code true} or {@code false}
   */
  @Override
  public boolean getBoolean(String key, boolean defaultValue) {
    return get(key, defaultValue, ValueType.bool());
  }

  /**
   * A string option.
   *
   * @param key the key
   * @param defaultValue the value when the key is absent
   * @return the value
   * @throws ConfigException if the value is not a scalar
   */
  public String getString(String key, String defaultValue) {
    return getString(key, defaultValue, Set.of());
  }

  /**
   * A string option, optionally from a fixed set of values (compared ignoring case), with "did you
   * mean" for misspellings.
   *
   * @param key the key
   * @param defaultValue the value when the key is absent
   * @param allowed the allowed values; empty for any string
   * @return the value, spelt as in {@code allowed}
   * @throws ConfigException if the value is not a scalar or not one of {@code allowed}
   */
  @Override
  public String getString(String key, String defaultValue, Set<String> allowed) {
    Node.Entry e = node.get(key);
    if (e == null) {
      return defaultValue;
    }
    if (!(e.value() instanceof Node.ScalarNode s) || s.kind() == Node.Kind.NULL) {
      throw ValueType.expected(childPath(key), "a string", e.value()).at(e.keyLocation());
    }
    if (allowed.isEmpty()) {
      return s.text();
    }
    for (String a : allowed) {
      if (a.equalsIgnoreCase(s.text())) {
        return a;
      }
    }
    throw error(key, "unknown value '" + s.text() + "'; " + Suggestions.didYouMean(s.text(), sorted(allowed)));
  }

  /**
   * A nested section.
   *
   * @param key the key
   * @return the section, empty when the key is absent or null
   * @throws ConfigException if the value is not a mapping
   */
  public ConfigSection getSection(String key) {
    Node.Entry e = node.get(key);
    if (e == null) {
      return new ConfigSection(childPath(key), Node.MapNode.empty(node.location()), baseDir);
    }
    try {
      return ValueType.section().read(e.value(), childPath(key), baseDir);
    } catch (ConfigException x) {
      throw x.at(e.keyLocation());
    }
  }

  /**
   * Rejects keys outside a set, with "did you mean" for the closest allowed key.
   *
   * @param allowedKeys the keys that the reader understands
   * @throws ConfigException at the first unknown key
   */
  @Override
  public void requireOnly(Set<String> allowedKeys) {
    List<String> sorted = sorted(allowedKeys);
    for (Map.Entry<String, Node.Entry> e : node.entries().entrySet()) {
      if (!allowedKeys.contains(e.getKey())) {
        throw new ConfigException(childPath(e.getKey()),
            "unknown key; " + Suggestions.didYouMean(e.getKey(), sorted)).at(e.getValue().keyLocation());
      }
    }
  }

  /**
   * An error about a key of this section, located where the key was written (or at the section when
   * the key is absent), for checks the reader makes itself.
   *
   * @param key the key
   * @param detail what is wrong and what is allowed
   * @return the exception, to throw
   */
  public ConfigException error(String key, String detail) {
    Node.Entry e = node.get(key);
    Location at = e != null ? e.keyLocation() : node.location();
    return new ConfigException(childPath(key), detail).at(at);
  }

  /**
   * The values as plain Java objects: {@code String}, {@code Long} (or {@code BigInteger}),
   * {@code Double}, {@code Boolean}, null, lists and maps, in the order written.
   *
   * @return an unmodifiable map
   */
  @SuppressWarnings("unchecked")
  public Map<String, Object> toMap() {
    return (Map<String, Object>) node.toPlain();
  }

  private static List<String> sorted(Set<String> words) {
    return new ArrayList<>(new TreeSet<>(words));
  }

  /** The section as one line of YAML flow style. */
  String toFlowYaml() {
    return YamlText.flow(node);
  }

  private <T> T get(String key, T defaultValue, ValueType<T> type) {
    Node.Entry e = node.get(key);
    if (e == null) {
      return defaultValue;
    }
    try {
      return type.readChecked(e.value(), childPath(key), baseDir);
    } catch (ConfigException x) {
      throw x.at(e.keyLocation());
    }
  }

  private String childPath(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ConfigSection s && s.path.equals(path) && s.toMap().equals(toMap());
  }

  @Override
  public int hashCode() {
    return 31 * path.hashCode() + toMap().hashCode();
  }

  @Override
  public String toString() {
    return path + "=" + toFlowYaml();
  }
}
