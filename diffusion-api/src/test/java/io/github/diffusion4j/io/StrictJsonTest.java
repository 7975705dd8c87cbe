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

  /**
   * Floats are written as Python's {@code repr} writes them (diffusers' {@code config.json} is {@code json.dumps}'s),
   * plainly for exponents from -4 to 15 and with an exponent outside: at both ends of that range, where Java's
   * {@code Double.toString} already uses an exponent (below 1e-3, from 1e7). The expected strings are Python 3's
   * {@code repr} of each value.
   */
  @Test
  void floatsAreWrittenAsPythonsReprWritesThem() {
    assertEquals("0.0001", StrictJson.pythonFloat(1e-4));
    assertEquals("0.00015", StrictJson.pythonFloat(1.5e-4));
    assertEquals("-0.00025", StrictJson.pythonFloat(-2.5e-4));
    assertEquals("1e-05", StrictJson.pythonFloat(1e-5));
    assertEquals("10000000.0", StrictJson.pythonFloat(1e7));
    assertEquals("1500000000000000.0", StrictJson.pythonFloat(1.5e15));
    assertEquals("1e+16", StrictJson.pythonFloat(1e16));
    assertEquals("{\n  \"beta_start\": 0.0001\n}", StrictJson.pretty(java.util.Map.of("beta_start", 1e-4)));
  }
}
