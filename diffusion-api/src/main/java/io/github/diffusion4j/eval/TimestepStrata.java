package io.github.diffusion4j.eval;

import io.github.diffusion4j.random.RandomGenerator;

/**
 * Which timesteps the {@link VariationalBound} evaluates for an image: the timesteps {@code [0, T)} cut into
 * {@code K} consecutive strata, one timestep drawn uniformly from each, its term weighted by the stratum's
 * size. The weighted sum is an unbiased estimate of the sum of all {@code T} terms (each stratum's sum is
 * its size times the expectation of a uniform draw from it), whatever the terms are.
 *
 * <p>Stratum 0 is the decoder term alone ({@code {0}}, always evaluated exactly); the others cover
 * {@code [1, T)} with sizes that grow geometrically (boundaries near {@code T^(j / (K - 1))}), because
 * the terms of a trained model fall by orders of magnitude from the first steps to the last: small
 * strata where the terms are large and change fast keep the estimate's variance low. With {@code K = T}
 * every stratum is one timestep and the "estimate" is the full sum.
 *
 * <p>Immutable; the boundaries use {@link StrictMath}, so the plan is the same on every JVM.
 */
public final class TimestepStrata {
  private final int numTrainTimesteps;
  /** {@code bounds[j]} is the first timestep of stratum {@code j}; {@code bounds[K] = T}. */
  private final int[] bounds;

  private TimestepStrata(int numTrainTimesteps, int[] bounds) {
    this.numTrainTimesteps = numTrainTimesteps;
    this.bounds = bounds;
  }

  /**
   * Every timestep its own stratum: the full bound.
   *
   * @param numTrainTimesteps {@code T}, at least 2
   * @return {@code T} strata of one timestep each
   */
  public static TimestepStrata every(int numTrainTimesteps) {
    return of(numTrainTimesteps, numTrainTimesteps);
  }

  /**
   * {@code K} strata over {@code [0, T)}: {@code {0}}, then {@code K - 1} geometrically growing strata over
   * {@code [1, T)}.
   *
   * @param numTrainTimesteps {@code T}, at least 2
   * @param strata {@code K}, in {@code [2, T]}
   * @return the strata
   * @throws IllegalArgumentException if a value is out of range
   */
  public static TimestepStrata of(int numTrainTimesteps, int strata) {
    int t = numTrainTimesteps;
    if (t < 2) {
      throw new IllegalArgumentException("the bound needs at least 2 timesteps, got T = " + t);
    }
    if (strata < 2 || strata > t) {
      throw new IllegalArgumentException("timesteps per image must be in [2, " + t + "] (the decoder term and at "
          + "least one of the " + (t - 1) + " KL terms; " + t + " = all of them), got " + strata);
    }
    int m = strata - 1;
    int[] b = new int[strata + 1];
    b[0] = 0;
    b[1] = 1;
    for (int j = 1; j < m; j++) {
      long g = Math.round(StrictMath.pow(t, (double) j / m));
      // strictly increasing, and leaving one timestep for each stratum still to come
      b[j + 1] = (int) Math.min(Math.max(g, b[j] + 1L), t - (m - j));
    }
    b[strata] = t;
    return new TimestepStrata(t, b);
  }

  /**
   * {@code T}.
   *
   * @return the number of training timesteps covered
   */
  public int numTrainTimesteps() {
    return numTrainTimesteps;
  }

  /**
   * {@code K}, the number of strata: the model evaluations per image.
   *
   * @return the number of strata
   */
  public int size() {
    return bounds.length - 1;
  }

  /**
   * Whether every stratum is one timestep, so the weighted sum is the full bound rather than an estimate.
   *
   * @return {@code K == T}
   */
  public boolean isComplete() {
    return size() == numTrainTimesteps;
  }

  /**
   * The first timestep of a stratum.
   *
   * @param stratum {@code j} in {@code [0, K)}
   * @return its smallest timestep
   */
  public int first(int stratum) {
    return bounds[stratum];
  }

  /**
   * The number of timesteps in a stratum: the weight of its term, {@code 1 / p(t)} for its uniform draw.
   *
   * @param stratum {@code j} in {@code [0, K)}
   * @return its size, at least 1
   */
  public int weight(int stratum) {
    return bounds[stratum + 1] - bounds[stratum];
  }

  /**
   * Draws one timestep from each stratum: {@code first(j) + g.nextInt(weight(j))} for {@code j = 0 .. K-1},
   * in that order (one draw per stratum, also for strata of one timestep).
   *
   * @param g the generator (one per image, so the draw does not depend on batching)
   * @param out where timestep {@code j} goes, at least {@code K} long
   */
  public void draw(RandomGenerator g, int[] out) {
    for (int j = 0; j < size(); j++) {
      out[j] = bounds[j] + g.nextInt(weight(j));
    }
  }

  @Override
  public String toString() {
    return "TimestepStrata" + java.util.Arrays.toString(bounds);
  }
}
