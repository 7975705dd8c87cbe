package io.github.diffusion4j.nn;

/**
 * Room for one node's kernel to keep what its backward pass needs (statistics, masks, softmax weights)
 * during a training {@link Pass}. The model gives each node its own {@code Saved} per pass and hands the
 * same one to {@link Kernel#forward} and {@link Kernel#backward}. Not thread-safe (one pass runs on one
 * thread).
 */
public final class Saved {
  private Object value;

  /** An empty holder. */
  public Saved() {}

  /**
   * Keeps a value, replacing any earlier one.
   *
   * @param v the value
   */
  public void put(Object v) {
    value = v;
  }

  /**
   * The value kept.
   *
   * @param <T> its type
   * @return the value, or null if none was kept
   */
  @SuppressWarnings("unchecked")
  public <T> T get() {
    return (T) value;
  }
}
