package io.github.diffusion4j.cli;

/** Whether this process talks to a person at a terminal, for the CLI's and its optional modules' progress display. */
public final class Consoles {
  private Consoles() {}

  /**
   * Whether standard input and output are a terminal: {@link System#console()} is there and, from Java 22 on, where
   * it is there whatever the redirections, its {@code isTerminal()} says so (without it, bars went into
   * {@code > log} files on JDK 22 and later where {@code /proc} cannot tell).
   *
   * @return whether the console is interactive
   */
  public static boolean isInteractive() {
    java.io.Console c = System.console();
    if (c == null) {
      return false;
    }
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return true; // before Java 22 a console is there only for a terminal
    }
  }
}
