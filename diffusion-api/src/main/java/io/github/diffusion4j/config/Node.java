package io.github.diffusion4j.config;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node of the located YAML tree: every mapping key, list item and scalar keeps the place it was
 * written, so that any later error can name {@code file:line:col}.
 */
sealed interface Node permits Node.MapNode, Node.ListNode, Node.ScalarNode {

  /**
   * Where the node starts.
   *
   * @return the location
   */
  Location location();

  /**
   * How the node is named in "expected X, got Y" messages.
   *
   * @return e.g. {@code 'abc'}, {@code 2.5}, {@code a list}
   */
  String describe();

  /**
   * The node as plain Java values: {@code String}, {@code Long} or {@code BigInteger}, {@code Double},
   * {@code Boolean}, {@code null}, {@code List} and {@code Map} (insertion-ordered).
   *
   * @return the plain value
   */
  Object toPlain();

  /** What a scalar is, as YAML's core schema resolved it. */
  enum Kind {
    /** A string (quoted, or plain text that is not a number, boolean or null). */
    STRING,
    /** An integer; the value is a {@link BigInteger}. */
    INT,
    /** A floating-point number; the value is a {@link Double}, possibly not finite. */
    FLOAT,
    /** {@code true} or {@code false} (also YAML 1.1's yes/no/on/off); the value is a {@link Boolean}. */
    BOOLEAN,
    /** {@code null}, {@code ~} or nothing. */
    NULL
  }

  /**
   * A key of a mapping with its value.
   *
   * @param keyLocation where the key is written (errors about the value point here)
   * @param value the value
   */
  record Entry(Location keyLocation, Node value) {}

  /**
   * A mapping, in the order written.
   *
   * @param location where the mapping starts
   * @param entries the entries by key
   */
  record MapNode(Location location, Map<String, Entry> entries) implements Node {

    /** Copies the entries into an unmodifiable insertion-ordered map. */
    public MapNode {
      entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /**
     * An empty mapping.
     *
     * @param location where it is
     * @return the mapping
     */
    static MapNode empty(Location location) {
      return new MapNode(location, Map.of());
    }

    /**
     * One entry.
     *
     * @param key the key
     * @return the entry, or null if absent
     */
    Entry get(String key) {
      return entries.get(key);
    }

    /**
     * A copy with one entry added or replaced (a replaced entry keeps its position).
     *
     * @param key the key
     * @param entry the entry
     * @return the new mapping
     */
    MapNode with(String key, Entry entry) {
      LinkedHashMap<String, Entry> m = new LinkedHashMap<>(entries);
      m.put(key, entry);
      return new MapNode(location, m);
    }

    /**
     * A copy without one entry.
     *
     * @param key the key
     * @return the new mapping
     */
    MapNode without(String key) {
      LinkedHashMap<String, Entry> m = new LinkedHashMap<>(entries);
      m.remove(key);
      return new MapNode(location, m);
    }

    @Override
    public String describe() {
      return "a mapping";
    }

    @Override
    public Object toPlain() {
      LinkedHashMap<String, Object> m = new LinkedHashMap<>();
      entries.forEach((k, e) -> m.put(k, e.value().toPlain()));
      return Collections.unmodifiableMap(m);
    }
  }

  /**
   * A list.
   *
   * @param location where the list starts
   * @param items the items
   */
  record ListNode(Location location, List<Node> items) implements Node {

    /** Copies the items. */
    public ListNode {
      items = List.copyOf(items);
    }

    @Override
    public String describe() {
      return items.isEmpty() ? "an empty list" : "a list";
    }

    @Override
    public Object toPlain() {
      List<Object> l = new ArrayList<>(items.size());
      for (Node n : items) {
        l.add(n.toPlain());
      }
      return Collections.unmodifiableList(l);
    }
  }

  /**
   * A scalar.
   *
   * @param location where it starts
   * @param kind what it resolved to
   * @param text the text as written (without quotes)
   * @param value the resolved value: {@code String}, {@code BigInteger}, {@code Double}, {@code Boolean}
   *     or null; see {@link Kind}
   */
  record ScalarNode(Location location, Kind kind, String text, Object value) implements Node {

    @Override
    public String describe() {
      return switch (kind) {
        case STRING -> "'" + text + "'";
        case NULL -> "nothing (null)";
        default -> text;
      };
    }

    @Override
    public Object toPlain() {
      if (value instanceof BigInteger b && b.bitLength() < 64) {
        return b.longValue();
      }
      return value;
    }
  }
}
