package io.github.diffusion4j.testkit;

import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.tensor.Shape;

/** Deterministic test batches: noisy inputs, targets and timesteps from a seed. */
public final class Batches {
  private Batches() {}

  /**
   * A batch of standard-normal values.
   *
   * @param shape the shape
   * @param seed the seed
   * @return the values
   */
  public static float[] normal(Shape shape, long seed) {
    float[] v = new float[shape.size()];
    Noise.seeded(seed).fillPerItem(v, shape.batch(), shape.itemSize(), 0);
    return v;
  }

  /**
   * Timesteps uniform in {@code [0, T)}.
   *
   * @param n how many
   * @param numTrainTimesteps {@code T}
   * @param seed the seed
   * @return the timesteps
   */
  public static int[] timesteps(int n, int numTrainTimesteps, long seed) {
    RandomGenerator g = Noise.seeded(seed).split(99).generator();
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = g.nextInt(numTrainTimesteps);
    }
    return t;
  }

  /**
   * The largest absolute difference.
   *
   * @param a one array
   * @param b another of the same length
   * @return {@code max |a - b|}
   */
  public static double maxAbsDiff(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs((double) a[i] - b[i]));
    }
    return m;
  }
}
