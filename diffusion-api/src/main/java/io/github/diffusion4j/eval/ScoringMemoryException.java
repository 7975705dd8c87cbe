package io.github.diffusion4j.eval;

/**
 * Scoring a number of samples in pixel space would take more Java heap than it may
 * ({@link FrechetDistance#checkHeap}): thrown before anything is sampled, with the largest count that fits.
 */
public final class ScoringMemoryException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** The largest count that fits, or 0 if none does. */
  private final long largestCount;

  /** The heap scoring would take, in bytes, and the budget it was held to. */
  private final long neededBytes;

  private final long budgetBytes;

  /**
   * An exception with its one-line message and the sizes it compared.
   *
   * @param message what would not fit, and what to do
   * @param largestCount the largest count that fits, 0 if none
   * @param neededBytes the heap the scoring would take
   * @param budgetBytes the heap it may take
   */
  public ScoringMemoryException(String message, long largestCount, long neededBytes, long budgetBytes) {
    super(message);
    this.largestCount = largestCount;
    this.neededBytes = neededBytes;
    this.budgetBytes = budgetBytes;
  }

  /**
   * The heap the refused scoring would take.
   *
   * @return bytes
   */
  public long neededBytes() {
    return neededBytes;
  }

  /**
   * The heap the scoring was allowed ({@link FrechetDistance#checkHeap} allows half of the JVM's maximum).
   *
   * @return bytes
   */
  public long budgetBytes() {
    return budgetBytes;
  }

  /**
   * The largest count of samples (and as many real images) whose scoring fits.
   *
   * @return the count, or 0 if none fits
   */
  public long largestCount() {
    return largestCount;
  }
}
