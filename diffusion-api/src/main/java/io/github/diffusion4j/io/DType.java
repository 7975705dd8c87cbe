package io.github.diffusion4j.io;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The element types of tensor files, shared by the safetensors reader (which names them as the format does:
 * {@code F32}, {@code I64}) and the {@code torch.save} reader (whose storages map to them): their sizes, torch's
 * names for them ({@code float32}, {@code int64}), how each becomes float32, which a model parameter may have, and
 * the checks both readers make before reading values. Every dtype of the safetensors format is here.
 */
enum DType {
  F32(32, "float32"),
  F16(16, "float16"),
  BF16(16, "bfloat16"),
  F64(64, "float64"),
  I64(64, "int64"),
  I32(32, "int32"),
  I16(16, "int16"),
  I8(8, "int8"),
  U64(64, "uint64"),
  U32(32, "uint32"),
  U16(16, "uint16"),
  U8(8, "uint8"),
  BOOL(8, "bool"),
  F8_E5M2(8, "float8_e5m2"),
  F8_E4M3(8, "float8_e4m3fn"),
  F8_E8M0(8, "float8_e8m0fnu"),
  F6_E2M3(6, "float6_e2m3fn"),
  F6_E3M2(6, "float6_e3m2fn"),
  F4(4, "float4_e2m1fn"),
  C64(64, "complex64");

  /** The dtypes a model parameter may have, in torch's names, for messages. */
  static final String PARAMETER_TYPES = "float32, float64, float16 or bfloat16";

  private final int bits;
  private final String torchName;

  DType(int bits, String torchName) {
    this.bits = bits;
    this.torchName = torchName;
  }

  /** Bits per element (4 and 6 for the packed sub-byte types). */
  int bits() {
    return bits;
  }

  /** Bytes per element; only for the types whose values are read ({@link #readable}), all whole bytes. */
  int bytes() {
    return bits / 8;
  }

  /** Torch's name of the type ({@code float32}, {@code int64}, {@code bool}), as {@code str(tensor.dtype)} less "torch.". */
  String torchName() {
    return torchName;
  }

  /** Whether a model parameter may have this type: float32, float64, float16 and bfloat16. */
  boolean isParameterType() {
    return this == F32 || this == F64 || this == F16 || this == BF16;
  }

  /**
   * Whether the values are read as float32: every type but the packed sub-byte floats (F4, F6), whose packing the
   * format leaves to the writer, and complex64, which has no float32 value.
   */
  boolean readable() {
    return bits % 8 == 0 && this != C64;
  }

  /** The dtype of that safetensors name (exact, upper case as in the format). */
  static Optional<DType> of(String name) {
    return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
  }

  /** The safetensors names, for messages. */
  static List<String> formatNames() {
    return Arrays.stream(values()).map(Enum::name).toList();
  }

  /**
   * The refusal of a tensor that is not floating-point where a model parameter is expected.
   *
   * @param file the file
   * @param tensor the tensor's name, and where it is (e.g. {@code " of the state dict at 'ema'"}) if not obvious
   * @return the exception: {@code tensor 'conv_in.weight' is int64; a model parameter must be float32, ...}
   */
  CheckpointException notAParameter(Object file, String tensor) {
    return CheckpointException.of(file, "tensor " + tensor + " is " + torchName
        + "; a model parameter must be " + PARAMETER_TYPES);
  }

  /**
   * Refuses an empty tensor (a zero dimension) where values are to be read: a {@code StateDict} cannot hold it.
   *
   * @param file the file
   * @param tensor the tensor's name
   * @param shape its shape
   * @throws CheckpointException naming the file, tensor and shape, if a dimension is 0
   */
  static void requireValues(Object file, String tensor, int[] shape) {
    if (Arrays.stream(shape).anyMatch(d -> d == 0)) {
      throw CheckpointException.of(file, "tensor '" + tensor + "' has shape " + Arrays.toString(shape)
          + ": an empty tensor (a zero dimension) has no values to read; a tensor read needs every dimension at least 1");
    }
  }

