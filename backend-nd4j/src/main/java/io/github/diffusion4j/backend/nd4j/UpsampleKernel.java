package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;

/**
 * {@link Layer.Upsample}: nearest-neighbour upsampling by {@code f}, {@code y[c, f i + a, f j + b] = x[c, i,
 * j]}. It acts on each plane alone, and both layouts store the planes contiguously in the same order, so
 * it works in either: plane {@code r} of the input becomes plane {@code r} of the output. Backward: each
 * input position receives the sum of its {@code f x f} block. Nothing is saved.
 */
final class UpsampleKernel implements Kernel {
  private final int f;
  private final Shape in;
  private final Shape out;
  private final int h;
  private final int w;

  UpsampleKernel(int factor, Shape in) {
    this.f = factor;
    this.in = in;
    this.h = in.dim(1);
    this.w = in.dim(2);
    this.out = Shape.of(in.dim(0), h * factor, w * factor);
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue x = ps.dense(inputs[0]);
    NativeValue y = ps.allocate(out, x.layout);
    int p = h * w;
    int planes = x.items * in.dim(0);
    int per = Math.max(1, Workspace.CHUNK / p);
    float[] src = ps.ws().scratch(0, per * p);
    float[] dst = ps.ws().scratch(1, per * p * f * f);
    int w2 = w * f;
    for (int r0 = 0; r0 < planes; r0 += per) {
      int nr = Math.min(per, planes - r0);
      x.buffer().get(x.offset + r0 * p, src, 0, nr * p);
      for (int r = 0; r < nr; r++) {
        int ib = r * p;
        int ob = r * p * f * f;
        for (int i = 0; i < h; i++) {
          int o = ob + i * f * w2;
          int s = ib + i * w;
          if (f == 2) {
            for (int j = 0; j < w; j++) {
              float v = src[s + j];
              dst[o + 2 * j] = v;
              dst[o + 2 * j + 1] = v;
            }
          } else {
            for (int j = 0; j < w; j++) {
              float v = src[s + j];
              for (int b = 0; b < f; b++) {
                dst[o + f * j + b] = v;
              }
            }
          }
          for (int a = 1; a < f; a++) {
            System.arraycopy(dst, o, dst, o + a * w2, w2);
          }
        }
      }
      y.buffer().put(y.offset + r0 * p * f * f, dst, 0, nr * p * f * f);
    }
    return y;
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    if (!needed[0]) {
      return new Value[] {null};
    }
    NativePass ps = (NativePass) pass;
    NativeValue y = (NativeValue) output;
    NativeValue dy = ps.as(gradOutput, y.layout);
    NativeValue dx = ps.allocate(in, y.layout);
    int p = h * w;
    int big = p * f * f;
    int planes = dy.items * in.dim(0);
    int per = Math.max(1, Workspace.CHUNK / big);
    float[] src = ps.ws().scratch(0, per * big);
    float[] dst = ps.ws().scratch(1, per * p);
    int w2 = w * f;
    for (int r0 = 0; r0 < planes; r0 += per) {
      int nr = Math.min(per, planes - r0);
      dy.buffer().get(dy.offset + r0 * big, src, 0, nr * big);
      for (int r = 0; r < nr; r++) {
        int ib = r * p;
        int ob = r * big;
        for (int i = 0; i < h; i++) {
          int o = ob + i * f * w2;
          int s = ib + i * w;
          if (f == 2) {
            for (int j = 0; j < w; j++) {
              dst[s + j] = (src[o + 2 * j] + src[o + 2 * j + 1]) + (src[o + w2 + 2 * j] + src[o + w2 + 2 * j + 1]);
            }
          } else {
            for (int j = 0; j < w; j++) {
              float acc = 0;
              for (int a = 0; a < f; a++) {
                for (int b = 0; b < f; b++) {
                  acc += src[o + a * w2 + f * j + b];
                }
              }
              dst[s + j] = acc;
            }
          }
        }
      }
      dx.buffer().put(dx.offset + r0 * p, dst, 0, nr * p);
    }
    return new Value[] {dx};
  }
}
