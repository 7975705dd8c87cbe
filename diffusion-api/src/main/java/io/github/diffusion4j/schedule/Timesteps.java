package io.github.diffusion4j.schedule;

import java.util.Arrays;

/**
 * The immutable inference plan: a strictly descending list of timesteps in {@code [0, T)} that a sampler
 * walks. The timestep that follows {@code get(i)} is always {@code get(i + 1)} (or "none" past the end):
 * it is never recomputed from a stride, so a plan of any shape is honoured exactly.
 */
public final class Timesteps {
  private final int numTrainTimesteps;
  private final int[] steps;

  private Timesteps(int numTrainTimesteps, int[] steps) {
    this.numTrainTimesteps = numTrainTimesteps;
    this.steps = steps;
    validate();
  }

  private void validate() {
    if (numTrainTimesteps < 1) {
      throw new IllegalArgumentException(
          "num_train_timesteps must be positive, got " + numTrainTimesteps);
    }
    if (steps.length == 0) {
      throw new IllegalArgumentException("a timestep plan needs at least one step");
    }
    for (int i = 0; i < steps.length; i++) {
      int s = steps[i];
      if (s < 0 || s >= numTrainTimesteps) {
        throw new IllegalArgumentException(
            "timestep " + s + " (position " + i + ") is outside [0, " + numTrainTimesteps + ")");
      }
      if (i > 0 && s >= steps[i - 1]) {
        throw new IllegalArgumentException(
            "timesteps must be strictly descending without duplicates, but position "
                + i + " has " + s + " after " + steps[i - 1]);
      }
    }
  }

  /**
   * An explicit plan.
   *
   * @param numTrainTimesteps {@code T}
   * @param steps strictly descending timesteps in {@code [0, T)}
   * @return the plan
   * @throws IllegalArgumentException if the list is empty, out of range, not strictly descending
   */
  public static Timesteps of(int numTrainTimesteps, int... steps) {
    if (steps == null) {
      throw new IllegalArgumentException("a plan needs its timesteps, got null");
    }
    return new Timesteps(numTrainTimesteps, steps.clone());
  }

  /**
   * Every training timestep, {@code T - 1} down to 0 (Algorithm 2 of Ho et al.).
   *
   * @param numTrainTimesteps {@code T}
   * @return the plan
   */
  public static Timesteps full(int numTrainTimesteps) {
    int[] s = new int[numTrainTimesteps];
    for (int i = 0; i < s.length; i++) {
      s[i] = numTrainTimesteps - 1 - i;
    }
    return new Timesteps(numTrainTimesteps, s);
  }

  /**
   * A plan of {@code n} steps laid out by a spacing, as diffusers' {@code set_timesteps}.
   *
   * @param numTrainTimesteps {@code T}
   * @param n the number of inference steps, in {@code [1, T]}
   * @param spacing the spacing
   * @param stepsOffset added to every step of a {@code leading} plan (diffusers' {@code steps_offset});
   *     ignored by the other spacings, as in diffusers
   * @return the plan
   * @throws IllegalArgumentException if {@code n} is out of range or the offset pushes a step past
   *     {@code T - 1}
   */
  public static Timesteps create(int numTrainTimesteps, int n, TimestepSpacing spacing, int stepsOffset) {
    check(numTrainTimesteps, n, spacing, stepsOffset);
    return switch (spacing) {
      case LEADING -> leading(numTrainTimesteps, n, stepsOffset);
      case TRAILING -> trailing(numTrainTimesteps, n);
      case LINSPACE -> linspace(numTrainTimesteps, n);
    };
  }

  /**
   * Checks what {@link #create} would refuse, without building the plan (a configuration is checked when it is
   * loaded, where a plan of a billion steps would take gigabytes).
   *
   * @param numTrainTimesteps {@code T}
   * @param n the number of inference steps
   * @param spacing the spacing
   * @param stepsOffset the offset of a {@code leading} plan
   * @throws IllegalArgumentException if {@link #create} would throw it
   */
  public static void check(int numTrainTimesteps, int n, TimestepSpacing spacing, int stepsOffset) {
    checkCount(numTrainTimesteps, n);
    if (spacing == TimestepSpacing.LEADING) {
      checkLeading(numTrainTimesteps, n, stepsOffset);
    }
  }

  /** The first (largest) step of a leading plan must be below {@code T}; computed in 64 bits: a large offset must not wrap to a negative step. */
  private static void checkLeading(int numTrainTimesteps, int n, int stepsOffset) {
    if (stepsOffset < 0) {
      throw new IllegalArgumentException("steps_offset must be at least 0, got " + stepsOffset);
    }
    long first = (long) (n - 1) * (numTrainTimesteps / n) + stepsOffset;
    if (first >= numTrainTimesteps) {
      throw new IllegalArgumentException(
          "steps_offset " + stepsOffset + " with " + n + " leading steps puts timestep " + first
              + " outside [0, " + numTrainTimesteps + "); lower steps_offset or use trailing spacing");
    }
  }

  /**
   * {@code leading} spacing: {@code i * (T / N) + stepsOffset} for {@code i = N-1 .. 0}.
   *
   * @param numTrainTimesteps {@code T}
   * @param n {@code N}
   * @param stepsOffset the offset added to every step, at least 0
   * @return the plan
   */
  public static Timesteps leading(int numTrainTimesteps, int n, int stepsOffset) {
    checkCount(numTrainTimesteps, n);
    checkLeading(numTrainTimesteps, n, stepsOffset);
    int ratio = numTrainTimesteps / n;
    int[] s = new int[n];
    for (int i = 0; i < n; i++) {
      s[i] = (n - 1 - i) * ratio + stepsOffset;
    }
    return new Timesteps(numTrainTimesteps, s);
  }

