package io.github.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** How {@link NetworkModel} splits a batch into passes under a backend's memory budget. */
class PassSizesTest {

  @Test
  void aBatchThatFitsRunsInOnePass() {
    assertArrayEquals(new int[] {64}, NetworkModel.passSizes(64, 64));
    assertArrayEquals(new int[] {7}, NetworkModel.passSizes(7, 1000));
  }

  @Test
  void passesComeInMultiplesOfFourSpreadEvenly() {
    // room for 13: the five passes the budget needs, in multiples of four
    assertArrayEquals(new int[] {16, 12, 12, 12, 12}, NetworkModel.passSizes(64, 13));
    assertArrayEquals(new int[] {16, 16, 16, 16}, NetworkModel.passSizes(64, 16));
    assertArrayEquals(new int[] {12, 12, 12, 12, 8, 8}, NetworkModel.passSizes(64, 12));
    // a batch that is no multiple of four: the last pass gives back what it lacks
    assertArrayEquals(new int[] {8, 8, 8, 6}, NetworkModel.passSizes(30, 8));
    assertArrayEquals(new int[] {4, 4, 1}, NetworkModel.passSizes(9, 4));
  }

  @Test
  void roomForFewerThanFourItemsSpreadsItemByItem() {
    assertArrayEquals(new int[] {3, 2, 2}, NetworkModel.passSizes(7, 3));
    assertArrayEquals(new int[] {1, 1, 1}, NetworkModel.passSizes(3, 1));
  }

  @Test
  void everyPassHoldsAtLeastOneItemAndAtMostThreeOverTheBudget() {
    for (int batch = 1; batch <= 200; batch++) {
      for (int items = 1; items <= batch + 1; items++) {
        int[] sizes = NetworkModel.passSizes(batch, items);
        String what = "batch " + batch + ", room for " + items + ": " + Arrays.toString(sizes);
        assertEquals(batch, Arrays.stream(sizes).sum(), what);
        assertEquals(items >= batch ? 1 : (batch + items - 1) / items, sizes.length, "the passes the budget needs, " + what);
        for (int s : sizes) {
          assertTrue(s >= 1 && s <= items + NetworkModel.PASS_QUANTUM - 1, what);
        }
        for (int i = 0; i + 1 < sizes.length; i++) {
          if (items >= NetworkModel.PASS_QUANTUM) {
            assertEquals(0, sizes[i] % NetworkModel.PASS_QUANTUM, "whole multiples but the last, " + what);
          }
          assertTrue(sizes[i] >= sizes[i + 1], "no pass after a smaller one, " + what);
        }
      }
    }
  }
}
