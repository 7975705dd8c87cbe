package io.github.diffusion4j.cli;

/**
 * Words of a command that a message suggests, written so that a POSIX shell reads them back as they are: a path
 * with a space or a quote in it (a clone under {@code ~/my projects/}, a run folder of {@code output.dir: "runs
 * ü"}) was printed bare, and the suggested command, pasted, gave its command two or more arguments.
 */
final class ShellWords {
  private ShellWords() {}

  /**
   * The word as a shell reads it back: as it is where every character is a letter or digit (of any script) or one
   * of {@code _ @ % + = : , . / -}; else in single quotes, each {@code '} in it as {@code '\''}.
   *
   * @param word the word, e.g. a path
   * @return the word, quoted where a shell needs it
   */
  static String quote(Object word) {
    String s = String.valueOf(word);
    if (!s.isEmpty() && s.codePoints().allMatch(c -> Character.isLetterOrDigit(c) || "_@%+=:,./-".indexOf(c) >= 0)) {
      return s;
    }
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
