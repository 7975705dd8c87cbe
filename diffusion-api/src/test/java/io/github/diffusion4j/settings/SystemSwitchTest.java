package io.github.diffusion4j.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SystemSwitchTest {
  private static final String P = "diffusion4j.test.switch";

  @Test
  void unsetOrBlankIsTheDefault() {
    assertTrue(SystemSwitch.parse(P, null, true));
    assertFalse(SystemSwitch.parse(P, null, false));
    assertTrue(SystemSwitch.parse(P, "  ", true));
    assertFalse(SystemSwitch.parse(P, "", false));
  }

  @Test
  void trueAndFalseInAnyCaseWithBlanksAround() {
    assertTrue(SystemSwitch.parse(P, "TRUE", false));
    assertTrue(SystemSwitch.parse(P, " true ", false));
    assertFalse(SystemSwitch.parse(P, "False", true));
    assertFalse(SystemSwitch.parse(P, "false\n", true));
  }

  @Test
  void anythingElseIsRefusedInOneLineNamingThePropertyAndTheValue() {
    for (String bad : new String[] {"ture", "1", "yes", "off", "fast"}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> SystemSwitch.parse(P, bad, true), bad);
      assertEquals("system property " + P + ": '" + bad + "' is not a boolean (allowed: true, false)",
          e.getMessage());
    }
  }

  @Test
  void readsTheSystemProperty() {
    try {
      System.clearProperty(P);
      assertTrue(SystemSwitch.read(P, true));
      System.setProperty(P, "false");
      assertFalse(SystemSwitch.read(P, true));
      System.setProperty(P, "no");
      assertThrows(IllegalArgumentException.class, () -> SystemSwitch.read(P, true));
    } finally {
      System.clearProperty(P);
    }
  }
}
