package io.github.diffusion4j.testkit;

import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The reference implementation of every layer kind: plain Java loops over row-major {@code [N, C, H, W]}
 * float arrays, sums accumulated in double, hand-written backward passes. Slow and written to be obviously
 * right; the contract suites compare every backend's kernels with it, and it runs every network.
 */
public final class ReferenceLayers implements LayerBackend {
  private final TensorFactory tensors;

  /**
   * Kernels whose tensors come from a factory.
   *
   * @param tensors the reference backend's tensors
   */
  public ReferenceLayers(TensorFactory tensors) {
    this.tensors = tensors;
  }

  /** A value: {@code items} items of {@code shape}, row-major. */
  static final class Data implements Value {
    final float[] v;
    final int items;
    final Shape shape;

    Data(float[] v, int items, Shape shape) {
      if (v.length != items * shape.size()) {
        throw new IllegalArgumentException(v.length + " values for " + items + " x " + shape);
      }
      this.v = v;
      this.items = items;
      this.shape = shape;
    }

    int c() {
      return shape.dim(0);
    }

    /** Positions per channel: {@code H * W} for an image, 1 for a vector. */
    int p() {
      return shape.size() / shape.dim(0);
    }
  }

  private static Data data(Value v) {
    return (Data) v;
  }

  @Override
  public Differentiation differentiation(Network network) {
    return Differentiation.MANUAL;
  }

  @Override
  public ParameterStore parameters(Map<String, int[]> layout) {
    return new Store(layout);
  }

  @Override
  public Pass open(Network network, int items, boolean training) {
    if (items < 1) {
      throw new IllegalArgumentException("reference: a pass needs at least one item, got " + items);
    }
    return new RefPass(items, training);
  }

  /** Weights, gradient (double) and Adam's moments in layout order. */
  static final class Store implements ParameterStore {
    private final Map<String, int[]> layout;
    private final Map<String, Integer> offsets = new java.util.HashMap<>();
    final float[] w;
    final double[] g;
    private final float[] m;
    private final float[] s;
    private float[] avg;

    Store(Map<String, int[]> layout) {
      this.layout = layout;
      int off = 0;
      for (Map.Entry<String, int[]> e : layout.entrySet()) {
        offsets.put(e.getKey(), off);
        int k = 1;
        for (int d : e.getValue()) {
          k *= d;
        }
        off += k;
      }
      w = new float[off];
      g = new double[off];
      m = new float[off];
      s = new float[off];
    }

    int offset(String name) {
      Integer o = offsets.get(name);
      if (o == null) {
        throw new IllegalArgumentException("no parameter " + name);
      }
      return o;
    }

    @Override
    public Map<String, int[]> layout() {
      return layout;
    }

    @Override
    public int size() {
      return w.length;
    }

    @Override
    public float[] read(Buffer buffer) {
      switch (buffer) {
        case WEIGHTS:
          return w.clone();
        case GRADIENTS:
          float[] f = new float[g.length];
          for (int i = 0; i < f.length; i++) {
            f[i] = (float) g[i];
          }
          return f;
        case FIRST_MOMENT:
          return m.clone();
        case SECOND_MOMENT:
          return s.clone();
        default:
          return avg == null ? w.clone() : avg.clone();
      }
    }

    @Override
    public void write(Buffer buffer, float[] values) {
      if (values.length != w.length) {
        throw new IllegalArgumentException(values.length + " values for " + w.length + " parameters");
      }
      switch (buffer) {
        case WEIGHTS -> System.arraycopy(values, 0, w, 0, w.length);
        case GRADIENTS -> {
          for (int i = 0; i < g.length; i++) {
            g[i] = values[i];
          }
        }
        case FIRST_MOMENT -> System.arraycopy(values, 0, m, 0, m.length);
        case SECOND_MOMENT -> System.arraycopy(values, 0, s, 0, s.length);
        default -> avg = values.clone();
      }
    }

    @Override
    public void zeroGradients() {
      Arrays.fill(g, 0);
    }

