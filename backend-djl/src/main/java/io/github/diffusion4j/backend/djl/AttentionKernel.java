package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;

/**
 * {@link Layer.Attention}: multi-head scaled dot-product self-attention over the {@code P = H W} positions of
 * {@code q, k, v = [N, C, H, W]}. Each is viewed as {@code [N heads, d, P]} ({@code d = C / heads}; head
 * {@code h} is channels {@code [h d, (h + 1) d)}), then, as the DDPM authors' code computes it,
 *
 * <pre>
 *   w   = softmax_j(bmm(q^T, k) * (1 / sqrt(d)))    [N heads, P (query i), P (key j)]
 *   out = bmm(v, w^T)                               [N heads, d, P]: out[c, i] = sum_j v[c, j] w[i, j]
 * </pre>
 *
 * and viewed back as {@code [N, C, H, W]}. The scale is a constant of this kernel, rounded to float.
 *
 * <p>Backward (libtorch's autograd): through the two batched products and the softmax; the graph saves
 * {@code q}, {@code k}, {@code v} and the weights {@code w} ({@code N heads P^2} floats, the largest saved
 * activation of an attention block). Intermediate handles are closed as soon as they are used, so in
 * prediction only the output outlives the call.
 */
final class AttentionKernel implements Kernel {
  private final long heads;
  private final PtNDArray scale;

  /**
   * A kernel for one layer.
   *
   * @param parameters the network's parameters (their manager keeps the scale)
   * @param layer the layer
   * @param channels the channels of {@code q}
   */
  AttentionKernel(DjlParameters parameters, Layer.Attention layer, int channels) {
    this.heads = layer.heads();
    this.scale = parameters.constant(new float[] {(float) (1 / Math.sqrt((double) channels / layer.heads()))});
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    PtNDArray q = DjlPass.nd(inputs[0]);
    long[] dims = q.getShape().getShape();
    long[] split = {dims[0] * heads, dims[1] / heads, dims[2] * dims[3]};
    PtNDArray qh = JniUtils.reshape(q, split);
    PtNDArray kh = JniUtils.reshape(DjlPass.nd(inputs[1]), split);
    PtNDArray qt = JniUtils.transpose(qh, 1, 2);
    qh.close();
    PtNDArray logits = JniUtils.bmm(qt, kh);
    qt.close();
    kh.close();
    PtNDArray scaled = JniUtils.mul(logits, scale);
    logits.close();
    PtNDArray w = JniUtils.softmax(scaled, 2, DataType.FLOAT32);
    scaled.close();
    PtNDArray wt = JniUtils.transpose(w, 1, 2);
    w.close();
    PtNDArray vh = JniUtils.reshape(DjlPass.nd(inputs[2]), split);
    PtNDArray out = JniUtils.bmm(vh, wt);
    vh.close();
    wt.close();
    PtNDArray y = JniUtils.reshape(out, dims);
    out.close();
    return DjlPass.value(y);
  }
}
