package io.github.diffusion4j.data;

/** Sees a long data preparation (decoding a folder into a cache) advance. Called from one thread. */
@FunctionalInterface
public interface DataProgress {
  /** Ignores progress. */
  DataProgress NONE = (what, done, total) -> {};

  /**
   * Some more images were prepared.
   *
   * @param what what is being prepared, e.g. the source folder
   * @param done images prepared so far
   * @param total images to prepare
   */
  void onProgress(String what, int done, int total);
}