    @Override
    public void adam(AdamUpdate u) {
      double coef = 1;
      if (u.maxGradNorm() > 0) {
        double sq = 0;
        for (double x : g) {
          sq += x * x;
        }
        coef = Math.min(1, u.maxGradNorm() / (Math.sqrt(sq) + 1e-6));
      }
      double bc1 = 1 - Math.pow(u.beta1(), u.step());
      double bc2 = 1 - Math.pow(u.beta2(), u.step());
      for (int j = 0; j < w.length; j++) {
        double grad = g[j] * coef + u.weightDecay() * w[j];
        double mj = u.beta1() * m[j] + (1 - u.beta1()) * grad;
        double vj = u.beta2() * s[j] + (1 - u.beta2()) * grad * grad;
        m[j] = (float) mj;
        s[j] = (float) vj;
        double denom = Math.sqrt(vj) / Math.sqrt(bc2) + u.epsilon();
        w[j] = (float) (w[j] - u.learningRate() / bc1 * mj / denom);
      }
    }

    @Override
    public void updateAverage(double decay) {
      if (avg == null) {
        avg = w.clone();
      }
      for (int j = 0; j < w.length; j++) {
        avg[j] = (float) (decay * avg[j] + (1 - decay) * w[j]);
      }
    }

    @Override
    public boolean hasAverage() {
      return avg != null;
    }

    @Override
    public void close() {}
  }

  /**
   * A pass: values are heap arrays, so releasing one only drops it. A closed pass refuses to be used, as the native
   * backends' passes must (their memory is gone), so code that would fail there fails here too.
   */
  final class RefPass implements Pass {
    private final int items;
    private final boolean training;
    private boolean closed;

    RefPass(int items, boolean training) {
      this.items = items;
      this.training = training;
    }

    @Override
    public int items() {
      return items;
    }

    @Override
    public boolean training() {
      return training;
    }

    /** Refuses the use of a closed pass. */
    private void checkOpen() {
      if (closed) {
        throw new IllegalStateException("reference: this pass was closed; open a new pass to evaluate again");
      }
    }

    @Override
    public Value input(Tensor x, int from) {
      checkOpen();
      requireItems(x, from, "input");
      int item = x.shape().itemSize();
      float[] all = x.toFloatArray();
      return new Data(Arrays.copyOfRange(all, from * item, (from + items) * item), items, x.shape().item());
    }

    @Override
    public Value host(float[] values, Shape itemShape) {
      checkOpen();
      return new Data(values.clone(), items, itemShape);
    }

    @Override
    public Tensor output(Value v, Shape shape) {
      checkOpen();
      if (shape.size() != data(v).v.length) {
        throw new IllegalArgumentException(
            "reference: a value of " + data(v).v.length + " floats cannot be a tensor " + shape);
      }
      return tensors.fromArray(data(v).v, shape);
    }

    @Override
    public Value accumulate(Value sum, Value addend) {
      checkOpen();
      Data a = data(sum);
      Data b = data(addend);
      float[] r = new float[a.v.length];
      for (int i = 0; i < r.length; i++) {
        r[i] = a.v[i] + b.v[i];
      }
      return new Data(r, a.items, a.shape);
    }

    @Override
    public Loss mse(Value prediction, Tensor target, int from, double scale) {
      checkOpen();
      Data p = data(prediction);
      requireItems(target, from, "target");
      if (!target.shape().item().equals(p.shape)) {
        throw new IllegalArgumentException(
            "reference: target items " + target.shape().item() + " do not match the prediction's " + p.shape);
      }
      int item = p.shape.size();
      float[] t = target.toFloatArray();
      float[] grad = new float[p.v.length];
      double sum = 0;
      for (int i = 0; i < grad.length; i++) {
        double d = (double) p.v[i] - t[from * item + i];
        sum += d * d;
        grad[i] = (float) (2 * scale * d);
      }
      return new Loss(scale * sum, new Data(grad, p.items, p.shape));
    }

    /** The pass's items of a batch from {@code from} must be in it. */
    private void requireItems(Tensor t, int from, String what) {
      if (from < 0 || from + items > t.shape().batch()) {
        throw new IllegalArgumentException(
            "reference: " + what + " " + t.shape() + " has no items [" + from + ", " + (from + items) + ")");
      }
    }

    @Override
    public void release(Value v) {}

    @Override
    public void close() {
      closed = true;
    }
  }