  /**
   * Refuses a tensor whose values as float32 would not fit in this JVM's heap, before they are allocated.
   *
   * @param file the file
   * @param tensor the tensor's name
   * @param elements its element count
   * @throws CheckpointException naming the file, tensor, size and heap
   */
  static void requireHeapFor(Object file, String tensor, long elements) {
    requireHeap(file, "tensor '" + tensor + "' has " + elements + " elements", elements);
  }

  /**
   * Refuses tensors whose values as float32 would not fit in this JVM's heap together, before any is allocated (each
   * may pass {@link #requireHeapFor}: a byte of uint8 or bool is four bytes of float32).
   *
   * @param file the file
   * @param tensors how many tensors are read
   * @param elements their elements together
   * @throws CheckpointException naming the file, the elements and the heap
   */
  static void requireHeapForAll(Object file, int tensors, long elements) {
    requireHeap(file, "its " + tensors + " tensors have " + elements + " elements together", elements);
  }

  private static void requireHeap(Object file, String what, long elements) {
    long heap = Runtime.getRuntime().maxMemory();
    if (elements > heap / 4) {
      throw CheckpointException.of(file, what + " (" + (elements >> 18) + " MB as float32), more than this JVM's "
          + "heap of at most " + (heap >> 20) + " MB holds; give it a larger heap (-Xmx)");
    }
  }

  /**
   * Decodes little-endian elements of this type into floats: a float type exactly or rounded to the nearest float32,
   * an integer to the nearest float32, bool to 0 or 1.
   *
   * @param src the bytes, little-endian, positioned at the first element
   * @param dst the destination
   * @param offset where the first value goes
   * @param count how many elements
   * @throws IllegalStateException for a type that is not {@link #readable}
   */
  void decode(ByteBuffer src, float[] dst, int offset, int count) {
    if (this == F32) {
      src.asFloatBuffer().get(dst, offset, count);
      src.position(src.position() + 4 * count);
      return;
    }
    for (int i = offset; i < offset + count; i++) {
      dst[i] = switch (this) {
        case F64 -> (float) src.getDouble();
        case F16 -> halfToFloat(src.getShort());
        case BF16 -> Float.intBitsToFloat((src.getShort() & 0xffff) << 16);
        case I64 -> src.getLong();
        case I32 -> src.getInt();
        case I16 -> src.getShort();
        case I8 -> src.get();
        case U64 -> unsignedToFloat(src.getLong());
        case U32 -> src.getInt() & 0xffffffffL;
        case U16 -> src.getShort() & 0xffff;
        case U8 -> src.get() & 0xff;
        case BOOL -> src.get() != 0 ? 1 : 0;
        case F8_E5M2 -> halfToFloat((short) ((src.get() & 0xff) << 8)); // the upper byte of a float16
        case F8_E4M3 -> e4m3ToFloat(src.get());
        case F8_E8M0 -> e8m0ToFloat(src.get());
        default -> throw new IllegalStateException(name() + " values are not read");
      };
    }
  }

  /** An unsigned 64-bit integer to the nearest float32. */
  private static float unsignedToFloat(long v) {
    if (v >= 0) {
      return v;
    }
    // halve keeping the lowest bit as a sticky bit, so that rounding the half and doubling rounds as the whole would
    return 2f * ((v >>> 1) | (v & 1));
  }

  /**
   * float8 e4m3fn (the OCP format torch calls {@code float8_e4m3fn}): 1 sign bit, 4 exponent bits with a bias of 7,
   * 3 mantissa bits; no infinities, NaN where exponent and mantissa are all ones. Exact.
   */
  static float e4m3ToFloat(byte b) {
    int bits = b & 0xff;
    int exp = (bits >>> 3) & 0xf;
    int mant = bits & 0x7;
    float v;
    if (exp == 0xf && mant == 0x7) {
      v = Float.NaN;
    } else if (exp == 0) {
      v = mant * 0x1p-9f; // subnormal: mant / 8 * 2^-6
    } else {
      v = (8 + mant) * Math.scalb(1f, exp - 7 - 3);
    }
    return (bits & 0x80) != 0 ? -v : v;
  }

  /** float8 e8m0fnu (a scale: 2 to an exponent biased by 127, no sign), NaN for 0xff. Exact. */
  static float e8m0ToFloat(byte b) {
    int exp = b & 0xff;
    return exp == 0xff ? Float.NaN : Math.scalb(1f, exp - 127);
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
