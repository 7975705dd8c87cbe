package io.github.diffusion4j.data;

/**
 * The tutorial's pixel normalisation: images in {@code [0, 1]} are trained in {@code [-1, 1]}
 * ({@code x * 2 - 1}) and shown again with {@code clamp((x + 1) / 2, 0, 1)}.
 */
public final class Normalization {
  /** {@code v / 255 * 2 - 1} for every byte value {@code v}: how 8-bit pixels are trained. */
  static final float[] BYTE_VALUES = byteValues();

  private Normalization() {}

  private static float[] byteValues() {
    float[] t = new float[256];
    for (int v = 0; v < t.length; v++) {
      t[v] = v / 255f;
    }
    return normalize(t);
  }

  /**
   * The trained values of 8-bit pixels: {@code dst[offset + j] = bytes[j] / 255 * 2 - 1}.
   *
   * @param bytes the pixels
   * @param dst where the values go
   * @param offset where the first goes
   */
  static void fromBytes(byte[] bytes, float[] dst, int offset) {
    for (int j = 0; j < bytes.length; j++) {
      dst[offset + j] = BYTE_VALUES[bytes[j] & 0xff];
    }
  }

  /**
   * {@code x * 2 - 1}, in place.
   *
   * @param values pixels in {@code [0, 1]}
   * @return the same array
   */
  public static float[] normalize(float[] values) {
    for (int i = 0; i < values.length; i++) {
      values[i] = values[i] * 2f - 1f;
    }
    return values;
  }

  /**
   * {@code clamp((x + 1) / 2, 0, 1)}, into a new array.
   *
   * @param values normalised values
   * @return pixels in {@code [0, 1]}
   */
  public static float[] denormalize(float[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      float v = (values[i] + 1f) * 0.5f;
      out[i] = v < 0f ? 0f : (v > 1f ? 1f : v);
    }
    return out;
  }
}