  @Override
  public Kernel kernel(Network network, Node node, ParameterStore parameters) {
    if (!(parameters instanceof Store st)) {
      throw new IllegalArgumentException("parameters " + parameters + " were not created by the reference backend");
    }
    Map<String, int[]> shapes = network.parameterShapes();
    for (String name : node.layer().parameterNames()) {
      int[] have = st.layout.get(name);
      if (have == null || Shape.of(have).size() != Shape.of(shapes.get(name)).size()) {
        throw new IllegalArgumentException("reference: the store's entry '" + name + "' is "
            + (have == null ? "missing" : Arrays.toString(have)) + ", but the network reads it as "
            + Arrays.toString(shapes.get(name)));
      }
    }
    Shape out = node.itemShape();
    List<Integer> ins = node.inputs();
    Shape in0 = network.node(ins.get(0)).itemShape();
    Layer l = node.layer();
    if (l instanceof Layer.Linear x) {
      return new LinearKernel(st, x);
    }
    if (l instanceof Layer.Conv2d x) {
      return new ConvKernel(st, x, in0, out);
    }
    if (l instanceof Layer.GroupNorm x) {
      return new GroupNormKernel(st, x);
    }
    if (l instanceof Layer.Activation x) {
      return new ActivationKernel(x.function());
    }
    if (l instanceof Layer.Upsample x) {
      return new UpsampleKernel(x.factor(), in0);
    }
    if (l instanceof Layer.Add x) {
      return new AddKernel(x.scale());
    }
    if (l instanceof Layer.Concat) {
      return new ConcatKernel();
    }
    if (l instanceof Layer.SliceChannels x) {
      return new SliceKernel(x.from(), x.to(), in0);
    }
    if (l instanceof Layer.Attention x) {
      return new AttentionKernel(x.heads());
    }
    if (l instanceof Layer.Dropout) {
      return new DropoutKernel();
    }
    if (l instanceof Layer.Reshape x) {
      return new ReshapeKernel(x.itemShape(), in0);
    }
    throw new UnsupportedOperationException("reference: no kernel for " + l);
  }

  // ------------------------------------------------------------------ kernels

  private static final class LinearKernel implements Kernel {
    private final Store st;
    private final Layer.Linear l;
    private final int w;
    private final int b;

    LinearKernel(Store st, Layer.Linear l) {
      this.st = st;
      this.l = l;
      this.w = st.offset(l.name() + ".weight");
      this.b = l.bias() ? st.offset(l.name() + ".bias") : -1;
    }

    @Override
    public Value forward(Value[] inputs, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      float[] y = new float[x.items * l.out()];
      for (int n = 0; n < x.items; n++) {
        for (int o = 0; o < l.out(); o++) {
          double acc = b >= 0 ? st.w[b + o] : 0;
          for (int i = 0; i < l.in(); i++) {
            acc += (double) x.v[n * l.in() + i] * st.w[w + o * l.in() + i];
          }
          y[n * l.out() + o] = (float) acc;
        }
      }
      return new Data(y, x.items, Shape.of(l.out()));
    }

    @Override
    public Value[] backward(Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      Data dy = data(gradOutput);
      float[] dx = needed[0] ? new float[x.v.length] : null;
      for (int n = 0; n < x.items; n++) {
        for (int o = 0; o < l.out(); o++) {
          double g = dy.v[n * l.out() + o];
          if (b >= 0) {
            st.g[b + o] += g;
          }
          for (int i = 0; i < l.in(); i++) {
            st.g[w + o * l.in() + i] += g * x.v[n * l.in() + i];
          }
        }
        if (dx != null) {
          for (int i = 0; i < l.in(); i++) {
            double acc = 0;
            for (int o = 0; o < l.out(); o++) {
              acc += (double) dy.v[n * l.out() + o] * st.w[w + o * l.in() + i];
            }
            dx[n * l.in() + i] = (float) acc;
          }
        }
      }
      return new Value[] {dx == null ? null : new Data(dx, x.items, x.shape)};
    }
  }

  private static final class ConvKernel implements Kernel {
    private final Store st;
    private final Layer.Conv2d l;
    private final int w;
    private final int b;
    private final int hin;
    private final int win;
    private final int hout;
    private final int wout;

    ConvKernel(Store st, Layer.Conv2d l, Shape in, Shape out) {
      this.st = st;
      this.l = l;
      this.w = st.offset(l.name() + ".weight");
      this.b = l.bias() ? st.offset(l.name() + ".bias") : -1;
      this.hin = in.dim(1);
      this.win = in.dim(2);
      this.hout = out.dim(1);
      this.wout = out.dim(2);
    }

    private int xi(int n, int c, int y, int x) {
      return ((n * l.in() + c) * hin + y) * win + x;
    }

