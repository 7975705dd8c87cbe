package io.github.diffusion4j.config;

import java.math.BigInteger;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Writes YAML scalars and flow collections that read back to the same values. */
final class YamlText {
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z_/][A-Za-z0-9_./-]*");
  /** Words YAML 1.1 (which SnakeYAML and Jackson follow) reads as booleans or null. */
  private static final Set<String> RESERVED =
      Set.of("y", "n", "yes", "no", "on", "off", "true", "false", "null");

  private YamlText() {}

  /**
   * A double that YAML reads back exactly: Java's shortest round-trip form, with a lowercase signed
   * exponent ({@code 1.0e-8}, {@code 1.0e+8}) since YAML 1.1 needs the sign.
   *
   * @param d a finite value
   * @return the text
   */
  static String number(double d) {
    if (Double.isNaN(d)) {
      return ".nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? ".inf" : "-.inf";
    }
    String s = Double.toString(d);
    int e = s.indexOf('E');
    if (e < 0) {
      return s;
    }
    String exp = s.substring(e + 1);
    return s.substring(0, e) + "e" + (exp.startsWith("-") ? exp : "+" + exp);
  }

  /**
   * A string: plain when that is unambiguous, else double-quoted with escapes.
   *
   * @param s the string
   * @return the YAML text
   */
  static String string(String s) {
    if (PLAIN.matcher(s).matches() && !RESERVED.contains(s.toLowerCase(Locale.ROOT))) {
      return s;
    }
    StringBuilder b = new StringBuilder("\"");
    s.codePoints().forEach(c -> {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          // outside YAML's printable set (C0 and C1 controls, DEL, surrogates, U+FFFE and U+FFFF), which a reader
          // refuses even quoted, and the line separators and byte-order mark, which it would not read back as such
          if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029 || c == 0xFEFF
              || (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF) {
            b.append(String.format("\\u%04X", c));
          } else {
            b.appendCodePoint(c);
          }
        }
      }
    });
    return b.append('"').toString();
  }

  /**
   * A node as one line of YAML flow style ({@code {order: 2, ratios: [0.5, 1.0]}}).
   *
   * @param n the node
   * @return the text
   */
  static String flow(Node n) {
    StringBuilder b = new StringBuilder();
    flow(n, b);
    return b.toString();
  }

  private static void flow(Node n, StringBuilder b) {
    if (n instanceof Node.MapNode m) {
      b.append('{');
      Iterator<Map.Entry<String, Node.Entry>> it = m.entries().entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<String, Node.Entry> e = it.next();
        b.append(string(e.getKey())).append(": ");
        flow(e.getValue().value(), b);
        if (it.hasNext()) {
          b.append(", ");
        }
      }
      b.append('}');
    } else if (n instanceof Node.ListNode l) {
      b.append('[');
      for (int i = 0; i < l.items().size(); i++) {
        if (i > 0) {
          b.append(", ");
        }
        flow(l.items().get(i), b);
      }
      b.append(']');
    } else {
      Node.ScalarNode s = (Node.ScalarNode) n;
      b.append(switch (s.kind()) {
        case STRING -> string(s.text());
        case INT -> ((BigInteger) s.value()).toString();
        case FLOAT -> number((Double) s.value());
        case BOOLEAN -> s.value().toString();
        case NULL -> "null";
      });
    }
  }
}
