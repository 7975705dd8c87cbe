package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SuggestionsTest {

  @Test
  void editDistance() {
    assertEquals(0, Suggestions.distance("epochs", "epochs"));
    assertEquals(1, Suggestions.distance("epoch", "epochs"));       // insertion
    assertEquals(1, Suggestions.distance("beta_shedule", "beta_schedule"));
    assertEquals(1, Suggestions.distance("epcohs", "epochs"));      // transposition
    assertEquals(3, Suggestions.distance("kitten", "sitting"));
  }

  @Test
  void closestWithinTheLimit() {
    List<String> keys = List.of("epochs", "batch_size", "learning_rate");
    assertEquals(Optional.of("batch_size"), Suggestions.closest("batchsize", keys));
    assertEquals(Optional.of("batch_size"), Suggestions.closest("Batch-Size", keys));
    assertEquals(Optional.of("learning_rate"), Suggestions.closest("learnig_rat", keys));
    assertEquals(Optional.empty(), Suggestions.closest("lr", keys));
    assertEquals(Optional.empty(), Suggestions.closest("colour", keys));
  }

  @Test
  void message() {
    assertEquals("did you mean 'epochs'? (allowed: epochs, seed)",
        Suggestions.didYouMean("epoch", List.of("epochs", "seed")));
    assertEquals("allowed: epochs, seed", Suggestions.didYouMean("zzz", List.of("epochs", "seed")));
  }

  @Test
  void aLongWordIsNotComparedWithShortCandidates() {
    // a config value may be megabytes long (a file holds up to 3 M characters); the table of its edit distance to
    // each candidate took 5-10 s and hundreds of megabytes before the word was found to be too far from them all
    assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
        && t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled());
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    String word = "q".repeat(3_000_000);
    List<String> values = List.of("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid");
    long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
    assertEquals("allowed: linear, scaled_linear, squaredcos_cap_v2, sigmoid", Suggestions.didYouMean(word, values));
    long allocated = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
    assertTrue(allocated < 64L << 20, "allocated " + allocated + " bytes");
    assertEquals(Optional.of("sigmoid"), Suggestions.closest("sigmoids_", values), "near lengths are still compared");
  }
}
