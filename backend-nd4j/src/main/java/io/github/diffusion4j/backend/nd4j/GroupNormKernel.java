package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.backend.nd4j.NativeValue.Layout;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import java.nio.FloatBuffer;

/**
 * {@link Layer.GroupNorm} ({@code torch.nn.GroupNorm}, affine) on {@code [C, ...]} items in either layout
 * (the output keeps the input's): per item and group of {@code C / G} consecutive channels, the mean
 * {@code mu} and biased variance over the group's channels and positions (two passes, the squared
 * deviations from the mean, so the variance does not cancel), then {@code y = (x - mu) r gamma[c] +
 * beta[c]}, {@code r = 1 / sqrt(var + eps)}.
 *
 * <p>Backward, with {@code xh = (x - mu) r} and {@code K} elements per group: {@code dgamma[c] += sum(dy
 * xh)}, {@code dbeta[c] += sum(dy)}, {@code dx = r (gamma dy - S1 / K - xh S2 / K)} with {@code S1 =
 * sum(gamma dy)} and {@code S2 = sum(gamma dy xh)} over the group. The training forward pass saves
 * {@code mu} and {@code r} ({@code 2 N G} floats on the heap).
 *
 * <p>A group's planes are gathered into heap scratch once (one contiguous read in the row-major layout, a
 * read per channel in the channel-major one), so each pass reads the native input once and writes the
 * output once; sums run as in {@link ArrayMath} (float chains, runs added in double). When an activation
 * is the only reader of the output, it is applied here to each group while it is in cache (as oneDNN's
 * post-ops) and the normalised values are never stored ({@link FusedActivation}).
 */
final class GroupNormKernel implements Kernel {
  private final Parameters params;
  private final int channels;
  private final int groups;
  private final double eps;
  private final int gamma;
  private final int beta;
  private final Layer.Function fused;

  /**
   * The kernel of a group norm.
   *
   * @param params the parameters
   * @param layer the layer
   * @param fused the activation it applies to its output for the only reader of it, or null
   */
  GroupNormKernel(Parameters params, Layer.GroupNorm layer, Layer.Function fused) {
    this.params = params;
    this.channels = layer.channels();
    this.groups = layer.groups();
    this.eps = layer.eps();
    this.gamma = params.offset(layer.name() + ".weight");
    this.beta = params.offset(layer.name() + ".bias");
    this.fused = fused;
  }

  /** The statistics of a training forward pass: {@code [N, G]} each. */
  private record Stats(float[] mean, float[] rstd) {}

  /** Reads the planes of item {@code n}, channels {@code [c0, c0 + cg)}, into {@code h}. */
  private static void gather(NativeValue v, int n, int c0, int cg, float[] h) {
    int p = v.p();
    FloatBuffer b = v.buffer();
    if (v.readableAs(Layout.ROWS)) {
      b.get(v.plane(n, c0), h, 0, cg * p);
    } else {
      for (int c = 0; c < cg; c++) {
        b.get(v.plane(n, c0 + c), h, c * p, p);
      }
    }
  }

  /** Writes {@code h} to the planes of item {@code n}, channels {@code [c0, c0 + cg)}. */
  private static void scatter(float[] h, NativeValue v, int n, int c0, int cg) {
    int p = v.p();
    FloatBuffer b = v.buffer();
    if (v.readableAs(Layout.ROWS)) {
      b.put(v.plane(n, c0), h, 0, cg * p);
    } else {
      for (int c = 0; c < cg; c++) {
        b.put(v.plane(n, c0 + c), h, c * p, p);
      }
    }
  }

