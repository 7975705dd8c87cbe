package io.github.diffusion4j.config;

import io.github.diffusion4j.tensor.Shape;
import java.math.BigInteger;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The type of a configuration value: how it is read from a node (with "expected X, got Y" errors), its
 * allowed range ({@link #check}), how it is written back as YAML and how it is described in the docs.
 * Errors carry the key path but no location; the caller adds the location.
 *
 * @param <T> the Java type
 */
abstract class ValueType<T> {

  /**
   * Reads a value.
   *
   * @param node the node
   * @param path the key path, for messages
   * @param baseDir the folder that relative paths are resolved against, or null
   * @return the value (not yet range-checked)
   * @throws ConfigException if the node has the wrong type
   */
  abstract T read(Node node, String path, Path baseDir);

  /**
   * Checks the allowed range.
   *
   * @param value the value, not null
   * @param path the key path, for messages
   * @throws ConfigException if out of range
   */
  void check(T value, String path) {}

  /**
   * Reads and checks.
   *
   * @param node the node
   * @param path the key path
   * @param baseDir the folder for relative paths, or null
   * @return the checked value
   */
  final T readChecked(Node node, String path, Path baseDir) {
    T v = read(node, path, baseDir);
    check(v, path);
    return v;
  }

  /**
   * The value as YAML text (a scalar or a flow collection).
   *
   * @param value the value
   * @return the text, or null when the value is "absent" (an empty optional)
   */
  abstract String format(T value);

  /**
   * The type and allowed values, for the docs.
   *
   * @return e.g. {@code integer >= 1}
   */
  abstract String describe();

  static ConfigException expected(String path, String what, Node got) {
    if (got instanceof Node.ScalarNode s && s.kind() == Node.Kind.STRING && LEADING_ZEROS.matcher(s.text()).matches()
        && (what.equals("an integer") || what.equals("a number"))) {
      // YAML 1.1 reads a leading 0 as octal, so 089 (no octal digits) is not a number at all
      return new ConfigException(path, "expected " + what + ", got '" + s.text() + "': write it without leading zeros");
    }
    return new ConfigException(path, "expected " + what + ", got " + got.describe());
  }

  /** A plain integer with a leading zero ({@code 0042}, {@code -010}), which YAML 1.1 reads as octal. */
  private static final Pattern LEADING_ZEROS = Pattern.compile("[-+]?0[0-9_]+");

  /**
   * Refuses an integer written with leading zeros: YAML 1.1 (SnakeYAML, Jackson) reads {@code 0042} as the octal
   * 34, which nobody who pads a seed or a size with zeros means.
   */
  static void rejectLeadingZeros(Node.ScalarNode s, String path) {
    if (LEADING_ZEROS.matcher(s.text()).matches()) {
      String plain = s.text().replaceFirst("^([-+]?)0+(?=[0-9])", "$1").replace("_", "");
      throw new ConfigException(path, "write " + s.text() + " without leading zeros (YAML reads a leading 0 as octal: "
          + s.text() + " would be " + s.value() + "); e.g. " + plain);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // factories

  static ValueType<Integer> integer(long min, long max) {
    return new IntType(min, max, null);
  }

  static ValueType<Integer> atLeast(int min) {
    return new IntType(min, Integer.MAX_VALUE, null);
  }

  static ValueType<Integer> oneOf(int... allowed) {
    return new IntType(Integer.MIN_VALUE, Integer.MAX_VALUE, allowed.clone());
  }

  static ValueType<Long> anyLong() {
    return new LongType();
  }

  static ValueType<Double> number(double lo, boolean loInclusive, double hi, boolean hiInclusive) {
    return new DoubleType(lo, loInclusive, hi, hiInclusive);
  }

  static ValueType<Double> positive() {
    return new DoubleType(0, false, Double.POSITIVE_INFINITY, false);
  }

  static ValueType<Double> nonNegative() {
    return new DoubleType(0, true, Double.POSITIVE_INFINITY, false);
  }

  static ValueType<Boolean> bool() {
    return new BoolType();
  }

  static ValueType<String> identifier() {
    return new NameType(Pattern.compile("[a-z][a-z0-9_]*"),
        "a lowercase identifier ([a-z][a-z0-9_]*)", "lowercase identifier");
  }

  static ValueType<String> folderName() {
    return new NameType(Pattern.compile("|(?!\\.\\.?$)[A-Za-z0-9._-]+"),
        "a folder name of ASCII letters, digits, '.', '_' and '-' (not '.' or '..'), or empty",
        "folder name (empty = timestamp)");
  }

  static <E extends Enum<E>> ValueType<E> enumeration(Class<E> type, Function<E, String> name) {
    return new EnumType<>(type, name);
  }

  static ValueType<Shape> shape() {
    return new ShapeType();
  }

  static ValueType<List<Integer>> intList(int min, boolean nonEmpty) {
    return new IntListType(new IntType(min, Integer.MAX_VALUE, null), nonEmpty);
  }

  static ValueType<Path> path(boolean resolve) {
    return new PathType(resolve);
  }

  static <T> ValueType<Optional<T>> optional(ValueType<T> inner) {
    return new OptionalType<>(inner);
  }

  static ValueType<ConfigSection> section() {
    return new SectionType();
  }

  // ---------------------------------------------------------------------------------------------
  // implementations

  /** A 32-bit integer in {@code [min, max]}, or one of a set. */
  static final class IntType extends ValueType<Integer> {
    private final long min;
    private final long max;
    private final int[] allowed;

    IntType(long min, long max, int[] allowed) {
      this.min = Math.max(min, Integer.MIN_VALUE);
      this.max = Math.min(max, Integer.MAX_VALUE);
      this.allowed = allowed;
    }

    @Override
    Integer read(Node node, String path, Path baseDir) {
      if (node instanceof Node.ScalarNode s && s.kind() == Node.Kind.INT) {
        rejectLeadingZeros(s, path);
        BigInteger v = (BigInteger) s.value();
        if (v.compareTo(BigInteger.valueOf(min)) < 0) {
          throw new ConfigException(path, rangeMessage(v.toString()));
        }
        if (v.compareTo(BigInteger.valueOf(max)) > 0) {
          // a range open at the top (max is the largest 32-bit integer) still has a ceiling: say it
          throw new ConfigException(path, max == Integer.MAX_VALUE
              ? "must be at most " + max + " (the largest 32-bit integer), got " + v
              : rangeMessage(v.toString()));
        }
        return v.intValue();
      }
      throw expected(path, "an integer", node);
    }

    @Override
    void check(Integer value, String path) {
      if (allowed != null ? Arrays.stream(allowed).noneMatch(a -> a == value) : value < min || value > max) {
        throw new ConfigException(path, rangeMessage(value.toString()));
      }
    }

    private String rangeMessage(String got) {
      if (allowed != null) {
        return "must be " + describe() + ", got " + got;
      }
      if (max == Integer.MAX_VALUE) {
        return "must be at least " + min + ", got " + got;
      }
      return "must be between " + min + " and " + max + ", got " + got;
    }

    @Override
    String format(Integer value) {
      return value.toString();
    }

    @Override
    String describe() {
      if (allowed != null) {
        String[] a = Arrays.stream(allowed).mapToObj(Integer::toString).toArray(String[]::new);
        return a.length == 2 ? a[0] + " or " + a[1] : String.join(", ", a);
      }
      if (max == Integer.MAX_VALUE) {
        return min == Integer.MIN_VALUE ? "integer" : "integer >= " + min;
      }
      return "integer in [" + min + ", " + max + "]";
    }
  }

  /** Any 64-bit integer. */
  static final class LongType extends ValueType<Long> {
    @Override
    Long read(Node node, String path, Path baseDir) {
      if (node instanceof Node.ScalarNode s && s.kind() == Node.Kind.INT) {
        rejectLeadingZeros(s, path);
        BigInteger v = (BigInteger) s.value();
        if (v.bitLength() > 63) {
          throw new ConfigException(path, "must fit in 64 bits (between " + Long.MIN_VALUE + " and "
              + Long.MAX_VALUE + "), got " + v);
        }
        return v.longValue();
      }
      throw expected(path, "an integer", node);
    }

    @Override
    String format(Long value) {
      return value.toString();
    }

    @Override
    String describe() {
      return "integer (64-bit)";
    }
  }

  /** A finite double in an interval. */
  static final class DoubleType extends ValueType<Double> {
    private final double lo;
    private final boolean loInclusive;
    private final double hi;
    private final boolean hiInclusive;

    DoubleType(double lo, boolean loInclusive, double hi, boolean hiInclusive) {
      this.lo = lo;
      this.loInclusive = loInclusive;
      this.hi = hi;
      this.hiInclusive = hiInclusive;
    }

    @Override
    Double read(Node node, String path, Path baseDir) {
      if (node instanceof Node.ScalarNode s) {
        if (s.kind() == Node.Kind.INT) {
          rejectLeadingZeros(s, path);
          double d = ((BigInteger) s.value()).doubleValue();
          if (!Double.isFinite(d)) { // an integer literal beyond the doubles' range
            throw new ConfigException(path, "must be a finite number, got " + s.text());
          }
          return d;
        }
        if (s.kind() == Node.Kind.FLOAT) {
          double d = (Double) s.value();
          if (!Double.isFinite(d)) {
            throw new ConfigException(path, "must be a finite number, got " + s.text());
          }
          return d;
        }
      }
      throw expected(path, "a number", node);
    }

    @Override
    void check(Double value, String path) {
      double v = value;
      boolean ok = Double.isFinite(v)
          && (loInclusive ? v >= lo : v > lo)
          && (hiInclusive ? v <= hi : v < hi);
      if (!ok) {
        throw new ConfigException(path, "must be " + bounds() + ", got " + YamlText.number(v));
      }
    }

    private String bounds() {
      boolean hasLo = lo != Double.NEGATIVE_INFINITY;
      boolean hasHi = hi != Double.POSITIVE_INFINITY;
      if (hasLo && hasHi) {
        return "in " + (loInclusive ? "[" : "(") + plain(lo) + ", " + plain(hi) + (hiInclusive ? "]" : ")");
      }
      if (hasLo) {
        return (loInclusive ? "at least " : "greater than ") + plain(lo);
      }
      if (hasHi) {
        return (hiInclusive ? "at most " : "less than ") + plain(hi);
      }
      return "a finite number";
    }

    private static String plain(double d) {
      return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : YamlText.number(d);
    }

    @Override
    String format(Double value) {
      return YamlText.number(value);
    }

    @Override
    String describe() {
      String b = bounds();
      if (b.startsWith("in ")) {
        return "number " + b;
      }
      return "number " + b.replace("at least ", ">= ").replace("greater than ", "> ")
          .replace("at most ", "<= ").replace("less than ", "< ");
    }
  }

  /** {@code true} or {@code false}. */
  static final class BoolType extends ValueType<Boolean> {
    @Override
    Boolean read(Node node, String path, Path baseDir) {
      if (node instanceof Node.ScalarNode s && s.kind() == Node.Kind.BOOLEAN) {
        return (Boolean) s.value();
      }
      throw expected(path, "true or false", node);
    }

    @Override
    String format(Boolean value) {
      return value.toString();
    }

    @Override
    String describe() {
      return "boolean";
    }
  }

  /** A string matching a pattern (names of things). */
  static final class NameType extends ValueType<String> {
    private final Pattern pattern;
    private final String rule;
    private final String shortRule;

    NameType(Pattern pattern, String rule, String shortRule) {
      this.pattern = pattern;
      this.rule = rule;
      this.shortRule = shortRule;
    }

    @Override
    String read(Node node, String path, Path baseDir) {
      if (node instanceof Node.ScalarNode s && (s.kind() == Node.Kind.STRING || s.kind() == Node.Kind.INT)) {
        return s.text();
      }
      throw expected(path, rule, node);
    }

    @Override
    void check(String value, String path) {
      if (!pattern.matcher(value).matches()) {
        throw new ConfigException(path, "must be " + rule + ", got '" + value + "'");
      }
    }

    @Override
    String format(String value) {
      return value.isEmpty() ? "\"\"" : YamlText.string(value);
    }

    @Override
    String describe() {
      return shortRule;
    }
  }

  /** One of the configuration names of an enum. */
  static final class EnumType<E extends Enum<E>> extends ValueType<E> {
    private final Class<E> type;
    private final Function<E, String> name;
    private final List<String> names;

    EnumType(Class<E> type, Function<E, String> name) {
      this.type = type;
      this.name = name;
      this.names = Arrays.stream(type.getEnumConstants()).map(name).toList();
    }

    @Override
    E read(Node node, String path, Path baseDir) {
      if (node instanceof Node.ScalarNode s && s.kind() == Node.Kind.STRING) {
        for (E e : type.getEnumConstants()) {
          if (name.apply(e).equalsIgnoreCase(s.text())) {
            return e;
          }
        }
        throw new ConfigException(path, "unknown value '" + s.text() + "'; "
            + Suggestions.didYouMean(s.text(), names));
      }
      throw expected(path, "one of " + String.join(", ", names), node);
    }

    @Override
    String format(E value) {
      return name.apply(value);
    }

    @Override
    String describe() {
      return String.join(" | ", names);
    }
  }

  /** An image shape {@code [C, H, W]} of positive integers. */
  static final class ShapeType extends ValueType<Shape> {
    private static final IntType DIM = new IntType(1, Integer.MAX_VALUE, null);

    @Override
    Shape read(Node node, String path, Path baseDir) {
      if (!(node instanceof Node.ListNode l)) {
        throw expected(path, "[C, H, W] (a list of 3 positive integers)", node);
      }
      if (l.items().size() != 3) {
        throw new ConfigException(path,
            "expected [C, H, W] (a list of 3 positive integers), got a list of " + l.items().size());
      }
      int[] dims = new int[3];
      for (int i = 0; i < 3; i++) {
        dims[i] = DIM.readChecked(l.items().get(i), path + "[" + i + "]", baseDir);
      }
      try {
        return Shape.of(dims);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(path, e.getMessage());
      }
    }

    @Override
    void check(Shape value, String path) {
      if (value.rank() != 3) {
        throw new ConfigException(path, "must be [C, H, W] (3 dimensions), got " + value);
      }
    }

    @Override
    String format(Shape value) {
      return value.toString();
    }

    @Override
    String describe() {
      return "3 positive integers [C, H, W]";
    }
  }

  /** A list of integers, each in the element type's range. */
  static final class IntListType extends ValueType<List<Integer>> {
    private final IntType element;
    private final boolean nonEmpty;

    IntListType(IntType element, boolean nonEmpty) {
      this.element = element;
      this.nonEmpty = nonEmpty;
    }

    @Override
    List<Integer> read(Node node, String path, Path baseDir) {
      if (!(node instanceof Node.ListNode l)) {
        throw expected(path, "a list of integers such as [1, 2]", node);
      }
      List<Integer> out = new ArrayList<>(l.items().size());
      for (int i = 0; i < l.items().size(); i++) {
        out.add(element.read(l.items().get(i), path + "[" + i + "]", baseDir));
      }
      return List.copyOf(out);
    }

    @Override
    void check(List<Integer> value, String path) {
      if (nonEmpty && value.isEmpty()) {
        throw new ConfigException(path, "must not be empty");
      }
      for (int i = 0; i < value.size(); i++) {
        element.check(value.get(i), path + "[" + i + "]");
      }
    }

    @Override
    String format(List<Integer> value) {
      return value.stream().map(String::valueOf).collect(Collectors.joining(", ", "[", "]"));
    }

    @Override
    String describe() {
      return "list of " + element.describe().replace("integer", "integers");
    }
  }

  /**
   * A file path; relative paths are optionally resolved against the YAML file's folder. A leading {@code ~/} (or
   * {@code ~} alone, quoted) is the user's home folder, as a shell would expand it (YAML files and {@code --set}
   * values do not go through one).
   */
  static final class PathType extends ValueType<Path> {
    private final boolean resolve;

    PathType(boolean resolve) {
      this.resolve = resolve;
    }

    @Override
    Path read(Node node, String path, Path baseDir) {
      if (node instanceof Node.ScalarNode s && (s.kind() == Node.Kind.STRING || s.kind() == Node.Kind.INT)) {
        if (s.text().isEmpty()) {
          throw new ConfigException(path, "must not be empty (a file path)");
        }
        try {
          Path p = expandHome(s.text());
          if (resolve && baseDir != null) {
            p = baseDir.resolve(p).toAbsolutePath().normalize();
          }
          return p;
        } catch (InvalidPathException e) {
          throw new ConfigException(path, "'" + s.text() + "': "
              + io.github.diffusion4j.io.FileProblems.describe(e));
        }
      }
      throw expected(path, "a path", node);
    }

    /** {@code ~} and {@code ~/rest} as the home folder and a path under it; other paths as written. */
    static Path expandHome(String text) {
      if (text.equals("~") || text.startsWith("~/")) {
        Path home = home(System.getenv("HOME"), System.getProperty("user.home"));
        return text.length() <= 2 ? home : home.resolve(text.substring(2));
      }
      return Path.of(text);
    }

    /**
     * The home folder {@code ~} names: {@code $HOME} where it is set, as the shell expands {@code ~}; else Java's
     * {@code user.home}, which comes from the password database (with HOME set elsewhere, as in containers and
     * CI jobs, {@code ~/pics} named the passwd entry's folder, and {@code ?/pics} for a user without one).
     *
     * @param homeVariable the variable {@code HOME}, or null
     * @param userHome the property {@code user.home}
     * @return the home folder
     */
    static Path home(String homeVariable, String userHome) {
      return Path.of(homeVariable != null && !homeVariable.isEmpty() ? homeVariable : userHome);
    }

    @Override
    void check(Path value, String path) {
      if (value.toString().isEmpty()) {
        throw new ConfigException(path, "must not be empty (a file path)");
      }
    }

    @Override
    String format(Path value) {
      return YamlText.string(value.toString());
    }

    @Override
    String describe() {
      return resolve ? "path (relative to the YAML file)" : "path";
    }
  }

  /** A value that may be absent; {@code null} in YAML reads as absent. */
  static final class OptionalType<T> extends ValueType<Optional<T>> {
    private final ValueType<T> inner;

    OptionalType(ValueType<T> inner) {
      this.inner = inner;
    }

    @Override
    Optional<T> read(Node node, String path, Path baseDir) {
      if (node instanceof Node.ScalarNode s && s.kind() == Node.Kind.NULL) {
        return Optional.empty();
      }
      return Optional.of(inner.read(node, path, baseDir));
    }

    @Override
    void check(Optional<T> value, String path) {
      value.ifPresent(v -> inner.check(v, path));
    }

    @Override
    String format(Optional<T> value) {
      return value.map(inner::format).orElse(null);
    }

    @Override
    String describe() {
      return inner.describe();
    }
  }

  /** A free-form mapping kept as a located {@link ConfigSection}. */
  static final class SectionType extends ValueType<ConfigSection> {
    @Override
    ConfigSection read(Node node, String path, Path baseDir) {
      if (node instanceof Node.MapNode m) {
        return new ConfigSection(path, m, baseDir);
      }
      if (node instanceof Node.ScalarNode s && s.kind() == Node.Kind.NULL) {
        return new ConfigSection(path, Node.MapNode.empty(s.location()), baseDir);
      }
      throw expected(path, "a mapping of options such as {order: 2}", node);
    }

    @Override
    String format(ConfigSection value) {
      return value.toFlowYaml();
    }

    @Override
    String describe() {
      return "mapping";
    }
  }

  @Override
  public String toString() {
    return describe().toLowerCase(Locale.ROOT);
  }
}
