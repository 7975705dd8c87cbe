package io.github.diffusion4j.benchmarks.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The summary of {@code diffusion bench --rounds}: per backend and figure, the median ratio and every round's. */
class RoundsTest {
  private static Map<String, Map<String, Double>> round(double nd4jTrain, double nd4jForward, double torchTrain,
      double torchForward) {
    Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
    rows.put("nd4j", Map.of("train", nd4jTrain, "forward", nd4jForward));
    rows.put("djl", Map.of("train", 1.0)); // no forward figure: left out of its line
    rows.put(Rounds.REFERENCE, Map.of("train", torchTrain, "forward", torchForward));
    return rows;
  }

  @Test
  void eachRatioIsTheValueOverTheReferencesOfItsOwnRoundAndTheSummaryGivesTheirMedian() {
    Rounds r = new Rounds(List.of("train", "forward"), List.of("train", "fwd"));
    r.add(round(0.9, 1.2, 1.0, 1.0)); // 0.90x, 1.20x
    r.add(round(0.5, 0.5, 0.5, 0.25)); // 1.00x, 2.00x
    r.add(round(2.0, 3.0, 2.5, 3.0)); // 0.80x, 1.00x
    List<String> lines = r.summary();
    assertEquals(3, lines.size(), String.join("\n", lines));
    assertTrue(lines.get(0).startsWith("over 3 rounds"), lines.get(0));
    assertTrue(lines.get(1).startsWith("nd4j"), lines.get(1));
    assertTrue(lines.get(1).contains("train 0.90x [0.90 1.00 0.80]"), lines.get(1));
    assertTrue(lines.get(1).contains("fwd 1.20x [1.20 2.00 1.00]"), lines.get(1));
    assertTrue(lines.get(2).contains("train 1.00x [1.00 2.00 0.40]"), lines.get(2));
    assertTrue(!lines.get(2).contains("fwd"), lines.get(2));
  }

  @Test
  void roundsWithoutTheReferenceAddNoRatiosAndOneRoundHasNoSummary() {
    Rounds one = new Rounds(List.of("train"), List.of("train"));
    one.add(round(1, 1, 1, 1));
    assertEquals(List.of(), one.summary());
    Rounds r = new Rounds(List.of("train"), List.of("train"));
    r.add(round(1, 1, 1, 1));
    Map<String, Map<String, Double>> noReference = round(1, 1, 1, 1);
    noReference.remove(Rounds.REFERENCE);
    r.add(noReference);
    r.add(noReference);
    assertEquals(List.of("over 3 rounds, no median ratios: the pytorch reference ran in 1 of them (--no-reference, "
        + "or it failed or was not found)"), r.summary());
  }

  @Test
  void ofAnEvenNumberOfRoundsTheMedianIsTheUpperMiddleValueAndEveryRoundIsPrintedInOrder() {
    Rounds r = new Rounds(List.of("train"), List.of("train"));
    for (double ratio : new double[] {1.0, 4.0, 2.0, 3.0}) {
      r.add(round(ratio, 1, 1, 1));
    }
    List<String> lines = r.summary();
    // sorted 1 2 3 4: the upper of the two middle values is 3 (docs/benchmarks.md)
    assertTrue(lines.get(1).contains("train 3.00x [1.00 4.00 2.00 3.00]"), lines.get(1));
  }
}
