package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class StrictJsonTest {

  @Test
  void aParseErrorIsOneLineWithItsPositionsAndNoJacksonSourceNotice() {
    CheckpointException unclosed = assertThrows(CheckpointException.class,
        () -> StrictJson.parseObject("{\"a\": 1,\n \"b\": [2", "model_index.json", ""));
    assertEquals("model_index.json: not valid JSON: Unexpected end-of-input: expected close marker for Array "
        + "(start marker at line 2, column 7) (line 2, column 9)", unclosed.getMessage());
    CheckpointException twice = assertThrows(CheckpointException.class,
        () -> StrictJson.parseObject("{\"a\": 1, \"a\": 2}", "config.json", ""));
    assertEquals("config.json: not valid JSON: Duplicate field 'a' (line 1, column 13)", twice.getMessage());
  }
}
