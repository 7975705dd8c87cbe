package io.github.diffusion4j.settings;

/**
 * An on/off switch read from a system property, strictly: unset or blank means the default, {@code true} and
 * {@code false} (any case, surrounding blanks allowed) mean themselves, and anything else is refused with one
 * line naming the property, the value and what is allowed, so a typo never silently turns code off. The
 * switches: {@code diffusion4j.nd4j.vector}, {@code diffusion4j.nd4j.winograd}, {@code diffusion4j.djl.channelsLast}
 * and {@code diffusion4j.noise.vector} (README, "From Java"; docs/noise.md).
 */
public final class SystemSwitch {
  private SystemSwitch() {}

  /**
   * The switch a system property sets, or the default where it is not set.
   *
   * @param property the system property's name
   * @param defaultValue the value where the property is unset or blank
   * @return the switch
   * @throws IllegalArgumentException naming the property, its value and what is allowed, if the value is not a
   *     boolean
   */
  public static boolean read(String property, boolean defaultValue) {
    return parse(property, System.getProperty(property), defaultValue);
  }

  /**
   * Reads a switch.
   *
   * @param property the system property's name, for the message
   * @param value the property's value, or null or blank for the default
   * @param defaultValue the value where {@code value} is null or blank
   * @return the switch
   * @throws IllegalArgumentException naming the property, its value and what is allowed, if the value is not a
   *     boolean
   */
  public static boolean parse(String property, String value, boolean defaultValue) {
    if (value == null || value.isBlank()) {
      return defaultValue;
    }
    String v = value.strip();
    if (v.equalsIgnoreCase("true")) {
      return true;
    }
    if (v.equalsIgnoreCase("false")) {
      return false;
    }
    throw new InvalidPropertyException(
        "system property " + property + ": '" + value + "' is not a boolean (allowed: true, false)");
  }
}
