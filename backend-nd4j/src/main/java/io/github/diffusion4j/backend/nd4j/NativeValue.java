package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.Workspace.Block;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A value of this backend: {@code items} items of an item shape {@code [C, ...]} in a contiguous run of a
 * native {@link Block}, in one of two layouts. With {@code C} channels (the first axis) and {@code P}
 * positions per channel (the product of the other axes, 1 for a vector), the channel-{@code c} plane of item
 * {@code n} is {@code P} contiguous floats at
 *
 * <ul>
 *   <li>{@link Layout#ROWS}: {@code (n C + c) P}, row-major {@code [N, C, P]} as the api's tensors: a batch
 *       of vectors is an {@code [N, F]} matrix, the input of a linear layer;
 *   <li>{@link Layout#PLANES}: {@code (c N + n) P}, channel-major {@code [C, N, P]}: a batch of images is a
 *       {@code [C, N P]} matrix, so a convolution is one matrix product for all images and a channel range
 *       is a contiguous run (a slice is a view, a concatenation two copies).
 * </ul>
 *
 * Kernels produce the layout that suits them and convert an input only when they need the other one; a
 * conversion is kept with the value ({@link #converted}) so that several readers convert once. When
 * {@code C = 1} or {@code N = 1} both layouts are the same memory ({@link #layoutFree}).
 */
final class NativeValue implements Value {

  /** Where a plane lives; see the class comment. */
  enum Layout {
    /** Row-major {@code [N, C, P]}. */
    ROWS,
    /** Channel-major {@code [C, N, P]}. */
    PLANES
  }

  /** The number of items. */
  final int items;
  /** The shape of one item. */
  final Shape shape;
  /** The layout. */
  final Layout layout;
  /** The memory. */
  final Block block;
  /** Where the value starts in the block, in floats. */
  final int offset;
  /** The same value in the other layout, once a kernel asked for it; owned by this value. */
  NativeValue converted;

  NativeValue(int items, Shape shape, Layout layout, Block block, int offset) {
    this.items = items;
    this.shape = shape;
    this.layout = layout;
    this.block = block;
    this.offset = offset;
  }

  /** Channels, the first axis of an item. */
  int c() {
    return shape.dim(0);
  }

  /** Positions per channel: the product of the other axes (1 for a vector). */
  int p() {
    return shape.size() / shape.dim(0);
  }

  /** Floats in all: {@code items * C * P}. */
  int size() {
    return items * shape.size();
  }

  /** Whether both layouts are the same memory ({@code C = 1} or one item). */
  boolean layoutFree() {
    return items == 1 || shape.dim(0) == 1;
  }

  /**
   * Whether the value can be read in a layout without conversion.
   *
   * @param l the layout
   * @return true if it is in that layout or both are the same memory
   */
  boolean readableAs(Layout l) {
    return layout == l || layoutFree();
  }

  /**
   * Where the plane of item {@code n} and channel {@code c} starts in the block.
   *
   * @param n the item
   * @param c the channel
   * @return the index of its first float
   */
  int plane(int n, int c) {
    int p = p();
    return offset + (layout == Layout.ROWS ? n * c() + c : c * items + n) * p;
  }

  /**
   * The value's first float for BLAS.
   *
   * @return a pointer (the block's own when the offset is 0)
   */
  FloatPointer pointer() {
    return offset == 0 ? block.pointer : Blas.at(block.pointer, offset);
  }

  /**
   * A pointer {@code floats} past the value's start.
   *
   * @param floats the distance
   * @return a new pointer
   */
  FloatPointer at(long floats) {
    return Blas.at(block.pointer, offset + floats);
  }

  /**
   * The block's memory, indexed absolutely (add {@link #offset}).
   *
   * @return the buffer
   */
  FloatBuffer buffer() {
    return block.buffer;
  }
}
