package io.github.diffusion4j.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A section of the schema (a YAML mapping) and the record it becomes: its members (keys and
 * subsections, in the order they are written), an optional {@code kind} key that decides which other
 * keys apply, and the factory that builds the record from bound values.
 *
 * @param <R> the record
 */
final class Section<R> {
  private final String path;
  private final String doc;
  private final List<Member<R>> members;
  private final Key<R, ?> kindKey;
  private final Function<Values, R> factory;

  /**
   * A key or a subsection.
   *
   * @param <R> the record of the enclosing section
   */
  sealed interface Member<R> permits Key, Sub {
    /** The full key path. */
    String path();

    /** The last part of the path. */
    String name();
  }

  /**
   * A subsection.
   *
   * @param section the subsection
   * @param getter the accessor of the enclosing record that returns the subsection's record
   * @param <R> the enclosing record
   * @param <S> the subsection's record
   */
  record Sub<R, S>(Section<S> section, Function<R, S> getter) implements Member<R> {
    @Override
    public String path() {
      return section.path();
    }

    @Override
    public String name() {
      return section.name();
    }
  }

  /** The values bound for one section, by member. */
  static final class Values {
    private final Map<Member<?>, Object> values = new HashMap<>();

    void put(Member<?> member, Object value) {
      values.put(member, value);
    }

    @SuppressWarnings("unchecked")
    <T> T get(Key<?, T> key) {
      return (T) values.get(key);
    }

    @SuppressWarnings("unchecked")
    <S> S get(Sub<?, S> sub) {
      return (S) values.get(sub);
    }
  }

  Section(String path, String doc, Key<R, ?> kindKey, Function<Values, R> factory, List<Member<R>> members) {
    this.path = path;
    this.doc = doc;
    this.kindKey = kindKey;
    this.factory = factory;
    this.members = List.copyOf(members);
  }

  String path() {
    return path;
  }

  String name() {
    return path.substring(path.lastIndexOf('.') + 1);
  }

  String doc() {
    return doc;
  }

  List<Member<R>> members() {
    return members;
  }

  /** The member names, in order (for "allowed:" lists). */
  List<String> names() {
    List<String> n = new ArrayList<>();
    for (Member<R> m : members) {
      n.add(m.name());
    }
    return n;
  }

  Member<R> member(String name) {
    for (Member<R> m : members) {
      if (m.name().equals(name)) {
        return m;
      }
    }
    return null;
  }

  /** The discriminating {@code kind} key, or null. */
  Key<R, ?> kindKey() {
    return kindKey;
  }

  /** The configuration name of a record's kind, or null for a section without kinds. */
  String kindOf(R record) {
    return kindKey == null ? null : recordKindName(kindKey, record);
  }

  private static <R, T> String recordKindName(Key<R, T> key, R record) {
    return key.type().format(key.get(record));
  }

  /** The configuration name of a bound kind value. */
  @SuppressWarnings("unchecked")
  static <T> String kindName(Key<?, T> key, Object value) {
    return key.type().format((T) value);
  }

  R build(Values values) {
    return factory.apply(values);
  }

  /** Every key of this section and its subsections, depth first, in order. */
  /**
   * Whether the key at a dotted path holds its default (for the record's kind) in a record of this section.
   *
   * @param record a record of this section
   * @param keyPath the full path of a key of this section or a subsection
   * @return true if the value equals the default; false if it differs or no such key exists
   */
  boolean holdsDefault(R record, String keyPath) {
    for (Member<R> m : members) {
      if (m instanceof Key<R, ?> k && k.path().equals(keyPath)) {
        return java.util.Objects.equals(k.get(record), k.defaultFor(kindOf(record)));
      }
      if (m instanceof Sub<R, ?> sub && keyPath.startsWith(sub.path() + ".")) {
        return subHoldsDefault(sub, record, keyPath);
      }
    }
    return false;
  }

  private static <R, S> boolean subHoldsDefault(Sub<R, S> sub, R record, String keyPath) {
    return sub.section().holdsDefault(sub.getter().apply(record), keyPath);
  }

  List<Key<?, ?>> allKeys() {
    List<Key<?, ?>> out = new ArrayList<>();
    for (Member<R> m : members) {
      if (m instanceof Key<R, ?> k) {
        out.add(k);
      } else if (m instanceof Sub<R, ?> s) {
        out.addAll(s.section().allKeys());
      }
    }
    return out;
  }
}
