package io.github.diffusion4j.random;

/**
 * The stateful reader of one {@link Noise} stream: SplitMix64 words, uniforms, bounded integers and
 * ziggurat normals, all bit-reproducible on every JVM (see {@link Noise} for the algorithm).
 *
 * <p>Not thread-safe: use one generator per thread, each from its own split of a {@link Noise}.
 */
public final class RandomGenerator {
  // Marsaglia & Tsang (2000), 256 layers.
  private static final int LAYERS = 256;
  private static final double R = 3.6541528853610088;
  private static final double V = 0.00492867323399;
  private static final double[] X = new double[LAYERS + 1];
  private static final double[] RATIO = new double[LAYERS];
  /** {@code X[i] * 2^-52}: the output scale of the integer fast path (exact: a power-of-two scaling). */
  private static final double[] W = new double[LAYERS];
  /** {@code ceil(RATIO[i] * 2^52)}: {@code |j| < K[i]} exactly when {@code |j * 2^-52| < RATIO[i]}. */
  private static final long[] K = new long[LAYERS];

  static {
    double f = StrictMath.exp(-0.5 * R * R);
    X[0] = V / f;
    X[1] = R;
    for (int i = 2; i < LAYERS; i++) {
      X[i] = StrictMath.sqrt(-2.0 * StrictMath.log(V / X[i - 1] + f));
      f = StrictMath.exp(-0.5 * X[i] * X[i]);
    }
    X[LAYERS] = 0.0;
    for (int i = 0; i < LAYERS; i++) {
      RATIO[i] = X[i + 1] / X[i];
      W[i] = X[i] * 0x1.0p-52;
      K[i] = (long) Math.ceil(RATIO[i] * 0x1.0p52);
    }
  }

  private long state;

  RandomGenerator(long key) {
    this.state = key;
  }

  /** Restarts this generator at the start of the stream with the given key. */
  void reset(long key) {
    this.state = key;
  }

  /**
   * The next 64 random bits.
   *
   * @return a uniformly distributed {@code long}
   */
  public long nextLong() {
    return Noise.mix64(state += Noise.GOLDEN_GAMMA);
  }

  /**
   * A uniform double in {@code [0, 1)} with 53 random bits.
   *
   * @return the value
   */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /**
   * A uniform float in {@code [0, 1)} with 24 random bits.
   *
   * @return the value
   */
  public float nextFloat() {
    return (nextLong() >>> 40) * 0x1.0p-24f;
  }

  /**
   * A uniform integer in {@code [0, bound)}, without modulo bias.
   *
   * @param bound the exclusive upper bound, positive
   * @return the value
   */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive, got " + bound);
    }
    long u = nextLong() >>> 1;
    long r = u % bound;
    while (u - r + (bound - 1) < 0) {
      u = nextLong() >>> 1;
      r = u % bound;
    }
    return (int) r;
  }

  /**
   * A standard normal deviate (ziggurat).
   *
   * @return the value
   */
  public double nextGaussian() {
    for (;;) {
      long bits = nextLong();
      int i = (int) (bits & 0xFF);
      // j * 2^-52 is the signed uniform u = 2 ((bits >>> 11) 2^-53) - 1 in [-1, 1), exactly; the fast path
      // compares and scales in integers, giving bit-for-bit the same values as u < RATIO[i], u * X[i]
      long j = (bits >>> 11) - (1L << 52);
      if (Math.abs(j) < K[i]) {
        return j * W[i];
      }
      double v = slowStep(i, j);
      if (!Double.isNaN(v)) {
        return v;
      }
    }
  }

  /** Finishes a draw that missed the fast path; continues drawing until one is accepted. */
  private double slowGaussian(int layer, long j) {
    double v = slowStep(layer, j);
    return Double.isNaN(v) ? nextGaussian() : v;
  }

  /** The tail and wedge tests for a draw outside the fast path: the value, or NaN if rejected. */
  private double slowStep(int i, long j) {
    double u = j * 0x1.0p-52;
    if (i == 0) {
      return tail(u < 0);
    }
    double x = u * X[i];
    double x2 = x * x;
    double f0 = StrictMath.exp(-0.5 * (X[i] * X[i] - x2));
    double f1 = StrictMath.exp(-0.5 * (X[i + 1] * X[i + 1] - x2));
    return f1 + nextDouble() * (f0 - f1) < 1.0 ? x : Double.NaN;
  }

  private double tail(boolean negative) {
    double x;
    double y;
    do {
      x = -StrictMath.log(1.0 - nextDouble()) / R;
      y = -StrictMath.log(1.0 - nextDouble());
    } while (y + y < x * x);
    return negative ? -(R + x) : R + x;
  }

  /**
   * Fills a range with standard normals.
   *
   * @param dst the destination
   * @param offset the first index written
   * @param length how many values
   */
  public void fillGaussian(float[] dst, int offset, int length) {
    // The fast path of nextGaussian() inlined with the SplitMix64 state in a local, so the dependency chain
    // between draws runs in registers; the rare slow path (about 1% of draws) goes through the fields.
    long st = state;
    for (int i = offset, end = offset + length; i < end; i++) {
      long z = st += Noise.GOLDEN_GAMMA;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      long bits = z ^ (z >>> 31);
      int layer = (int) (bits & 0xFF);
      long j = (bits >>> 11) - (1L << 52);
      if (Math.abs(j) < K[layer]) {
        dst[i] = (float) (j * W[layer]);
      } else {
        state = st;
        dst[i] = (float) slowGaussian(layer, j);
        st = state;
      }
    }
    state = st;
  }

  /**
   * Shuffles {@code a} in place (Fisher-Yates, from the last index down).
   *
   * @param a the array
   */
  public void shuffle(int[] a) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
