package io.github.diffusion4j.cli;

/**
 * Bad input on the command line: printed as one line, exit code 2. The message names the argument or file
 * at fault, what was wrong and what is allowed.
 */
public final class BadInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * An error for bad input.
   *
   * @param message one line: the argument or file, what was wrong, what is allowed
   */
  public BadInputException(String message) {
    super(message);
  }

  /**
   * An error for bad input that another exception found ({@code --verbose} shows it).
   *
   * @param message one line: the argument or file, what was wrong, what is allowed
   * @param cause what found it
   */
  public BadInputException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * The error of a {@code --count} whose quality scoring would not fit the heap (eval, spark eval), with how to
   * give {@code ./diffusion} more.
   *
   * @param count the count given
   * @param e the api's refusal, naming the largest count that fits
   * @return the error
   */
  public static BadInputException ofScoringCount(int count, io.github.diffusion4j.eval.ScoringMemoryException e) {
    return new BadInputException("--count " + count + ": " + e.getMessage() + "; DIFFUSION_JAVA_OPTS=-Xmx"
        + heapGigabytes(e) + "g for ./diffusion");
  }

  /**
   * The {@code -Xmx} in GiB under which the refused scoring fits: the scoring may take the share of the maximum
   * heap that {@code e}'s budget was of this JVM's (half, unless a budget was given), plus 1 GiB of slack.
   */
  static long heapGigabytes(io.github.diffusion4j.eval.ScoringMemoryException e) {
    return heapGigabytes(e.neededBytes(), e.budgetBytes());
  }

  /**
   * The {@code -Xmx} in GiB under which work of {@code neededBytes} fits, where it may take the share of the maximum
   * heap that {@code budgetBytes} is of this JVM's (half, where that share is not one), plus 1 GiB of slack.
   *
   * @param neededBytes the heap the refused work would take
   * @param budgetBytes the heap it was allowed in this JVM
   * @return GiB
   */
  static long heapGigabytes(long neededBytes, long budgetBytes) {
    double share = (double) budgetBytes / Runtime.getRuntime().maxMemory();
    if (!(share > 0) || share > 1) {
      share = 0.5;
    }
    return (long) Math.ceil(neededBytes / share / (1L << 30)) + 1;
  }
}
