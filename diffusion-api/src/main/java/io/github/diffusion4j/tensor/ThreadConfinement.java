package io.github.diffusion4j.tensor;

/**
 * What {@link TensorFactory#confineToCallingThread()} returns: while it is open, the backend computes the
 * work of the thread that opened it on that thread alone. Close it on that thread; closing twice does nothing.
 */
@FunctionalInterface
public interface ThreadConfinement extends AutoCloseable {

  /** A confinement that changes nothing: what a backend without threads of its own returns. */
  ThreadConfinement NONE = () -> {};

  /**
   * A confinement whose first {@link #close()} runs {@code release} and whose later ones do nothing.
   *
   * @param release gives the thread back (confined to the thread that closes it, as the confinement is)
   * @return the confinement
   */
  static ThreadConfinement closingOnce(Runnable release) {
    boolean[] closed = new boolean[1];
    return () -> {
      if (!closed[0]) {
        closed[0] = true;
        release.run();
      }
    };
  }

  /** Gives the calling thread back the backend's threads. */
  @Override
  void close();
}