  /**
   * {@code trailing} spacing: {@code round(T - i * T / N) - 1} for {@code i = 0 .. N-1}, rounding half to
   * even, in the double arithmetic of diffusers' {@code np.round(np.arange(T, 0, -T / N)) - 1}
   * ({@code DDPMScheduler.set_timesteps}, {@code DDIMScheduler.set_timesteps}). numpy's {@code arange} fills
   * element {@code i >= 2} as {@code T + i * d} with {@code d = (T - T / N) - T}, its first two elements' difference,
   * not {@code -T / N} itself: where {@code T - T / N} rounds, a value landing near a half rounds the other way
   * (T = 100, N = 24: 86 at position 3, where {@code T - 3 * T / N} gives 87), so this computes it that way.
   *
   * @param numTrainTimesteps {@code T}
   * @param n {@code N}
   * @return the plan
   */
  public static Timesteps trailing(int numTrainTimesteps, int n) {
    checkCount(numTrainTimesteps, n);
    double start = numTrainTimesteps;
    double second = start + -(start / n);
    double delta = second - start; // numpy's fill: the first two elements' difference
    int[] s = new int[n];
    for (int i = 0; i < n; i++) {
      double value = i == 0 ? start : i == 1 ? second : start + i * delta;
      s[i] = (int) Math.rint(value) - 1;
    }
    return new Timesteps(numTrainTimesteps, s);
  }

  /**
   * {@code linspace} spacing: {@code round(linspace(0, T - 1, N))} reversed, rounding half to even.
   *
   * @param numTrainTimesteps {@code T}
   * @param n {@code N}
   * @return the plan
   */
  public static Timesteps linspace(int numTrainTimesteps, int n) {
    checkCount(numTrainTimesteps, n);
    double[] l = BetaSchedule.linspace(0, numTrainTimesteps - 1, n);
    int[] s = new int[n];
    for (int i = 0; i < n; i++) {
      s[i] = (int) Math.rint(l[n - 1 - i]);
    }
    return new Timesteps(numTrainTimesteps, s);
  }

  private static void checkCount(int numTrainTimesteps, int n) {
    if (numTrainTimesteps < 1) {
      throw new IllegalArgumentException("the number of training timesteps must be at least 1, got " + numTrainTimesteps);
    }
    if (n < 1 || n > numTrainTimesteps) {
      throw new IllegalArgumentException(
          "the number of inference steps must be in [1, " + numTrainTimesteps
              + "] (num_train_timesteps), got " + n);
    }
  }

  /**
   * {@code T}.
   *
   * @return the number of training timesteps this plan is laid over
   */
  public int numTrainTimesteps() {
    return numTrainTimesteps;
  }

  /**
   * The number of steps.
   *
   * @return the length of the plan
   */
  public int size() {
    return steps.length;
  }

  /**
   * The timestep at a position.
   *
   * @param index a position in {@code [0, size())}
   * @return the timestep
   * @throws IllegalArgumentException if {@code index} is outside {@code [0, size())}
   */
  public int get(int index) {
    if (index < 0 || index >= steps.length) {
      throw new IllegalArgumentException("position " + index + " is outside the plan's [0, " + steps.length + ")");
    }
    return steps[index];
  }

  /**
   * The timestep after position {@code index}, or -1 after the last.
   *
   * @param index a position in {@code [0, size())}
   * @return the next (smaller) timestep, or -1
   * @throws IllegalArgumentException if {@code index} is outside {@code [0, size())}
   */
  public int next(int index) {
    get(index); // the position's check
    return index + 1 < steps.length ? steps[index + 1] : -1;
  }

  /**
   * The plan's last {@code n} positions, the same timesteps: where sampling that starts part of the way down
   * begins ({@link io.github.diffusion4j.sampling.ImageToImage}).
   *
   * @param n how many positions, in {@code [1, size()]}
   * @return the shorter plan (this plan when {@code n == size()})
   * @throws IllegalArgumentException if {@code n} is outside {@code [1, size()]}
   */
  public Timesteps last(int n) {
    if (n < 1 || n > steps.length) {
      throw new IllegalArgumentException("the last " + n + " positions of a plan of " + steps.length
          + ": the count must be in [1, " + steps.length + "]");
    }
    return n == steps.length ? this
        : new Timesteps(numTrainTimesteps, Arrays.copyOfRange(steps, steps.length - n, steps.length));
  }

  /**
   * A copy of the steps.
   *
   * @return the timesteps, descending
   */
  public int[] toArray() {
    return steps.clone();
  }

  /**
   * The reverse plan, ascending, for DDIM inversion.
   *
   * @return the steps in ascending order
   */
  public int[] ascending() {
    int[] a = new int[steps.length];
    for (int i = 0; i < a.length; i++) {
      a[i] = steps[steps.length - 1 - i];
    }
    return a;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Timesteps t
        && t.numTrainTimesteps == numTrainTimesteps
        && Arrays.equals(t.steps, steps);
  }

  @Override
  public int hashCode() {
    return 31 * numTrainTimesteps + Arrays.hashCode(steps);
  }

  @Override
  public String toString() {
    return "Timesteps" + Arrays.toString(steps) + " of T=" + numTrainTimesteps;
  }
}
