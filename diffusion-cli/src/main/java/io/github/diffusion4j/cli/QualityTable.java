package io.github.diffusion4j.cli;

import io.github.diffusion4j.eval.QualityReport;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * How the commands that score samples print their report ({@code diffusion eval}, {@code demo}, and the commands
 * of optional modules such as {@code diffusion spark eval}), so that every one prints the same table.
 */
public final class QualityTable {
  private QualityTable() {}

  /**
   * The table (a header and one row) and the report's JSON line.
   *
   * @param out where it goes
   * @param what the row's label (the sampler and its steps, or the shards and the time)
   * @param r the report
   */
  public static void print(PrintWriter out, String what, QualityReport r) {
    printTable(out, what, r);
    out.println(r.toJson());
  }

  /**
   * The report's JSON ({@link QualityReport#toJson()}) with what was scored after its scores, in the order given:
   * how the samples were drawn ({@code "sampler"}, {@code "steps"}, {@code "seed"}, {@code "checkpoint"}) or the
   * file or folder they were read from ({@code "samples"}), so that two reports say what they compare. Numbers are
   * written as numbers, anything else as a JSON string.
   *
   * @param r the report
   * @param scored the keys to add, in the map's order (a {@code LinkedHashMap})
   * @return one line of JSON
   */
  public static String json(QualityReport r, java.util.Map<String, ?> scored) {
    String scores = r.toJson();
    StringBuilder b = new StringBuilder(scores.substring(0, scores.length() - 1));
    scored.forEach((key, value) -> b.append(", ").append(string(key)).append(": ")
        .append(value instanceof Number n ? n.toString() : string(String.valueOf(value))));
    return b.append('}').toString();
  }

  /** A JSON string, quoted and escaped as Jackson writes it. */
  private static String string(String s) {
    return com.fasterxml.jackson.databind.node.TextNode.valueOf(s).toString();
  }

  /**
   * The table only: a header and one row; metrics the data has no meaning for are {@code -}.
   *
   * @param out where it goes
   * @param what the row's label
   * @param r the report
   */
  public static void printTable(PrintWriter out, String what, QualityReport r) {
    out.printf(Locale.ROOT, "%-28s %10s %12s %15s %13s%n", "samples (" + r.sampleCount() + ")", "frechet", "grad resid",
        "corner KS pooled", "corner KS mean");
    out.printf(Locale.ROOT, "%-28s %10.4f %12s %15s %13s%n", what, r.frechet(), cell(r.gradientResidual()),
        cell(r.cornerKsPooled()), cell(r.cornerKsMean()));
  }

  /**
   * Says which real images the samples were scored against, and, where there were no more samples than values
   * in an image, that the distance then mostly measures how few they are.
   *
   * @param out where the line about the real images goes
   * @param err where the note about few samples goes
   * @param source where the real images come from ({@code Diffusion.referenceSource()})
   * @param references how many real images were compared with
   * @param count how many samples were scored
   * @param values the values of one image
   */
  public static void describeReference(PrintWriter out, PrintWriter err, String source, int references, int count,
      int values) {
    out.println("real images: " + references + " of " + source);
    if (count <= values) {
      err.println("note: " + count + " samples of " + values + " values each: a Frechet distance in pixel space from "
          + "no more samples than values is dominated by how few they are; compare runs at the same --count");
    } else if (references <= values) {
      err.println("note: " + references + " real images of " + values + " values each (fewer than the " + count
          + " samples): a Frechet distance in pixel space from no more images than values is dominated by how few "
          + "they are; compare runs against the same real images");
    }
  }

  private static String cell(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
  }
}
