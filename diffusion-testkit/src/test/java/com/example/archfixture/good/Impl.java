package com.example.archfixture.good;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.tensor.Shape;

final class Impl {
  private Impl() {}

  static Backend create() {
    Shape.of(1);
    throw new UnsupportedOperationException("fixture");
  }
}