    private int wi(int o, int c, int ky, int kx) {
      return w + ((o * l.in() + c) * l.kernel() + ky) * l.kernel() + kx;
    }

    @Override
    public Value forward(Value[] inputs, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      int k = l.kernel();
      float[] y = new float[x.items * l.out() * hout * wout];
      for (int n = 0; n < x.items; n++) {
        for (int o = 0; o < l.out(); o++) {
          for (int oy = 0; oy < hout; oy++) {
            for (int ox = 0; ox < wout; ox++) {
              double acc = b >= 0 ? st.w[b + o] : 0;
              for (int c = 0; c < l.in(); c++) {
                for (int ky = 0; ky < k; ky++) {
                  int iy = oy * l.stride() + ky - l.padding().top();
                  if (iy < 0 || iy >= hin) {
                    continue;
                  }
                  for (int kx = 0; kx < k; kx++) {
                    int ix = ox * l.stride() + kx - l.padding().left();
                    if (ix >= 0 && ix < win) {
                      acc += (double) x.v[xi(n, c, iy, ix)] * st.w[wi(o, c, ky, kx)];
                    }
                  }
                }
              }
              y[((n * l.out() + o) * hout + oy) * wout + ox] = (float) acc;
            }
          }
        }
      }
      return new Data(y, x.items, Shape.of(l.out(), hout, wout));
    }

