package io.github.diffusion4j.random;

/**
 * An immutable, splittable stream of portable random numbers, identified by a 64-bit key.
 *
 * <h2>Algorithm (the contract: changing it changes every seeded result)</h2>
 *
 * <ul>
 *   <li>{@code mix64(z)} is SplitMix64's finaliser (Stafford's variant 13).
 *   <li>{@link #seeded(long) seeded(s)} has key {@code mix64(s ^ 0x6A09E667F3BCC909)};
 *       {@link #split(long) split(k)} of key {@code K} has key
 *       {@code mix64(K ^ mix64(k * 0x9E3779B97F4A7C15 + 0xBB67AE8584CAA73B))}.
 *   <li>A stream's generator is SplitMix64 started at the key: the n-th 64-bit word is
 *       {@code mix64(key + n * 0x9E3779B97F4A7C15)}, n = 1, 2, ...
 *   <li>Standard normals depend on the stream's {@link NoiseVersion}. Version 1 (the default of
 *       {@link #seeded(long)}) uses Marsaglia and Tsang's ziggurat with 256 layers (R = 3.6541528853610088,
 *       V = 0.00492867323399) in Doornik's formulation: one word gives the layer (its low 8 bits) and a
 *       signed uniform (its high 53 bits); the wedge test and Marsaglia's tail method use
 *       {@link StrictMath#exp} and {@link StrictMath#log}. Floats are the double result rounded to
 *       nearest. Version 2 ({@link #withVersion withVersion(BOX_MULLER)}; sampling uses it with
 *       {@code sampling.noise_version: 2}) is a
 *       float32 Box-Muller transform, two normals per word, specified in docs/noise.md; it runs with SIMD
 *       instructions when the JDK's {@code jdk.incubator.vector} module is present, with the same bits.
 *   <li>{@link #generator()}, {@link #split(long)} and the keys do not depend on the version.
 * </ul>
 *
 * <p>Streams are meant to be split along the structure of a computation (per run, per step, per sample),
 * so that a result does not depend on how work is batched or resumed: {@code Noise.seeded(42).split(7)}
 * is the same stream wherever it is used.
 */
public final class Noise {
  static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
  private static final long SEED_SALT = 0x6A09E667F3BCC909L;
  private static final long SPLIT_SALT = 0xBB67AE8584CAA73BL;

  private final long key;
  private final NoiseVersion version;

  private Noise(long key, NoiseVersion version) {
    this.key = key;
    this.version = version;
  }

  /**
   * The root stream of a seed.
   *
   * @param seed any 64-bit seed
   * @return the stream
   */
  public static Noise seeded(long seed) {
    return new Noise(mix64(seed ^ SEED_SALT), NoiseVersion.ZIGGURAT);
  }

  /**
   * The stream with a given key (see {@link #key()}), e.g. to resume from a saved position.
   *
   * @param key a key returned by {@link #key()}
   * @return the stream
   */
  public static Noise ofKey(long key) {
    return new Noise(key, NoiseVersion.ZIGGURAT);
  }

  /**
   * This stream with another transform to normals: the same key, splits and words.
   *
   * @param v the version
   * @return the stream
   */
  public Noise withVersion(NoiseVersion v) {
    if (v == null) {
      throw new IllegalArgumentException("the noise version must not be null");
    }
    return v == version ? this : new Noise(key, v);
  }

  /**
   * How this stream's words become normals.
   *
   * @return the version
   */
  public NoiseVersion version() {
    return version;
  }

  /**
   * A child stream, statistically independent of this one and of children with other indices.
   *
   * @param index any 64-bit index (a step, a sample number, a purpose tag)
   * @return the child stream
   */
  public Noise split(long index) {
    return new Noise(splitKey(index), version);
  }

  private long splitKey(long index) {
    return mix64(key ^ mix64(index * GOLDEN_GAMMA + SPLIT_SALT));
  }

  /**
   * The key that identifies this stream.
   *
   * @return the key
   */
  public long key() {
    return key;
  }

  /**
   * A new generator at the start of this stream. Its {@link RandomGenerator#nextGaussian()} is version 1's
   * ziggurat whatever this stream's version.
   *
   * @return the generator
   */
  public RandomGenerator generator() {
    return new RandomGenerator(key);
  }

  /**
   * Fills {@code dst[offset, offset + length)} with the first {@code length} standard normals of this
   * stream.
   *
   * @param dst the destination
   * @param offset the first index written
   * @param length how many values
   */
  public void fillNormal(float[] dst, int offset, int length) {
    if (version == NoiseVersion.BOX_MULLER) {
      BoxMuller.FASTEST.fill(key, dst, offset, length, offset + length);
    } else {
      new RandomGenerator(key).fillGaussian(dst, offset, length);
    }
  }

  /**
   * The first {@code n} standard normals of this stream.
   *
   * @param n how many values
   * @return a new array
   */
  public float[] normals(int n) {
    float[] out = new float[n];
    fillNormal(out, 0, n);
    return out;
  }

  /**
   * Fills a batch item by item: item {@code i} (the range {@code [i * itemSize, (i + 1) * itemSize)})
   * gets the first {@code itemSize} normals of {@code split(firstItem + i)}.
   *
   * @param dst the destination, at least {@code items * itemSize} long
   * @param items the number of items
   * @param itemSize the number of values per item
   * @param firstItem the index of the first item, so a batch can be a slice of a larger one
   */
  public void fillPerItem(float[] dst, int items, int itemSize, long firstItem) {
    if (items < 0 || itemSize < 0 || (long) items * itemSize > dst.length) {
      throw new IndexOutOfBoundsException(
          items + " items of " + itemSize + " values do not fit an array of " + dst.length);
    }
    if (version == NoiseVersion.BOX_MULLER) {
      BoxMuller.Filler f = BoxMuller.FASTEST;
      int limit = items * itemSize;
      for (int i = 0; i < items; i++) {
        f.fill(splitKey(firstItem + i), dst, i * itemSize, itemSize, limit);
      }
      return;
    }
    RandomGenerator g = new RandomGenerator(0);
    for (int i = 0; i < items; i++) {
      g.reset(splitKey(firstItem + i));
      g.fillGaussian(dst, i * itemSize, itemSize);
    }
  }

  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Noise n && n.key == key && n.version == version;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(key) * 31 + version.number();
  }

  @Override
  public String toString() {
    return "Noise[key=" + Long.toHexString(key) + ", version=" + version.number() + "]";
  }
}
