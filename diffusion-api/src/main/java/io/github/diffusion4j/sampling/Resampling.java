package io.github.diffusion4j.sampling;

/**
 * RePaint's resampling (Lugmayr et al. 2022, section 4.2 and Algorithm 1's inner loop): during inpainting, after some
 * reverse steps the sample is noised forward again by {@link #jumpLength()} plan positions and those positions are
 * walked again, {@link #resamples()} times in all, so the regenerated region has more steps to agree with the kept
 * one. The walk is diffusers' ({@code schedulers/scheduling_repaint.py}, {@code RePaintScheduler.set_timesteps}, read
 * for this port and written anew): counting plan positions from the least noisy ({@code u = 0} is the plan's last), a
 * jump happens after the step at every {@code u} in {@code 0, j, 2j, ...} below {@code steps - j}, {@code r - 1}
 * times each. {@code Resampling(1, 1)} ({@link #NONE}) is the plain walk, and so is any {@code jumpLength} at or above
 * the plan's steps (no position is far enough from the start to jump back from; {@code diffusion sample --resample}
 * refuses it). The walk makes {@code steps + (r - 1) * j * ceil(steps / j - 1)} reverse steps ({@link #modelCalls}):
 * 410 for {@code (10, 10)} over 50 steps.
 *
 * <p>Where diffusers' {@code undo_step} noises one training timestep at a time, the walk here noises the
 * {@code jumpLength} positions in one draw of the same law, {@code x_hi = sqrt(abar_hi / abar_lo) x_lo +
 * sqrt(1 - abar_hi / abar_lo) z} (Ho et al. eq. 4 between two timesteps; {@code abar_lo = 1} after the last step).
 *
 * @param jumpLength how many plan positions a jump goes back, at least 1 (RePaint's {@code j}, diffusers'
 *     {@code jump_length}; the paper uses 10)
 * @param resamples how many times each jumping position is walked, at least 1 (RePaint's {@code r}, diffusers'
 *     {@code jump_n_sample}; the paper uses 10; 1 is no resampling)
 */
public record Resampling(int jumpLength, int resamples) {
  /** No resampling: the plan walked once. */
  public static final Resampling NONE = new Resampling(1, 1);

  /**
   * Checks the values.
   *
   * @param jumpLength at least 1
   * @param resamples at least 1
   */
  public Resampling {
    if (jumpLength < 1) {
      throw new IllegalArgumentException("jumpLength must be at least 1 (plan positions a jump goes back), got "
          + jumpLength);
    }
    if (resamples < 1) {
      throw new IllegalArgumentException("resamples must be at least 1 (1: no resampling), got " + resamples);
    }
  }

  /**
   * Whether this walks the plan once, as {@link #NONE} does: one walk of each position ({@code resamples} 1) makes no
   * jump, whatever the jump length.
   *
   * @return true where {@code resamples} is 1
   */
  public boolean isNone() {
    return resamples == 1;
  }

  /**
   * The walk over a plan of {@code steps} positions: each value {@code p >= 0} is the reverse step at plan position
   * {@code p}, each value {@code -1 - q} a jump that noises the sample forward to level {@code q} (the noise of plan
   * position {@code q}, from which position {@code q} is walked next).
   *
   * @param steps the plan's size, at least 1
   * @return the operations in order
   * @throws IllegalArgumentException if {@code steps} is below 1, the jump length is not below {@code steps} where
   *     {@code resamples} is above 1 (the walk would never jump: nothing resampled), or the walk has more operations
   *     than an array holds or than half of the heap takes ({@link io.github.diffusion4j.tensor.HeapBudget}; its
   *     length is counted first: a large {@code resamples} is refused, not run out of memory on)
   */
  public int[] route(int steps) {
    long length = operations(steps);
    io.github.diffusion4j.tensor.HeapBudget.requireArray("jumpLength " + jumpLength + " and resamples " + resamples
        + " over " + steps + " steps walk " + length + " operations (" + modelCalls(steps) + " model calls) in a route",
        length, Integer.BYTES, "lower the resamples or the jump length");
    int[] ops = new int[(int) length];
    int[] jumps = new int[steps];
    for (int u = 0; u < steps - jumpLength; u += jumpLength) {
      jumps[u] = resamples - 1;
    }
    int n = 0;
    int u = steps;
    while (u >= 1) {
      u--;
      ops[n++] = steps - 1 - u; // the step at u: from level steps-1-u to steps-u
      if (jumps[u] > 0) {
        jumps[u]--;
        u += jumpLength;
        ops[n++] = -1 - (steps - u); // back to the level of position steps-u, walked next
      }
    }
    return ops;
  }

  /** The most operations a route holds (an int[]'s length, with the JVM's header room). */
  static final long MAX_OPERATIONS = Integer.MAX_VALUE - 8;

  /**
   * The length of {@link #route}, counted without building it: each of the {@code (steps - 1) / jumpLength} jumping
   * positions jumps {@code resamples - 1} times, and each jump walks {@code jumpLength} positions again.
   */
  private long operations(int steps) {
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be at least 1, got " + steps);
    }
    if (!isNone() && jumpLength >= steps) { // the walk jumps only from positions more than jumpLength from its start
      throw new IllegalArgumentException("the jump length " + jumpLength + " must be below the plan's " + steps
          + " steps (a walk of " + steps + " steps never jumps back " + jumpLength + ", so nothing would be resampled); "
          + (steps == 1 ? "resampling needs a plan of at least 2 steps" : "give one from 1 to " + (steps - 1)
              + ", or more steps"));
    }
    long jumps = (long) ((steps - 1) / jumpLength) * (resamples - 1);
    long ops = steps + jumps * ((long) jumpLength + 1);
    if (ops > MAX_OPERATIONS) {
      throw new IllegalArgumentException("jumpLength " + jumpLength + " and resamples " + resamples + " over " + steps
          + " steps walk " + ops + " operations (" + (steps + jumps * jumpLength) + " model calls), more than "
          + MAX_OPERATIONS + "; lower the resamples or the jump length");
    }
    return ops;
  }

  /**
   * The number of reverse steps (model calls) of a walk over {@code steps} positions.
   *
   * @param steps the plan's size, at least 1
   * @return the steps in {@link #route(int)}, counted without building it
   * @throws IllegalArgumentException as {@link #route(int)}
   */
  public int modelCalls(int steps) {
    long ops = operations(steps);
    return (int) (ops - (long) ((steps - 1) / jumpLength) * (resamples - 1));
  }
}
