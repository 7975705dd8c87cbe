package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.UNetWorkspace.Buffer;
import io.github.diffusion4j.backend.nd4j.UNetWorkspace.Slot;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A dense layer ({@code torch.nn.Linear}) on row-major {@code [N][in]} inputs: {@code y = x W^T + b}, the
 * weight {@code [out, in]} read in place from the model's native weights. Immutable and shared by all
 * threads.
 */
final class Linear {
  final int in;
  final int out;
  private final int wOff;
  private final int bOff;
  private final ModelState state;
  private final FloatPointer weight;

  /**
   * A layer whose weight and bias are state entries.
   *
   * @param state the model's state
   * @param wOff the weight's offset ({@code [out, in]})
   * @param bOff the bias's offset
   * @param in input width
   * @param out output width
   */
  Linear(ModelState state, int wOff, int bOff, int in, int out) {
    this.state = state;
    this.wOff = wOff;
    this.bOff = bOff;
    this.in = in;
    this.out = out;
    this.weight = Blas.at(state.params(), wOff);
  }

  /**
   * {@code y = x W^T + b}.
   *
   * @param ws the workspace
   * @param x {@code [n][in]}
   * @param n rows
   * @param y {@code [n][out]} (output)
   */
  void forward(UNetWorkspace ws, float[] x, int n, float[] y) {
    Buffer a = ws.slot(Slot.COLUMNS, (long) n * in);
    Buffer r = ws.slot(Slot.ROWS, (long) n * out);
    a.buffer.put(0, x, 0, n * in);
    Blas.gemm(false, true, n, out, in, a.pointer, in, weight, in, 0f, r.pointer, out);
    r.buffer.get(0, y, 0, n * out);
    float[] p = state.weights;
    for (int j = 0; j < n; j++) {
      UNetKernels.addTo(y, j * out, p, bOff, out);
    }
  }

  /**
   * The backward pass: adds {@code dW = dy^T x} and {@code db} to the model's gradient and {@code dy W}
   * to {@code dx}.
   *
   * @param ws the workspace
   * @param x the forward pass's input
   * @param dy the gradient with respect to the output
   * @param n rows
   * @param dx the gradient with respect to {@code x}, added to, or null if not needed
   */
  void backward(UNetWorkspace ws, float[] x, float[] dy, int n, float[] dx) {
    Buffer a = ws.slot(Slot.COLUMNS, (long) n * in);
    Buffer r = ws.slot(Slot.ROWS, (long) n * out);
    Buffer wg = ws.slot(Slot.WEIGHT_GRADIENT, (long) out * in);
    a.buffer.put(0, x, 0, n * in);
    r.buffer.put(0, dy, 0, n * out);
    Blas.gemm(true, false, out, in, n, r.pointer, out, a.pointer, in, 0f, wg.pointer, in);
    float[] g = ws.take(Math.max(out * in, n * in));
    wg.buffer.get(0, g, 0, out * in);
    float[] grad = state.gradient;
    UNetKernels.addTo(grad, wOff, g, 0, out * in);
    for (int j = 0; j < n; j++) {
      UNetKernels.addTo(grad, bOff, dy, j * out, out);
    }
    if (dx != null) {
      Buffer d = ws.slot(Slot.COLUMN_GRADIENT, (long) n * in);
      Blas.gemm(false, false, n, in, out, r.pointer, out, weight, in, 0f, d.pointer, in);
      d.buffer.get(0, g, 0, n * in);
      UNetKernels.addTo(dx, g, n * in);
    }
    ws.give(g);
  }
}
