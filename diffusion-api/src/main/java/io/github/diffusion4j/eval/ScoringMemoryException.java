package io.github.diffusion4j.eval;

/**
 * Scoring a number of samples in pixel space would take more Java heap than it may
 * ({@link FrechetDistance#checkHeap}): thrown before anything is sampled, with the largest count that fits.
 */
public final class ScoringMemoryException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** The largest count that fits, or 0 if none does. */
  private final long largestCount;

  /**
   * An exception with its one-line message.
   *
   * @param message what would not fit, and what to do
   * @param largestCount the largest count that fits, 0 if none
   */
  public ScoringMemoryException(String message, long largestCount) {
    super(message);
    this.largestCount = largestCount;
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