  @Override
  public Value forward(Value[] inputs, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue x = ps.dense(inputs[0]);
    NativeValue y = ps.allocate(x.shape, x.layout);
    boolean silu = fused == Layer.Function.SILU;
    NativeValue s = silu && saved != null ? ps.allocate(x.shape, x.layout) : null;
    int cg = channels / groups;
    int p = x.p();
    int len = cg * p;
    double count = len;
    float[] h = ps.ws().scratch(0, len);
    float[] hs = silu ? ps.ws().scratch(1, len) : null;
    float[] gm = params.weights(gamma, channels);
    float[] bt = params.weights(beta, channels);
    float[] mean = new float[x.items * groups];
    float[] rstd = new float[x.items * groups];
    for (int n = 0; n < x.items; n++) {
      for (int g = 0; g < groups; g++) {
        gather(x, n, g * cg, cg, h);
        float mu = (float) (ArrayMath.sum(h, 0, len) / count);
        float r = (float) (1.0 / Math.sqrt(ArrayMath.squaredDeviations(h, 0, len, mu) / count + eps));
        mean[n * groups + g] = mu;
        rstd[n * groups + g] = r;
        for (int c = 0; c < cg; c++) {
          int ci = g * cg + c;
          float scale = r * gm[ci];
          float shift = bt[ci] - mu * scale;
          for (int i = c * p, end = i + p; i < end; i++) {
            h[i] = h[i] * scale + shift;
          }
        }
        if (silu) {
          VectorMath.sigmoid(h, hs, 0, len, true, ps.ws().math());
          if (s != null) {
            scatter(hs, s, n, g * cg, cg);
          }
        } else if (fused == Layer.Function.RELU) {
          for (int i = 0; i < len; i++) {
            h[i] = Math.max(h[i], 0f);
          }
        }
        scatter(h, y, n, g * cg, cg);
      }
    }
    if (saved != null) {
      saved.put(new Stats(mean, rstd));
    }
    return fused == null ? y : new FusedActivation(fused, y, s);
  }

  @Override
  public Value[] backward(
      Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
    NativePass ps = (NativePass) pass;
    NativeValue x = ps.dense(inputs[0]);
    NativeValue dy = ps.as(gradOutput, x.layout);
    Stats st = saved.get();
    NativeValue dx = needed[0] ? ps.allocate(x.shape, x.layout) : null;
    int cg = channels / groups;
    int p = x.p();
    int len = cg * p;
    double count = len;
    Workspace ws = ps.ws();
    float[] hx = ws.scratch(0, len);
    float[] hd = ws.scratch(1, len);
    double[] sums = ws.doubles(2 * channels);
    java.util.Arrays.fill(sums, 0, 2 * channels, 0.0);
    float[] w = params.weights(gamma, channels);
    for (int n = 0; n < x.items; n++) {
      for (int g = 0; g < groups; g++) {
        int k = n * groups + g;
        float mu = st.mean()[k];
        double r = st.rstd()[k];
        gather(x, n, g * cg, cg, hx);
        gather(dy, n, g * cg, cg, hd);
        double s1 = 0;
        double s2 = 0;
        for (int c = 0; c < cg; c++) {
          int ci = g * cg + c;
          double gm = w[ci];
          double sdy = ArrayMath.sum(hd, c * p, p);
          double sdyxh = r * ArrayMath.dotCentered(hd, hx, mu, c * p, p);
          sums[ci] += sdyxh;
          sums[channels + ci] += sdy;
          s1 += gm * sdy;
          s2 += gm * sdyxh;
        }
        if (dx == null) {
          continue;
        }
        double m1 = s1 / count;
        double m2 = s2 / count;
        for (int c = 0; c < cg; c++) {
          int ci = g * cg + c;
          double gm = w[ci];
          // dx = r gamma dy - r m1 - (x - mu) r^2 m2 = a dy + b x + c0
          float a = (float) (r * gm);
          float b = (float) (-r * r * m2);
          float c0 = (float) (-r * m1 + mu * r * r * m2);
          for (int i = c * p, end = i + p; i < end; i++) {
            hd[i] = a * hd[i] + b * hx[i] + c0;
          }
        }
        scatter(hd, dx, n, g * cg, cg);
      }
    }
    float[] dgb = new float[2 * channels];
    for (int i = 0; i < 2 * channels; i++) {
      dgb[i] = (float) sums[i];
    }
    ps.addToGradient(params, gamma, dgb, 0, channels);
    ps.addToGradient(params, beta, dgb, channels, channels);
    return new Value[] {dx};
  }
}
