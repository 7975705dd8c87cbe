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
import java.util.Locale;

/**
 * Strict JSON parsing shared by the readers of this package: duplicate keys and trailing content are
 * errors (Jackson accepts both by default), and messages fit on one line.
 */
final class Json {
  /** Large enough for a 100 MB safetensors header, which may hold one long string. */
  private static final int MAX_LENGTH = 100_000_000;

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

  private Json() {}

  /**
   * Parses a JSON document.
   *
   * @param text the text
   * @return the tree
   * @throws JsonProcessingException if it is not one valid JSON value, has trailing content or a
   *     duplicate key
   */
  static JsonNode parse(String text) throws JsonProcessingException {
    return MAPPER.readTree(text);
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
    String msg = CheckpointException.oneLine(e.getOriginalMessage());
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
}
