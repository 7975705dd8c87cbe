package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;

/**
 * A concatenation along channels that has not been copied: its parts, each a row-major value of the same
 * items, form the value {@code [N, C_1 P + C_2 P + ...]}. A kernel that reads such a value part by part
 * (a linear layer multiplies each part by its columns of the weight) costs no copy; any other kernel asks
 * the pass for the {@link NativePass#dense dense} value, which is built once and kept here.
 */
final class Joined implements Value {
  /** The parts, row-major, in order. */
  final NativeValue[] parts;
  /** The shape of one item of the whole. */
  final Shape shape;
  /** The copy, once a kernel asked for it; owned by this value. */
  NativeValue dense;

  Joined(NativeValue[] parts, Shape shape) {
    this.parts = parts;
    this.shape = shape;
  }
}