    @Override
    public Value[] backward(Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      Data dy = data(gradOutput);
      int k = l.kernel();
      double[] dx = needed[0] ? new double[x.v.length] : null;
      for (int n = 0; n < x.items; n++) {
        for (int o = 0; o < l.out(); o++) {
          for (int oy = 0; oy < hout; oy++) {
            for (int ox = 0; ox < wout; ox++) {
              double g = dy.v[((n * l.out() + o) * hout + oy) * wout + ox];
              if (b >= 0) {
                st.g[b + o] += g;
              }
              for (int c = 0; c < l.in(); c++) {
                for (int ky = 0; ky < k; ky++) {
                  int iy = oy * l.stride() + ky - l.padding().top();
                  if (iy < 0 || iy >= hin) {
                    continue;
                  }
                  for (int kx = 0; kx < k; kx++) {
                    int ix = ox * l.stride() + kx - l.padding().left();
                    if (ix >= 0 && ix < win) {
                      st.g[wi(o, c, ky, kx)] += g * x.v[xi(n, c, iy, ix)];
                      if (dx != null) {
                        dx[xi(n, c, iy, ix)] += g * st.w[wi(o, c, ky, kx)];
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
      return new Value[] {dx == null ? null : new Data(toFloat(dx), x.items, x.shape)};
    }
  }

  private static float[] toFloat(double[] a) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      f[i] = (float) a[i];
    }
    return f;
  }

  private static final class GroupNormKernel implements Kernel {
    private final Store st;
    private final Layer.GroupNorm l;
    private final int gamma;
    private final int beta;

    GroupNormKernel(Store st, Layer.GroupNorm l) {
      this.st = st;
      this.l = l;
      this.gamma = st.offset(l.name() + ".weight");
      this.beta = st.offset(l.name() + ".bias");
    }

    /** Each item's and group's mean and 1 / sqrt(var + eps). */
    private double[][] stats(Data x) {
      int cg = l.channels() / l.groups();
      int p = x.p();
      double[] mean = new double[x.items * l.groups()];
      double[] rstd = new double[mean.length];
      for (int n = 0; n < x.items; n++) {
        for (int g = 0; g < l.groups(); g++) {
          int start = (n * l.channels() + g * cg) * p;
          int len = cg * p;
          double s = 0;
          for (int i = 0; i < len; i++) {
            s += x.v[start + i];
          }
          double mu = s / len;
          double q = 0;
          for (int i = 0; i < len; i++) {
            double d = x.v[start + i] - mu;
            q += d * d;
          }
          mean[n * l.groups() + g] = mu;
          rstd[n * l.groups() + g] = 1 / Math.sqrt(q / len + l.eps());
        }
      }
      return new double[][] {mean, rstd};
    }

    @Override
    public Value forward(Value[] inputs, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      double[][] s = stats(x);
      int cg = l.channels() / l.groups();
      int p = x.p();
      float[] y = new float[x.v.length];
      for (int n = 0; n < x.items; n++) {
        for (int c = 0; c < l.channels(); c++) {
          int g = n * l.groups() + c / cg;
          for (int i = 0; i < p; i++) {
            int at = (n * l.channels() + c) * p + i;
            y[at] = (float) ((x.v[at] - s[0][g]) * s[1][g] * st.w[gamma + c] + st.w[beta + c]);
          }
        }
      }
      return new Data(y, x.items, x.shape);
    }

    @Override
    public Value[] backward(Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      Data dy = data(gradOutput);
      double[][] s = stats(x);
      int cg = l.channels() / l.groups();
      int p = x.p();
      int len = cg * p;
      float[] dx = new float[x.v.length];
      for (int n = 0; n < x.items; n++) {
        for (int g = 0; g < l.groups(); g++) {
          double mu = s[0][n * l.groups() + g];
          double r = s[1][n * l.groups() + g];
          double sumD = 0;
          double sumDx = 0;
          for (int c = g * cg; c < (g + 1) * cg; c++) {
            for (int i = 0; i < p; i++) {
              int at = (n * l.channels() + c) * p + i;
              double xhat = (x.v[at] - mu) * r;
              double d = dy.v[at];
              st.g[gamma + c] += d * xhat;
              st.g[beta + c] += d;
              double dxhat = d * st.w[gamma + c];
              sumD += dxhat;
              sumDx += dxhat * xhat;
            }
          }
          for (int c = g * cg; c < (g + 1) * cg; c++) {
            for (int i = 0; i < p; i++) {
              int at = (n * l.channels() + c) * p + i;
              double xhat = (x.v[at] - mu) * r;
              double dxhat = dy.v[at] * st.w[gamma + c];
              dx[at] = (float) (r * (dxhat - sumD / len - xhat * sumDx / len));
            }
          }
        }
      }
      return new Value[] {needed[0] ? new Data(dx, x.items, x.shape) : null};
    }
  }

  private static final class ActivationKernel implements Kernel {
    private final Layer.Function f;

    ActivationKernel(Layer.Function f) {
      this.f = f;
    }

    @Override
    public Value forward(Value[] inputs, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      float[] y = new float[x.v.length];
      for (int i = 0; i < y.length; i++) {
        double v = x.v[i];
        y[i] = (float) (f == Layer.Function.RELU ? Math.max(v, 0) : v / (1 + Math.exp(-v)));
      }
      return new Data(y, x.items, x.shape);
    }

    @Override
    public Value[] backward(Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      Data dy = data(gradOutput);
      float[] dx = new float[x.v.length];
      for (int i = 0; i < dx.length; i++) {
        double v = x.v[i];
        double d;
        if (f == Layer.Function.RELU) {
          d = v > 0 ? 1 : 0;
        } else {
          double s = 1 / (1 + Math.exp(-v));
          d = s * (1 + v * (1 - s));
        }
        dx[i] = (float) (dy.v[i] * d);
      }
      return new Value[] {new Data(dx, x.items, x.shape)};
    }
  }

  private static final class UpsampleKernel implements Kernel {
    private final int f;
    private final Shape in;

    UpsampleKernel(int f, Shape in) {
      this.f = f;
      this.in = in;
    }

    @Override
    public Value forward(Value[] inputs, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      int c = in.dim(0);
      int h = in.dim(1);
      int w = in.dim(2);
      float[] y = new float[x.v.length * f * f];
      for (int nc = 0; nc < x.items * c; nc++) {
        for (int i = 0; i < h * f; i++) {
          for (int j = 0; j < w * f; j++) {
            y[(nc * h * f + i) * w * f + j] = x.v[(nc * h + i / f) * w + j / f];
          }
        }
      }
      return new Data(y, x.items, Shape.of(c, h * f, w * f));
    }

    @Override
    public Value[] backward(Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
      Data dy = data(gradOutput);
      int c = in.dim(0);
      int h = in.dim(1);
      int w = in.dim(2);
      double[] dx = new double[dy.items * in.size()];
      for (int nc = 0; nc < dy.items * c; nc++) {
        for (int i = 0; i < h * f; i++) {
          for (int j = 0; j < w * f; j++) {
            dx[(nc * h + i / f) * w + j / f] += dy.v[(nc * h * f + i) * w * f + j];
          }
        }
      }
      return new Value[] {new Data(toFloat(dx), dy.items, in)};
    }
  }

  private static final class AddKernel implements Kernel {
    private final double scale;

    AddKernel(double scale) {
      this.scale = scale;
    }

    @Override
    public Value forward(Value[] inputs, Pass pass, Saved saved) {
      Data a = data(inputs[0]);
      Data b = data(inputs[1]);
      float[] y = new float[a.v.length];
      int p = b.shape.equals(a.shape) ? 1 : a.p();
      for (int i = 0; i < y.length; i++) {
        y[i] = (float) (((double) a.v[i] + b.v[i / p]) * scale);
      }
      return new Data(y, a.items, a.shape);
    }

    @Override
    public Value[] backward(Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
      Data a = data(inputs[0]);
      Data b = data(inputs[1]);
      Data dy = data(gradOutput);
      float[] da = new float[a.v.length];
      double[] db = new double[b.v.length];
      int p = b.shape.equals(a.shape) ? 1 : a.p();
      for (int i = 0; i < da.length; i++) {
        double g = dy.v[i] * scale;
        da[i] = (float) g;
        db[i / p] += g;
      }
      return new Value[] {new Data(da, a.items, a.shape), new Data(toFloat(db), b.items, b.shape)};
    }
  }

  private static final class ConcatKernel implements Kernel {
    @Override
    public Value forward(Value[] inputs, Pass pass, Saved saved) {
      int items = data(inputs[0]).items;
      int c = 0;
      for (Value v : inputs) {
        c += data(v).c();
      }
      int p = data(inputs[0]).p();
      float[] y = new float[items * c * p];
      for (int n = 0; n < items; n++) {
        int at = n * c * p;
        for (Value v : inputs) {
          Data d = data(v);
          int len = d.c() * p;
          System.arraycopy(d.v, n * len, y, at, len);
          at += len;
        }
      }
      int[] dims = data(inputs[0]).shape.dims();
      dims[0] = c;
      return new Data(y, items, Shape.of(dims));
    }

    @Override
    public Value[] backward(Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
      Data dy = data(gradOutput);
      int c = dy.c();
      int p = dy.p();
      Value[] out = new Value[inputs.length];
      int offset = 0;
      for (int k = 0; k < inputs.length; k++) {
        Data d = data(inputs[k]);
        int len = d.c() * p;
        float[] g = new float[d.v.length];
        for (int n = 0; n < dy.items; n++) {
          System.arraycopy(dy.v, n * c * p + offset, g, n * len, len);
        }
        out[k] = new Data(g, d.items, d.shape);
        offset += len;
      }
      return out;
    }
  }

  private static final class SliceKernel implements Kernel {
    private final int from;
    private final int to;
    private final Shape in;

    SliceKernel(int from, int to, Shape in) {
      this.from = from;
      this.to = to;
      this.in = in;
    }

    @Override
    public Value forward(Value[] inputs, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      int p = x.p();
      int len = (to - from) * p;
      float[] y = new float[x.items * len];
      for (int n = 0; n < x.items; n++) {
        System.arraycopy(x.v, n * in.size() + from * p, y, n * len, len);
      }
      int[] dims = in.dims();
      dims[0] = to - from;
      return new Data(y, x.items, Shape.of(dims));
    }

    @Override
    public Value[] backward(Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
      Data dy = data(gradOutput);
      int p = in.size() / in.dim(0);
      int len = (to - from) * p;
      float[] dx = new float[dy.items * in.size()];
      for (int n = 0; n < dy.items; n++) {
        System.arraycopy(dy.v, n * len, dx, n * in.size() + from * p, len);
      }
      return new Value[] {new Data(dx, dy.items, in)};
    }
  }

  private static final class AttentionKernel implements Kernel {
    private final int heads;

    AttentionKernel(int heads) {
      this.heads = heads;
    }

    /** The softmax weights {@code [items, heads, P, P]}. */
    private double[] weights(Data q, Data k) {
      int c = q.c();
      int p = q.p();
      int d = c / heads;
      double scale = 1 / Math.sqrt(d);
      double[] w = new double[q.items * heads * p * p];
      for (int n = 0; n < q.items; n++) {
        for (int h = 0; h < heads; h++) {
          int base = (n * heads + h) * p * p;
          for (int i = 0; i < p; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < p; j++) {
              double s = 0;
              for (int ch = h * d; ch < (h + 1) * d; ch++) {
                s += (double) q.v[(n * c + ch) * p + i] * k.v[(n * c + ch) * p + j];
              }
              w[base + i * p + j] = s * scale;
              max = Math.max(max, s * scale);
            }
            double z = 0;
            for (int j = 0; j < p; j++) {
              double e = Math.exp(w[base + i * p + j] - max);
              w[base + i * p + j] = e;
              z += e;
            }
            for (int j = 0; j < p; j++) {
              w[base + i * p + j] /= z;
            }
          }
        }
      }
      return w;
    }

    @Override
    public Value forward(Value[] inputs, Pass pass, Saved saved) {
      Data q = data(inputs[0]);
      Data k = data(inputs[1]);
      Data v = data(inputs[2]);
      double[] w = weights(q, k);
      int c = q.c();
      int p = q.p();
      int d = c / heads;
      float[] y = new float[q.v.length];
      for (int n = 0; n < q.items; n++) {
        for (int ch = 0; ch < c; ch++) {
          int base = (n * heads + ch / d) * p * p;
          for (int i = 0; i < p; i++) {
            double acc = 0;
            for (int j = 0; j < p; j++) {
              acc += v.v[(n * c + ch) * p + j] * w[base + i * p + j];
            }
            y[(n * c + ch) * p + i] = (float) acc;
          }
        }
      }
      return new Data(y, q.items, q.shape);
    }

    @Override
    public Value[] backward(Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
      Data q = data(inputs[0]);
      Data k = data(inputs[1]);
      Data v = data(inputs[2]);
      Data dy = data(gradOutput);
      double[] w = weights(q, k);
      int c = q.c();
      int p = q.p();
      int d = c / heads;
      double scale = 1 / Math.sqrt(d);
      double[] dq = new double[q.v.length];
      double[] dk = new double[q.v.length];
      double[] dv = new double[q.v.length];
      for (int n = 0; n < q.items; n++) {
        for (int h = 0; h < heads; h++) {
          int base = (n * heads + h) * p * p;
          double[] dw = new double[p * p];
          for (int ch = h * d; ch < (h + 1) * d; ch++) {
            int row = (n * c + ch) * p;
            for (int i = 0; i < p; i++) {
              double g = dy.v[row + i];
              for (int j = 0; j < p; j++) {
                dv[row + j] += g * w[base + i * p + j];
                dw[i * p + j] += g * v.v[row + j];
              }
            }
          }
          for (int i = 0; i < p; i++) {
            double dot = 0;
            for (int j = 0; j < p; j++) {
              dot += w[base + i * p + j] * dw[i * p + j];
            }
            for (int j = 0; j < p; j++) {
              double ds = w[base + i * p + j] * (dw[i * p + j] - dot) * scale;
              for (int ch = h * d; ch < (h + 1) * d; ch++) {
                int row = (n * c + ch) * p;
                dq[row + i] += ds * k.v[row + j];
                dk[row + j] += ds * q.v[row + i];
              }
            }
          }
        }
      }
      return new Value[] {
        new Data(toFloat(dq), q.items, q.shape), new Data(toFloat(dk), q.items, q.shape), new Data(toFloat(dv), q.items, q.shape)
      };
    }
  }

  private static final class DropoutKernel implements Kernel {
    @Override
    public Value forward(Value[] inputs, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      Data mask = data(inputs[1]);
      float[] y = new float[x.v.length];
      for (int i = 0; i < y.length; i++) {
        y[i] = x.v[i] * mask.v[i];
      }
      return new Data(y, x.items, x.shape);
    }

    @Override
    public Value[] backward(Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
      Data dy = data(gradOutput);
      Data mask = data(inputs[1]);
      float[] dx = new float[dy.v.length];
      for (int i = 0; i < dx.length; i++) {
        dx[i] = dy.v[i] * mask.v[i];
      }
      return new Value[] {new Data(dx, dy.items, dy.shape), null};
    }
  }

  private static final class ReshapeKernel implements Kernel {
    private final Shape to;
    private final Shape from;

    ReshapeKernel(Shape to, Shape from) {
      this.to = to;
      this.from = from;
    }

    @Override
    public Value forward(Value[] inputs, Pass pass, Saved saved) {
      Data x = data(inputs[0]);
      return new Data(x.v.clone(), x.items, to);
    }

    @Override
    public Value[] backward(Value gradOutput, Value[] inputs, Value output, boolean[] needed, Pass pass, Saved saved) {
      Data dy = data(gradOutput);
      return new Value[] {new Data(dy.v.clone(), dy.items, from)};
    }
  }
}
