package io.github.diffusion4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PassMemoryTest {
  private static final String P = "diffusion4j.test.passMemoryMb";

  @Test
  void unsetOrBlankIsTheDefaultAndAValueIsMib() {
    assertEquals(2048L << 20, PassMemory.parse(P, null));
    assertEquals(2048L << 20, PassMemory.parse(P, "  "));
    assertEquals(1L << 20, PassMemory.parse(P, "1"));
    assertEquals(300L << 20, PassMemory.parse(P, " 300\t"));
    assertEquals(PassMemory.DEFAULT_MB << 20, PassMemory.fromSystemProperty(P));
  }

  @Test
  void anythingButAWholeNumberOfMibFromOneIsNamedInOneLine() {
    for (String bad : new String[] {"0", "-5", "1g", "1.5", "9223372036854775807"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PassMemory.parse(P, bad));
      assertEquals("system property " + P + ": '" + bad + "' is not a whole number of MiB from 1 "
          + "(the activation memory of one pass; default 2048)", e.getMessage());
    }
  }
}
