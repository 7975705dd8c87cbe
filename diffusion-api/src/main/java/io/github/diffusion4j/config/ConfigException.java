package io.github.diffusion4j.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Bad configuration: the one exception for every kind of bad input (YAML syntax, unknown or duplicate
 * keys, wrong types, values out of range, incompatible combinations, unreadable files, bad
 * {@code --set} overrides).
 *
 * <p>{@link #getMessage()} is one line: {@code file:line:col: key.path: detail}, where the position is
 * left out when unknown (an override, a config built in code) and the key path is left out when the
 * error concerns the whole file. Examples:
 *
 * <pre>
 * run.yaml:7:3: training.batch_size: must be at least 1, got 0
 * --set training.epochs=abc: training.epochs: expected an integer, got 'abc'
 * run.yaml: no such file
 * </pre>
 *
 * <p>It is an {@link IllegalArgumentException}: the config records throw it (without a file) when
 * built in code with bad values.
 */
public final class ConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String file;
  private final int line;
  private final int column;
  private final String path;
  private final String detail;
  /** Other ways to report the same problem, at another key; the loader picks one the user wrote. */
  private final transient List<ConfigException> alternatives;

  /**
   * A located error.
   *
   * @param file the file or source as shown to the user (e.g. {@code run.yaml}, {@code --set a=b}), or
   *     null if there is none
   * @param line the 1-based line, or 0 if unknown
   * @param column the 1-based column, or 0 if unknown
   * @param path the key path (e.g. {@code training.batch_size}, {@code sampling.timesteps[2]}), or
   *     empty when the error concerns the whole file
   * @param detail what is wrong and what is allowed; line breaks and control characters are escaped
   *     so that the message stays on one line
   */
  public ConfigException(String file, int line, int column, String path, String detail) {
    this(file, line, column, path, detail, List.of());
  }

  /**
   * An error about a key, without a location (as thrown by the records; the loader adds the location).
   *
   * @param path the key path
   * @param detail what is wrong and what is allowed
   */
  public ConfigException(String path, String detail) {
    this(null, 0, 0, path, detail, List.of());
  }

  private ConfigException(
      String file, int line, int column, String path, String detail, List<ConfigException> alternatives) {
    super(format(file, line, column, path == null ? "" : path, oneLine(detail)));
    this.file = file;
    this.line = Math.max(0, line);
    this.column = Math.max(0, column);
    this.path = path == null ? "" : path;
    this.detail = oneLine(detail);
    this.alternatives = List.copyOf(alternatives);
  }

  /**
   * An error that can be reported at either of two or more keys: the loader reports the first whose key
   * the user actually wrote (so a clash between two values points at the one that was set).
   *
   * @param primary the preferred report
   * @param others the alternatives, in order of preference
   * @return the error
   */
  static ConfigException either(ConfigException primary, ConfigException... others) {
    List<ConfigException> alt = new ArrayList<>(List.of(others));
    return new ConfigException(
        primary.file, primary.line, primary.column, primary.path, primary.detail, alt);
  }

  /**
   * The same error at a location (an error that already has one is returned unchanged).
   *
   * @param at where
   * @return a new exception with the location
   */
  ConfigException at(Location at) {
    if (file != null) {
      return this;
    }
    ConfigException e = new ConfigException(at.source(), at.line(), at.column(), path, detail, List.of());
    e.setStackTrace(getStackTrace());
    return e;
  }

  /** The alternatives given to {@link #either}. */
  List<ConfigException> alternatives() {
    return alternatives;
  }

  /** Whether a file or source is known. */
  boolean located() {
    return file != null;
  }

  /**
   * The file or source as shown to the user.
   *
   * @return e.g. {@code run.yaml} or {@code --set training.epochs=abc}, or null for a config built in code
   */
  public String file() {
    return file;
  }

  /**
   * The 1-based line.
   *
   * @return the line, or 0 if unknown
   */
  public int line() {
    return line;
  }

  /**
   * The 1-based column, counted in characters (code points).
   *
   * @return the column, or 0 if unknown
   */
  public int column() {
    return column;
  }

  /**
   * The key path the error is about.
   *
   * @return e.g. {@code training.batch_size}, or empty for an error about the whole file
   */
  public String path() {
    return path;
  }

  /**
   * What is wrong and what is allowed, without the location and key path.
   *
   * @return e.g. {@code must be at least 1, got 0}
   */
  public String detail() {
    return detail;
  }

  private static String format(String file, int line, int column, String path, String detail) {
    StringBuilder b = new StringBuilder();
    if (file != null) {
      b.append(file);
      if (line > 0) {
        b.append(':').append(line).append(':').append(column);
      }
      b.append(": ");
    }
    if (!path.isEmpty()) {
      b.append(path).append(": ");
    }
    return b.append(detail).toString();
  }

  /** Escapes line breaks and other control characters, so that a message is always one line. */
  static String oneLine(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints().forEach(c -> {
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (Character.isISOControl(c) || c == 0x2028 || c == 0x2029) {
            b.append(String.format("\\u%04X", c));
          } else {
            b.appendCodePoint(c);
          }
        }
      }
    });
    return b.toString();
  }
}
