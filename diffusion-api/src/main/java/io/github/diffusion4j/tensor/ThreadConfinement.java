package io.github.diffusion4j.tensor;

/**
 * What {@link TensorFactory#confineToCallingThread()} returns: while it is open, the backend computes the
 * work of the thread that opened it on that thread alone. Close it on that thread; closing twice does nothing.
 */
@FunctionalInterface
public interface ThreadConfinement extends AutoCloseable {

  /** A confinement that changes nothing: what a backend without threads of its own returns. */
  ThreadConfinement NONE = () -> {};

  /** Gives the calling thread back the backend's threads. */
  @Override
  void close();
}
