package io.github.diffusion4j.cli;

/**
 * An option value of a fixed number of whole numbers separated by commas ({@code --resample J,R}, {@code
 * --image-shape C,H,W}), taken as one string rather than with picocli's {@code split}, whose usage line would offer
 * repeats ({@code J,R[,J,R...]}) the command refuses.
 */
final class CommaInts {
  private CommaInts() {}

  /**
   * The numbers of {@code text}, or null where it is not exactly {@code count} whole numbers (spaces around each
   * allowed); the caller says what was wrong in the option's words.
   *
   * @param text the option's value
   * @param count how many numbers it must hold
   * @return the numbers, or null
   */
  static int[] parse(String text, int count) {
    String[] parts = text.split(",", -1);
    if (parts.length != count) {
      return null;
    }
    int[] values = new int[count];
    try {
      for (int i = 0; i < count; i++) {
        values[i] = Integer.parseInt(parts[i].strip());
      }
    } catch (NumberFormatException e) {
      return null;
    }
    return values;
  }
}
