package io.github.diffusion4j.io;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The safetensors element types this package can read, and how each becomes float32. */
enum DType {
  F32(4),
  F16(2),
  BF16(2),
  F64(8);

  /** Every dtype name the safetensors format defines (for telling unknown from unsupported). */
  static final Set<String> FORMAT_NAMES =
      Set.of(
          "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16",
          "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64");

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** Bytes per element. */
  int bytes() {
    return bytes;
  }

  /** The supported dtype of that name (exact, upper case as in the format). */
  static Optional<DType> of(String name) {
    return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
  }

  /** The supported names, for messages. */
  static List<String> supportedNames() {
    return Arrays.stream(values()).map(Enum::name).toList();
  }

  /**
   * Decodes little-endian elements of this type into floats.
   *
   * @param src the bytes, little-endian, positioned at the first element
   * @param dst the destination
   * @param offset where the first value goes
   * @param count how many elements
   */
  void decode(ByteBuffer src, float[] dst, int offset, int count) {
    switch (this) {
      case F32 -> src.asFloatBuffer().get(dst, offset, count);
      case F64 -> {
        for (int i = 0; i < count; i++) {
          dst[offset + i] = (float) src.getDouble();
        }
        return;
      }
      case F16 -> {
        for (int i = 0; i < count; i++) {
          dst[offset + i] = halfToFloat(src.getShort());
        }
        return;
      }
      case BF16 -> {
        for (int i = 0; i < count; i++) {
          dst[offset + i] = Float.intBitsToFloat((src.getShort() & 0xffff) << 16);
        }
        return;
      }
      default -> throw new AssertionError(this);
    }
    src.position(src.position() + count * bytes);
  }

  /**
   * IEEE 754 binary16 to binary32, exactly (every half value is a float).
   *
   * @param h the 16 bits
   * @return the value
   */
  static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    float v;
    if (exp == 0) {
      v = mant * 0x1p-24f; // zero or subnormal: mant * 2^-14 / 2^10
    } else if (exp == 0x1f) {
      v = mant == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
    } else {
      v = Float.intBitsToFloat(((exp - 15 + 127) << 23) | (mant << 13));
    }
    return (bits & 0x8000) != 0 ? -v : v;
  }
}
