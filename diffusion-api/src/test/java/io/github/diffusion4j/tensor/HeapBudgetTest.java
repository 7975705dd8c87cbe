package io.github.diffusion4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@link HeapBudget}: half the heap, counted without overflow. */
class HeapBudgetTest {
  @Test
  void anArrayOfUpToHalfTheHeapPassesAndOneMoreValueIsRefusedInOneLine() {
    long heap = 1L << 30; // 1 GB: half is 128 Mi four-byte values
    HeapBudget.requireArray("x", 1L << 27, 4, "r", heap);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HeapBudget.requireArray("count: 3 things are 134217729 values", (1L << 27) + 1, 4, "use fewer", heap));
    assertEquals("count: 3 things are 134217729 values (512 MB), more than half of this JVM's heap of at most 1024 MB; "
        + "use fewer", e.getMessage());
    // a count whose bytes overflow a long is refused, not wrapped to a small number
    assertThrows(IllegalArgumentException.class, () -> HeapBudget.requireArray("x", Long.MAX_VALUE / 2, 4, "r", heap));
  }
}
