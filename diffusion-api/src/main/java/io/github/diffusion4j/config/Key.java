package io.github.diffusion4j.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * One key of the schema: its path, type, default, description, the record component it fills, and
 * optionally the {@code kind} of its section it applies to.
 *
 * @param <R> the record that holds the value
 * @param <T> the value's Java type
 */
final class Key<R, T> implements Section.Member<R> {
  private final String path;
  private final String name;
  private final ValueType<T> type;
  private final T defaultValue;
  private final Function<R, T> getter;
  private final String doc;
  private final List<String> onlyFor;
  private final Map<String, T> kindDefaults;

  private Key(String path, ValueType<T> type, T defaultValue, Function<R, T> getter, String doc,
      List<String> onlyFor, Map<String, T> kindDefaults) {
    this.path = path;
    this.name = path.substring(path.lastIndexOf('.') + 1);
    this.type = type;
    this.defaultValue = defaultValue;
    this.getter = getter;
    this.doc = doc;
    this.onlyFor = onlyFor;
    this.kindDefaults = kindDefaults;
  }

  /**
   * A key.
   *
   * @param path the full key path, e.g. {@code training.batch_size}
   * @param getter the record accessor that returns the value
   * @param type the type
   * @param defaultValue the default
   * @param doc one line of description
   * @param <R> the record
   * @param <T> the value type
   * @return the key
   */
  static <R, T> Key<R, T> of(String path, Function<R, T> getter, ValueType<T> type, T defaultValue, String doc) {
    return new Key<>(path, type, defaultValue, getter, doc, null, Map.of());
  }

  /**
   * This key, applying only when its section's {@code kind} has one of some values; elsewhere it must be
   * left out.
   *
   * @param kinds the kinds' configuration names
   * @return a new key
   */
  Key<R, T> onlyFor(String... kinds) {
    return new Key<>(path, type, defaultValue, getter, doc, List.of(kinds), kindDefaults);
  }

  /**
   * This key, with another default for one kind.
   *
   * @param kind the kind's configuration name
   * @param value the default for that kind
   * @return a new key
   */
  Key<R, T> defaultFor(String kind, T value) {
    Map<String, T> m = new LinkedHashMap<>(kindDefaults);
    m.put(kind, value);
    return new Key<>(path, type, defaultValue, getter, doc, onlyFor, m);
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public String name() {
    return name;
  }

  ValueType<T> type() {
    return type;
  }

  String doc() {
    return doc;
  }

  /** The kinds this key applies to, as written in docs ({@code "folder, cifar10"}), or null for every kind. */
  String onlyFor() {
    return onlyFor == null ? null : String.join(", ", onlyFor);
  }

  /** The first kind this key applies to (whose default the docs show), or null for every kind. */
  String firstKind() {
    return onlyFor == null ? null : onlyFor.get(0);
  }

  /** Whether the key applies to a kind (null kind: a section without kinds). */
  boolean appliesTo(String kind) {
    return onlyFor == null || onlyFor.contains(kind);
  }

  /** The default for a kind (null: a section without kinds). */
  T defaultFor(String kind) {
    return kind != null && kindDefaults.containsKey(kind) ? kindDefaults.get(kind) : defaultValue;
  }

  /**
   * The kinds that take the general default, as written in docs ({@code "unet"}), or null where the key applies to
   * every kind or every kind it applies to has its own default.
   */
  String generalDefaultKinds() {
    List<String> kinds = onlyFor == null ? List.of()
        : onlyFor.stream().filter(k -> !kindDefaults.containsKey(k)).toList();
    return kinds.isEmpty() ? null : String.join(", ", kinds);
  }

  /**
   * The per-kind defaults that differ from the general one, as the docs write them: kinds of one default together,
   * {@code "ddpm: 128"} or {@code "a, b: x"}; empty if there are none.
   *
   * @param text how a value is written
   * @return one text per distinct default
   */
  List<String> kindDefaultTexts(Function<T, String> text) {
    Map<String, List<String>> kindsByDefault = new LinkedHashMap<>();
    for (Map.Entry<String, T> e : kindDefaults.entrySet()) {
      kindsByDefault.computeIfAbsent(text.apply(e.getValue()), v -> new java.util.ArrayList<>()).add(e.getKey());
    }
    List<String> texts = new java.util.ArrayList<>();
    kindsByDefault.forEach((value, kinds) -> texts.add(String.join(", ", kinds) + ": " + value));
    return texts;
  }

  /** The value of this key in a record. */
  T get(R record) {
    return getter.apply(record);
  }

  /**
   * Checks a value's range (for the records' compact constructors).
   *
   * @param value the value
   * @return the value
   * @throws ConfigException naming this key's path
   */
  T check(T value) {
    if (value == null) {
      throw new ConfigException(path, "a value is required (" + type.describe() + ")");
    }
    type.check(value, path);
    return value;
  }

  /**
   * Checks that a value of a key that does not apply to the record's kind is left at its default (so
   * that nothing is silently ignored and the written YAML reads back equal).
   *
   * @param kind the record's kind
   * @param value the value
   * @throws ConfigException if the key does not apply and the value is not the default
   */
  void requireDefaultUnlessFor(String kind, T value) {
    if (!appliesTo(kind) && !Objects.equals(value, defaultFor(kind))) {
      throw notApplicable(kind);
    }
  }

  /** The error for a key given for a kind it does not apply to. */
  ConfigException notApplicable(String kind) {
    return notApplicable(kind, "remove it or change kind");
  }

  /** {@link #notApplicable(String)} with another way out than removing the key or changing the kind. */
  ConfigException notApplicable(String kind, String fix) {
    return new ConfigException(path, "applies only when kind is " + String.join(" or ", onlyFor)
        + " (kind here is " + kind + "); " + fix);
  }

  @Override
  public String toString() {
    return path;
  }
}
