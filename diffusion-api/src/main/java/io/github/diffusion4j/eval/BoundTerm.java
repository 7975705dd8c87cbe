package io.github.diffusion4j.eval;

/**
 * One term {@code L_t} of the variational bound (Ho et al. eq. 5), averaged over the images that evaluated
 * it: {@code t = 0} is the decoder's negative log-likelihood {@code -log p(x_0 | x_1)}, {@code t >= 1} the
 * KL divergence {@code KL(q(x_t | x_{t+1}, x_0) || p(x_t | x_{t+1}))} in the paper's numbering, computed at
 * the SDK's (zero-based) timestep {@code t}.
 *
 * @param t the index of the term, in {@code [0, T)}; also the SDK timestep the model was called at
 * @param bpd the mean of the term over the images that evaluated it, in bits per dimension; NaN if none
 * @param count how many images evaluated it (all of them for the full bound; fewer for an estimate)
 * @param x0Mse the mean squared error of the predicted {@code x_0} against the data at this timestep
 */
public record BoundTerm(int t, double bpd, long count, double x0Mse) {

  /**
   * What the term is.
   *
   * @return {@code "decoder"} for {@code t = 0}, {@code "kl"} otherwise
   */
  public String kind() {
    return t == 0 ? "decoder" : "kl";
  }

  /**
   * The term as one line of JSON, e.g. {@code {"term": "kl", "t": 3, "bpd": 0.0123, "count": 1000,
   * "x0_mse": 0.001}}; a value that is not finite is written as {@code null}.
   *
   * @return the line
   */
  public String toJson() {
    return "{\"term\": \"" + kind() + "\", \"t\": " + t + ", \"bpd\": " + BoundReport.json(bpd) + ", \"count\": "
        + count + ", \"x0_mse\": " + BoundReport.json(x0Mse) + "}";
  }
}
