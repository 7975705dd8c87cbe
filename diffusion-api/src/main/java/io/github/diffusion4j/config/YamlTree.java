package io.github.diffusion4j.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.github.diffusion4j.io.JacksonVersions;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads YAML text into a located {@link Node} tree from the tokens of Jackson's streaming
 * {@link YAMLParser}: every node keeps its line and column, duplicate keys are rejected (Jackson and
 * SnakeYAML accept them), aliases are rejected, and SnakeYAML's syntax errors become one-line
 * {@link ConfigException}s at SnakeYAML's position.
 */
final class YamlTree {
  /** Built at the first parse, after {@link JacksonVersions#require()} (a mix of versions or an old one fails here). */
  private static final class Factory {
    /** An empty plain value ({@code key:}) reads as null; a quoted {@code ''} stays a string. */
    static final YAMLFactory INSTANCE =
        YAMLFactory.builder().enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL).build();
  }

  private YamlTree() {}

  /**
   * Decodes UTF-8 strictly: a malformed byte is an error at its line and column; a leading byte-order
   * mark is dropped.
   *
   * @param bytes the file's bytes
   * @param source the file name for messages
   * @return the text
   * @throws ConfigException if the bytes are not valid UTF-8
   */
  static String decodeUtf8(byte[] bytes, String source) {
    String other = utf16Or32(bytes);
    if (other != null) {
      throw new ConfigException(source, 1, 1, "", "the file is " + other + ", not UTF-8; save it as UTF-8 "
          + "(Windows PowerShell's > and Notepad's 'Unicode' write UTF-16)");
    }
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length + 1); // UTF-8 never yields more chars than bytes
    CoderResult r = decoder.decode(in, out, true);
    if (!r.isError()) {
      r = decoder.flush(out);
    }
    out.flip();
    if (r.isError()) {
      int bad = in.position();
      String before = out.toString();
      int line = 1;
      int lineStart = 0;
      for (int i = 0; i < before.length(); i++) {
        if (before.charAt(i) == '\n') {
          line++;
          lineStart = i + 1;
        }
      }
      int column = before.codePointCount(lineStart, before.length()) + 1;
      throw new ConfigException(source, line, column, "", String.format(Locale.ROOT,
          "not valid UTF-8 (byte 0x%02X at offset %d); save the file as UTF-8", bytes[bad] & 0xFF, bad));
    }
    String text = out.toString();
    return text.startsWith("\uFEFF") ? text.substring(1) : text;
  }

  /**
   * The encoding of a text in UTF-16 or UTF-32 by its first bytes: a byte-order mark, or a NUL byte beside a
   * character (no YAML text holds NUL). Decoded as UTF-8, such a file failed at its first byte ("not valid UTF-8
   * (byte 0xFF at offset 0)") or, without a mark, read as NULs between the characters ("special characters are not
   * allowed"), neither naming the encoding.
   *
   * @return e.g. {@code "UTF-16 (little-endian)"}; null for any other start
   */
  private static String utf16Or32(byte[] b) {
    if (b.length < 2) {
      return null;
    }
    if (b.length >= 4 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xFE && b[2] == 0 && b[3] == 0) {
      return "UTF-32 (little-endian)";
    }
    if (b.length >= 4 && b[0] == 0 && b[1] == 0 && (b[2] & 0xFF) == 0xFE && (b[3] & 0xFF) == 0xFF) {
      return "UTF-32 (big-endian)";
    }
    if ((b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xFE) {
      return "UTF-16 (little-endian)";
    }
    if ((b[0] & 0xFF) == 0xFE && (b[1] & 0xFF) == 0xFF) {
      return "UTF-16 (big-endian)";
    }
    if (b[0] != 0 && b[1] == 0) {
      return "UTF-16 or UTF-32 (little-endian, without a byte-order mark)";
    }
    if (b[0] == 0 && b[1] != 0) {
      return "UTF-16 (big-endian, without a byte-order mark)";
    }
    return null;
  }

  /**
   * Parses a config document: one YAML document whose root is a mapping.
   *
   * @param text the YAML text
   * @param source the name for messages
   * @return the root mapping
   * @throws ConfigException for syntax errors, an empty document, a root that is not a mapping, several
   *     documents, duplicate keys or aliases
   */
  static Node.MapNode parseDocument(String text, String source) {
    Node root = parse(text, source, true, "");
    if (root == null) {
      throw new ConfigException(source, 0, 0, "",
          "the file is empty; expected a mapping of configuration keys such as 'backend: nd4j' "
              + "(run 'diffusion config' to see every key)");
    }
    if (!(root instanceof Node.MapNode map)) {
      Location l = root.location();
      throw new ConfigException(source, l.line(), l.column(), "",
          "expected a mapping of configuration keys (backend, seed, data, model, ...), got "
              + root.describe());
    }
    return map;
  }

  /**
   * Parses one value, e.g. the right-hand side of an override; positions are dropped (the source is
   * shown alone).
   *
   * @param text the YAML text of a scalar, a flow list or a flow mapping
   * @param source the name for messages
   * @param path the key path it is for (for duplicate keys in a flow mapping)
   * @return the value; an empty text gives an empty string
   */
  static Node parseValue(String text, String source, String path) {
    Node n = text.isBlank() ? null : parse(text, source, false, path);
    return n == null ? new Node.ScalarNode(Location.of(source), Node.Kind.STRING, "", "") : n;
  }

  /**
   * The most characters (code points) a config document may hold: SnakeYAML's own limit ({@code
   * LoaderOptions.codePointLimit}), checked before parsing, as SnakeYAML found it only after scanning a long token in
   * time quadratic in its length (a 20 MB line took 85 s).
   */
  static final int MAX_CODE_POINTS = 3 * 1024 * 1024;

  private static Node parse(String text, String source, boolean positions, String path) {
    if (text.length() > MAX_CODE_POINTS && text.codePointCount(0, text.length()) > MAX_CODE_POINTS) {
      throw new ConfigException(source, 0, 0, "", "holds " + text.codePointCount(0, text.length())
          + " characters; a config file holds at most " + MAX_CODE_POINTS);
    }
    JacksonVersions.require();
    Reader reader = new Reader(source, positions);
    try (YAMLParser p = Factory.INSTANCE.createParser(text)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        return null;
      }
      Node root = reader.read(p, t, path);
      if (p.nextToken() != null) {
        Location l = reader.location(p.currentTokenLocation());
        throw new ConfigException(l.source(), l.line(), l.column(), "",
            "a config file holds one YAML document, found a second one (after '---')");
      }
      return root;
    } catch (JsonProcessingException e) {
      throw syntaxError(e, text, source, positions);
    } catch (IOException e) {
      throw new ConfigException(source, 0, 0, "", "cannot read YAML: " + e.getMessage());
    }
  }

  /** Builds nodes from parser tokens. */
  private static final class Reader {
    private final String source;
    private final boolean positions;

    Reader(String source, boolean positions) {
      this.source = source;
      this.positions = positions;
    }

    Location location(JsonLocation l) {
      return positions ? new Location(source, l.getLineNr(), l.getColumnNr()) : Location.of(source);
    }

    Node read(YAMLParser p, JsonToken t, String path) throws IOException {
      Location at = location(p.currentTokenLocation());
      switch (t) {
        case START_OBJECT -> {
          LinkedHashMap<String, Node.Entry> entries = new LinkedHashMap<>();
          for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
            String key = p.currentName();
            Location keyAt = location(p.currentTokenLocation());
            String keyPath = path.isEmpty() ? key : path + "." + key;
            Node.Entry first = entries.get(key);
            if (first != null) {
              Location f = first.keyLocation();
              String where = f.line() > 0 ? " at line " + f.line() + ", column " + f.column() : "";
              throw new ConfigException(keyAt.source(), keyAt.line(), keyAt.column(), keyPath,
                  "duplicate key; it is already given" + where + " (each key may appear once)");
            }
            entries.put(key, new Node.Entry(keyAt, read(p, p.nextToken(), keyPath)));
          }
          return new Node.MapNode(at, entries);
        }
        case START_ARRAY -> {
          List<Node> items = new ArrayList<>();
          for (JsonToken i = p.nextToken(); i != JsonToken.END_ARRAY; i = p.nextToken()) {
            items.add(read(p, i, path + "[" + items.size() + "]"));
          }
          return new Node.ListNode(at, items);
        }
        default -> {
          return scalar(p, t, at, path);
        }
      }
    }

    private Node scalar(YAMLParser p, JsonToken t, Location at, String path) throws IOException {
      String text = p.getText();
      if (p.isCurrentAlias()) {
        throw new ConfigException(at.source(), at.line(), at.column(), path,
            "YAML aliases (*" + text + ") are not supported in config files; write the value out");
      }
      return switch (t) {
        case VALUE_STRING -> new Node.ScalarNode(at, Node.Kind.STRING, text, text);
        case VALUE_NUMBER_INT -> new Node.ScalarNode(at, Node.Kind.INT, text, integer(p, text));
        case VALUE_NUMBER_FLOAT -> new Node.ScalarNode(at, Node.Kind.FLOAT, text, floating(text));
        case VALUE_TRUE -> new Node.ScalarNode(at, Node.Kind.BOOLEAN, text, Boolean.TRUE);
        case VALUE_FALSE -> new Node.ScalarNode(at, Node.Kind.BOOLEAN, text, Boolean.FALSE);
        case VALUE_NULL -> new Node.ScalarNode(at, Node.Kind.NULL, text, null);
        default -> throw new ConfigException(at.source(), at.line(), at.column(), path,
            "unsupported YAML value (" + t + "); use a number, string, boolean, list or mapping");
      };
    }

    private static BigInteger integer(YAMLParser p, String text) throws IOException {
      Number n = p.getNumberValue(); // handles 0x.., 0o.., 1_000, signs
      return n instanceof BigInteger b ? b : BigInteger.valueOf(n.longValue());
    }

    /** Parses a YAML float ourselves: Jackson cannot parse {@code .inf} or {@code .nan}. */
    private static Double floating(String text) {
      String s = text.replace("_", "").toLowerCase(Locale.ROOT);
      return switch (s) {
        case ".inf", "+.inf" -> Double.POSITIVE_INFINITY;
        case "-.inf" -> Double.NEGATIVE_INFINITY;
        case ".nan" -> Double.NaN;
        default -> {
          try {
            yield Double.parseDouble(s);
          } catch (NumberFormatException e) {
            yield Double.NaN;
          }
        }
      };
    }
  }

  private static ConfigException syntaxError(
      JsonProcessingException e, String text, String source, boolean positions) {
    MarkedYAMLException marked = null;
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof MarkedYAMLException m) {
        marked = m;
      }
    }
    int line;
    int column;
    String detail;
    if (marked != null && (marked.getProblemMark() != null || marked.getContextMark() != null)) {
      Mark mark = marked.getProblemMark() != null ? marked.getProblemMark() : marked.getContextMark();
      line = mark.getLine() + 1;
      column = mark.getColumn() + 1;
      String tab = tabProblem(text, line, column);
      if (tab != null) {
        detail = tab;
      } else {
        StringBuilder b = new StringBuilder("YAML syntax error: ");
        b.append(marked.getProblem() != null ? marked.getProblem() : marked.getContext());
        Mark cm = marked.getContextMark();
        if (marked.getProblem() != null && marked.getContext() != null && cm != null) {
          b.append(" (").append(marked.getContext());
          if (positions) {
            b.append(" started at line ").append(cm.getLine() + 1)
                .append(", column ").append(cm.getColumn() + 1);
          }
          b.append(')');
        }
        detail = b.toString();
      }
    } else {
      JsonLocation l = e.getLocation();
      line = l == null ? 0 : l.getLineNr();
      column = l == null ? 0 : l.getColumnNr();
      String m = e.getOriginalMessage();
      if (m != null && m.startsWith("Expected a field name")) {
        // Jackson's text names SnakeYAML's event class ("<org.yaml.snakeyaml.events.SequenceStartEvent(...)>")
        m = "a key must be a plain name, not a list or a mapping ('? [a, b]' or '{a: 1}: ...')";
      }
      detail = "YAML syntax error" + (m == null ? "" : ": " + m.lines().findFirst().orElse(m));
    }
    return positions
        ? new ConfigException(source, line, column, "", detail)
        : new ConfigException(source, 0, 0, "", detail);
  }

  /** A friendlier message when SnakeYAML stopped at a tab: YAML allows no tabs for indentation. */
  private static String tabProblem(String text, int line, int column) {
    String[] lines = text.split("\n", -1);
    if (line < 1 || line > lines.length) {
      return null;
    }
    String l = lines[line - 1];
    int idx;
    try {
      idx = l.offsetByCodePoints(0, column - 1);
    } catch (IndexOutOfBoundsException e) {
      return null;
    }
    if (idx >= l.length() || l.charAt(idx) != '\t') {
      return null;
    }
    String before = l.substring(0, idx);
    if (before.isBlank()) {
      return "tab character used for indentation; YAML indents with spaces only";
    }
    return "tab character after '" + before.strip() + "'; YAML separates keys and values with spaces only";
  }
}
