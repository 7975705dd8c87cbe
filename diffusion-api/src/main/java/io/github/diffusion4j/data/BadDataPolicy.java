package io.github.diffusion4j.data;

/**
 * What happens to a data set that holds images which cannot be used (unreadable, truncated, not an image,
 * empty, smaller than the target): {@code data.bad_data}.
 */
public enum BadDataPolicy {
  /** Refuse to train, naming the first bad file and how many there are. */
  STOP("stop"),
  /** Leave the bad images out, count them and name them in the run's report. */
  SKIP("skip");

  private final String configName;

  BadDataPolicy(String configName) {
    this.configName = configName;
  }

  /**
   * The configuration name.
   *
   * @return {@code "stop"} or {@code "skip"}
   */
  public String configName() {
    return configName;
  }
}
