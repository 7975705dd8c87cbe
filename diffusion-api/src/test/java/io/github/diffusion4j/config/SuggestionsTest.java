package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
