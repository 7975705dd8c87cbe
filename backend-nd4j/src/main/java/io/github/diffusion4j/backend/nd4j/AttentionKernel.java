package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.NativeValue.Layout;
import io.github.diffusion4j.backend.nd4j.Workspace.Block;
import io.github.diffusion4j.backend.nd4j.Workspace.Slot;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * {@link Layer.Attention}: multi-head scaled dot-product attention over positions, on channel-major
 * {@code q, k, v} (each {@code [C, N P]}, so head {@code h}'s channels of item {@code j} are a {@code [d,
 * P]} sub-matrix with row stride {@code N P}, {@code d = C / heads}). Per item and head, three OpenBLAS
 * products and a softmax on the heap:
 *
 * <pre>
 *   L = q^T k                  [P, P]   logits
 *   W = softmax_rows(L / sqrt(d))
 *   y = v W^T                  [d, P]
 * </pre>
 *
 * <p>Backward, with {@code dy [d, P]}: {@code dv = dy W}, {@code dW = dy^T v}, {@code dL = W * (dW -
 * rowsum(dW * W)) / sqrt(d)}, {@code dq = k dL^T}, {@code dk = q dL}. The training forward pass saves
 * {@code W} ({@code N heads P^2} floats of native memory); prediction frees it at once.
 *
 * <p>Items are independent, so both passes split them over the backend's {@link KernelPool} ({@link
 * #grain}), each product of one item and head on its lane's thread.
 */
final class AttentionKernel implements Kernel {
  private final int heads;

  AttentionKernel(int heads) {
    this.heads = heads;
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue q = ps.as(inputs[0], Layout.PLANES);
    NativeValue k = ps.as(inputs[1], Layout.PLANES);
    NativeValue v = ps.as(inputs[2], Layout.PLANES);
    int nb = q.items;
    int c = q.c();
    int p = q.p();
    int d = c / heads;
    long m = (long) nb * p;
    long pp = (long) p * p;
    Workspace ws = ps.ws();
    Block weights = ws.take(nb * heads * pp);
    FloatBuffer wb = weights.buffer;
    float scale = (float) (1.0 / Math.sqrt(d));
    NativeValue y = ps.allocate(q.shape, Layout.PLANES);
    ps.split(nb, grain(p), (lane, j0, j1) -> {
      float[] h = lane.scratch(0, (int) pp);
      for (int j = j0; j < j1; j++) {
        for (int hd = 0; hd < heads; hd++) {
          long rows = hd * d * m + (long) j * p;
          long at = (j * heads + hd) * pp;
          FloatPointer w = Blas.at(weights.pointer, at);
          // L[i][t] = sum_c q[c][i] k[c][t]
          Blas.gemm(true, false, p, p, d, q.at(rows), (int) m, k.at(rows), (int) m, 0f, w, p);
          wb.get((int) at, h, 0, (int) pp);
          ArrayMath.softmaxRows(h, p, p, scale, lane.math());
          wb.put((int) at, h, 0, (int) pp);
          // y[c][i] = sum_t v[c][t] W[i][t]
          Blas.gemm(false, true, d, p, p, v.at(rows), (int) m, w, p, 0f, y.at(rows), (int) m);
        }
      }
    });
    if (saved != null) {
      saved.put(weights);
    } else {
      ws.release(weights);
    }
    return y;
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue q = ps.as(inputs[0], Layout.PLANES);
    NativeValue k = ps.as(inputs[1], Layout.PLANES);
    NativeValue v = ps.as(inputs[2], Layout.PLANES);
    NativeValue dy = ps.as(gradOutput, Layout.PLANES);
    Block weights = saved.get();
    int nb = q.items;
    int c = q.c();
    int p = q.p();
    int d = c / heads;
    long m = (long) nb * p;
    int pp = p * p;
    Workspace ws = ps.ws();
    NativeValue dq = ps.allocate(q.shape, Layout.PLANES);
    NativeValue dk = ps.allocate(q.shape, Layout.PLANES);
    NativeValue dv = ps.allocate(q.shape, Layout.PLANES);
    int lanes = ps.lanes(nb, grain(p));
    // dL of one item and head, per lane
    Workspace.Buffer dws = ws.slot(Slot.COLUMN_GRADIENT, (long) lanes * pp);
    float scale = (float) (1.0 / Math.sqrt(d));
    ps.split(nb, grain(p), (lane, j0, j1) -> {
      int index = ps.laneIndex(lane);
      FloatPointer dw = dws.at((long) index * pp);
      int dwAt = index * pp;
      float[] hw = lane.scratch(0, pp);
      float[] hd = lane.scratch(1, pp);
      for (int j = j0; j < j1; j++) {
        for (int h = 0; h < heads; h++) {
          long rows = h * d * m + (long) j * p;
          long at = (long) (j * heads + h) * pp;
          FloatPointer w = Blas.at(weights.pointer, at);
          // dv[c][t] = sum_i dy[c][i] W[i][t];  dW[i][t] = sum_c dy[c][i] v[c][t]
          Blas.gemm(false, false, d, p, p, dy.at(rows), (int) m, w, p, 0f, dv.at(rows), (int) m);
          Blas.gemm(true, false, p, p, d, dy.at(rows), (int) m, v.at(rows), (int) m, 0f, dw, p);
          weights.buffer.get((int) at, hw, 0, pp);
          dws.buffer.get(dwAt, hd, 0, pp);
          ArrayMath.softmaxRowsBackward(hd, hw, p, p, scale);
          dws.buffer.put(dwAt, hd, 0, pp);
          // dq[c][i] = sum_t k[c][t] dL[i][t];  dk[c][t] = sum_i q[c][i] dL[i][t]
          Blas.gemm(false, true, d, p, p, k.at(rows), (int) m, dw, p, 0f, dq.at(rows), (int) m);
          Blas.gemm(false, false, d, p, p, q.at(rows), (int) m, dw, p, 0f, dk.at(rows), (int) m);
        }
      }
    });
    ws.release(weights);
    return new Value[] {needed[0] ? dq : drop(ps, dq), needed[1] ? dk : drop(ps, dk), needed[2] ? dv : drop(ps, dv)};
  }

  /**
   * Items per lane at least (OpenBLAS runs on one thread, {@link NativeRuntime}, so the lanes are the only
   * parallelism: every size of attention splits its items).
   */
  private int grain(int p) {
    return NativePass.grain((long) heads * p * p);
  }

  private static Value drop(NativePass ps, NativeValue v) {
    ps.release(v);
    return null;
  }
}
