package io.github.diffusion4j.benchmarks.compare;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The ratios of {@code diffusion bench --rounds N}: each round times every backend and then the reference, so a
 * round's ratios are taken minutes apart at most, while the machine's own speed drifts by tens of percent over a
 * longer run (docs/benchmarks.md); the summary is each ratio's median over the rounds (of an even number, the
 * upper of the two middle values, as for the repetitions), with every round's value, so the spread is in plain
 * view.
 */
final class Rounds {
  /** The reference's row name. */
  static final String REFERENCE = "pytorch";

  private final List<String> keys;
  private final List<String> labels;
  /** Per round: the ratios of each backend by key. */
  private final List<Map<String, Map<String, Double>>> ratios = new ArrayList<>();
  /** The rounds added, with the reference or without. */
  private int rounds;

  /**
   * Ratios of the given figures.
   *
   * @param keys the figures' JSON keys
   * @param labels how the summary names them, in the same order
   */
  Rounds(List<String> keys, List<String> labels) {
    if (keys.size() != labels.size()) {
      throw new IllegalArgumentException("one label per key");
    }
    this.keys = List.copyOf(keys);
    this.labels = List.copyOf(labels);
  }

  /**
   * Adds a round: each backend's figures over the reference's ({@code value / reference}, as the round's own
   * table prints them). A round without the reference adds nothing.
   *
   * @param rows the round's rows by name, the reference's under {@value #REFERENCE}
   */
  void add(Map<String, Map<String, Double>> rows) {
    rounds++;
    Map<String, Double> ref = rows.get(REFERENCE);
    if (ref == null) {
      return;
    }
    Map<String, Map<String, Double>> round = new LinkedHashMap<>();
    for (Map.Entry<String, Map<String, Double>> e : rows.entrySet()) {
      if (e.getKey().equals(REFERENCE)) {
        continue;
      }
      Map<String, Double> r = new LinkedHashMap<>();
      for (String k : keys) {
        Double v = e.getValue().get(k);
        Double w = ref.get(k);
        if (v != null && w != null) {
          r.put(k, v / w);
        }
      }
      round.put(e.getKey(), r);
    }
    ratios.add(round);
  }

  /**
   * The summary: a title line, then one line per backend with each figure's median ratio and every round's
   * ratio in brackets; nothing after one round, and one line saying why there are no medians when fewer than two
   * of several rounds had the reference.
   *
   * @return the lines
   */
  List<String> summary() {
    if (rounds < 2) {
      return List.of();
    }
    if (ratios.size() < 2) {
      return List.of(String.format(Locale.ROOT, "over %d rounds, no median ratios: the %s reference ran in %d of "
          + "them (--no-reference, or it failed or was not found)", rounds, REFERENCE, ratios.size()));
    }
    List<String> lines = new ArrayList<>();
    lines.add(String.format(Locale.ROOT, "over %d rounds, the median ratio against %s (each round's in brackets, "
        + "in order):", ratios.size(), REFERENCE));
    for (String name : ratios.get(0).keySet()) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-13s", name));
      for (int i = 0; i < keys.size(); i++) {
        List<Double> each = new ArrayList<>();
        for (Map<String, Map<String, Double>> round : ratios) {
          Double v = round.getOrDefault(name, Map.of()).get(keys.get(i));
          if (v != null) {
            each.add(v);
          }
        }
        if (each.isEmpty()) {
          continue;
        }
        StringBuilder all = new StringBuilder();
        for (double v : each) {
          all.append(all.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.2f", v));
        }
        line.append(String.format(Locale.ROOT, "  %s %.2fx [%s]", labels.get(i),
            Workloads.median(each.stream().mapToDouble(Double::doubleValue).toArray()), all));
      }
      lines.add(line.toString());
    }
    return lines;
  }
}
