package io.github.diffusion4j.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Strict JSON parsing shared by the readers of this package: duplicate keys and trailing content are
 * errors (Jackson accepts both by default), and messages fit on one line.
 */
final class StrictJson {
  /** Large enough for a 100 MB safetensors header, which may hold one long string. */
  private static final int MAX_LENGTH = 100_000_000;

  /** Built at the first use, after {@link JacksonVersions#require()} (an older Jackson fails here). */
  private static final class Holder {
    static final ObjectMapper MAPPER =
        JsonMapper.builder(
                JsonFactory.builder()
                    .streamReadConstraints(
                        StreamReadConstraints.builder()
                            .maxStringLength(MAX_LENGTH)
                            .maxNameLength(MAX_LENGTH)
                            .build())
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
  }

  /**
   * The strict mapper, once the Jackson modules on the class path are known to fit.
   *
   * @return the mapper
   * @throws IllegalStateException where {@link JacksonVersions#require()} refuses the Jackson modules
   */
  static ObjectMapper mapper() {
    JacksonVersions.require();
    return Holder.MAPPER;
  }

  private StrictJson() {}

  /**
   * Parses a JSON document.
   *
   * @param text the text
   * @return the tree
   * @throws JsonProcessingException if it is not one valid JSON value, has trailing content or a
   *     duplicate key
   */
  static JsonNode parse(String text) throws JsonProcessingException {
    return mapper().readTree(text);
  }

  /**
   * Parses a document that must be a JSON object.
   *
   * @param text the text
   * @param source the file, for messages
   * @param subject what is parsed, as the start of a message ({@code "header is "}, or empty for the
   *     whole file)
   * @return the object
   * @throws CheckpointException naming {@code source} if the text is not valid JSON or not an object
   */
  static JsonNode parseObject(String text, Object source, String subject) {
    JsonNode root;
    try {
      root = parse(text);
    } catch (JsonProcessingException e) {
      throw CheckpointException.of(source, subject + "not valid JSON: " + describe(e));
    }
    if (root == null || !root.isObject()) {
      throw CheckpointException.of(source, subject + "not a JSON object: got " + kind(root));
    }
    return root;
  }

  /**
   * The error for a value of the wrong type.
   *
   * @param source the file
   * @param key the key
   * @param expected what was expected, e.g. {@code "an integer"}
   * @param value what was found
   * @return the exception
   */
  static CheckpointException wrongType(Object source, String key, String expected, JsonNode value) {
    return CheckpointException.of(
        source, "key '" + key + "': expected " + expected + ", got " + kind(value));
  }

  /**
   * A one-line description of a parse error with its position.
   *
   * @param e the error
   * @return e.g. {@code "Duplicate Object property \"a\" (line 1, column 12)"}
   */
  static String describe(JsonProcessingException e) {
    // Jackson names where an unclosed value started as "[Source: REDACTED (...); line: 1, column: 1]"
    String msg = CheckpointException.oneLine(e.getOriginalMessage())
        .replaceAll("\\[Source: .*?; line: (\\d+), column: (\\d+)\\]", "line $1, column $2");
    JsonLocation loc = e.getLocation();
    if (loc != null && loc.getLineNr() > 0) {
      msg += " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }
    return msg;
  }

  /**
   * The kind of a JSON value, for messages.
   *
   * @param node the value
   * @return e.g. {@code "a string"}
   */
  static String kind(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "missing";
    }
    JsonNodeType t = node.getNodeType();
    return switch (t) {
      case ARRAY -> "an array";
      case OBJECT, POJO -> "an object";
      case STRING -> "a string (\"" + abbreviate(node.textValue()) + "\")";
      case NUMBER -> "a number (" + node.asText() + ")";
      case BOOLEAN -> "a boolean (" + node.asText() + ")";
      case NULL -> "null";
      default -> t.toString().toLowerCase(Locale.ROOT);
    };
  }

  /** Shortens a string for a message. */
  static String abbreviate(String s) {
    String one = CheckpointException.oneLine(s);
    return one.length() <= 60 ? one : one.substring(0, 57) + "...";
  }

  /**
   * Plain values as Python's {@code json.dumps(value, indent=2)} writes them (diffusers' config files): two-space
   * indent, {@code "key": value}, one list item per line, no final newline.
   *
   * @param value strings, numbers, booleans, null, lists and maps (keys in the map's order)
   * @return the text
   */
  static String pretty(Object value) {
    StringBuilder b = new StringBuilder();
    pretty(b, value, "");
    return b.toString();
  }

  private static void pretty(StringBuilder b, Object v, String indent) {
    try {
      if (v instanceof Map<?, ?> m) {
        if (m.isEmpty()) {
          b.append("{}");
          return;
        }
        b.append("{\n");
        int i = 0;
        for (Map.Entry<?, ?> e : m.entrySet()) {
          b.append(indent).append("  ").append(mapper().writeValueAsString(String.valueOf(e.getKey()))).append(": ");
          pretty(b, e.getValue(), indent + "  ");
          b.append(++i < m.size() ? ",\n" : "\n");
        }
        b.append(indent).append('}');
      } else if (v instanceof List<?> l) {
        if (l.isEmpty()) {
          b.append("[]");
          return;
        }
        b.append("[\n");
        for (int i = 0; i < l.size(); i++) {
          b.append(indent).append("  ");
          pretty(b, l.get(i), indent + "  ");
          b.append(i + 1 < l.size() ? ",\n" : "\n");
        }
        b.append(indent).append(']');
      } else if (v instanceof Double || v instanceof Float) {
        double d = ((Number) v).doubleValue();
        if (!Double.isFinite(d)) {
          throw new IllegalArgumentException("JSON has no " + d);
        }
        b.append(pythonFloat(d));
      } else {
        b.append(mapper().writeValueAsString(v));
      }
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not writable as JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** A double as Python's repr writes it: {@code 1e-06}, {@code 0.0001}, {@code 1.0}. */
  static String pythonFloat(double d) {
    String s = Double.toString(d);
    int e = s.indexOf('E');
    if (e < 0) {
      return s;
    }
    int exp = Integer.parseInt(s.substring(e + 1));
    if (exp >= -4 && exp < 16) {
      String plain = java.math.BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
      return plain.indexOf('.') < 0 ? plain + ".0" : plain;
    }
    String mant = s.substring(0, e);
    if (mant.endsWith(".0")) {
      mant = mant.substring(0, mant.length() - 2);
    }
    return mant + "e" + (exp < 0 ? "-" : "+") + String.format(Locale.ROOT, "%02d", Math.abs(exp));
  }
}
