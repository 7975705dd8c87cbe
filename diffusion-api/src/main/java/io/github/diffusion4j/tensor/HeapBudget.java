package io.github.diffusion4j.tensor;

/**
 * Refuses, before it is allocated, a Java array that would take more than half of the heap the JVM may grow to: the
 * rest of a call (the model, its batches, the caller's own data) needs the other half, so such an array would end in an
 * {@link OutOfMemoryError} after minutes of work, or at once with nothing said of which count was too large. Half is
 * the share {@code eval}'s statistics may take too ({@code FrechetDistance}).
 */
public final class HeapBudget {
  private HeapBudget() {}

  /**
   * Refuses an array of {@code values} elements of {@code bytesPerValue} bytes that would take more than half of
   * {@link Runtime#maxMemory()}.
   *
   * @param what what asks for the array, with its size, e.g. {@code "count: 20000000 latents of [3, 5, 5] are
   *     1500000000 values"}; starts the message, followed by the megabytes in parentheses
   * @param values the array's length
   * @param bytesPerValue 4 for a {@code float[]} or {@code int[]}
   * @param remedy what to do instead, ends the message
   * @throws IllegalArgumentException in one line: what, the values and megabytes, the heap, the remedy
   */
  public static void requireArray(String what, long values, int bytesPerValue, String remedy) {
    requireArray(what, values, bytesPerValue, remedy, Runtime.getRuntime().maxMemory());
  }

  /** {@link #requireArray(String, long, int, String)} against a given heap of {@code heapBytes}. */
  static void requireArray(String what, long values, int bytesPerValue, String remedy, long heapBytes) {
    long bytes = values > Long.MAX_VALUE / bytesPerValue ? Long.MAX_VALUE : values * bytesPerValue;
    if (bytes > heapBytes / 2) {
      throw new IllegalArgumentException(what + " (" + (bytes >> 20) + " MB), more than half of this JVM's heap of at "
          + "most " + (heapBytes >> 20) + " MB; " + remedy);
    }
  }
}
