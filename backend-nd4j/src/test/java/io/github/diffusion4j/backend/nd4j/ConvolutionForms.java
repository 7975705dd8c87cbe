package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.model.DdpmUNetSpec;
import io.github.diffusion4j.model.ModelSpec;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.nn.Kernel;
import io.github.diffusion4j.nn.Layer;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.NetworkBuilder;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.nn.Pass;
import io.github.diffusion4j.nn.Saved;
import io.github.diffusion4j.nn.Value;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Times each form of ND4J's convolutions on every distinct 3x3 stride-1 layer of a model, all forms in one JVM
 * and alternating layer by layer, so that the machine's drift between processes does not pass for a difference
 * between forms (docs/benchmarks.md, "Zen 5: which form for which convolution"). Each layer runs alone in a
 * one-layer network on the backend's layer SPI: its forward pass in prediction, and its forward and backward
 * passes in training (the input's gradient too); the best of a number of tries after a warm-up sweep, in
 * milliseconds.
 *
 * <pre>
 *   scripts/convolution-forms.sh ddpm 3 1 direct,winograd,im2col,default
 * </pre>
 *
 * <p>Forms: {@code direct} (this CPU's direct loop on every stride-1 layer), {@code winograd} (F(2x2, 3x3) on
 * every 3x3 stride-1 layer, products in vectors where the Vector API is on), {@code im2col} (products of
 * columns), {@code default} (the backend's own choice, {@link DirectConv.Use#defaults}), {@code default-columns}
 * (that choice with every weight gradient from columns, no {@link DirectWeightGradient}). A speed tool, not a
 * test; {@code ConvolutionFormsTest} runs it on a small batch to keep it working.
 */
public final class ConvolutionForms {
  private ConvolutionForms() {}

  /** One distinct layer: its channels, plane and how many of the model's layers have that shape. */
  record LayerShape(int in, int out, int height, int width, int count) {
    String label() {
      return in + ">" + out + " " + height + "x" + width;
    }
  }

  /** A layer's times: per form, forward and training milliseconds. */
  record Row(LayerShape shape, double[] forward, double[] training) {}

  /**
   * Entry point.
   *
   * @param args the model ({@code unet}: the default U-Net on 1x32x32 at batch 64; {@code ddpm}: the DDPM
   *     authors' CIFAR-10 model at batch 16), the tries per layer, the threads, the forms (comma-separated) and
   *     optionally another batch
   */
  public static void main(String[] args) {
    if (args.length < 4) {
      System.err.println("usage: ConvolutionForms unet|ddpm TRIES THREADS FORM[,FORM...] [BATCH]");
      System.exit(2);
    }
    ModelSpec spec = spec(args[0]);
    int batch = args.length > 4 ? Integer.parseInt(args[4]) : args[0].equals("unet") ? 64 : 16;
    String[] forms = args[3].split(",");
    List<Row> rows = measure(spec, batch, Integer.parseInt(args[1]), Integer.parseInt(args[2]), forms);
    System.out.print(format(rows, forms));
  }

  static ModelSpec spec(String name) {
    return switch (name) {
      case "unet" -> UNetSpec.defaults(Shape.of(1, 32, 32), 1000);
      case "ddpm" -> DdpmUNetSpec.cifar10();
      default -> throw new IllegalArgumentException("model '" + name + "' is unknown (allowed: unet, ddpm)");
    };
  }

  /** The distinct 3x3 stride-1 layers of a network, in order of first appearance. */
  static List<LayerShape> shapes(Network net) {
    Map<String, int[]> found = new LinkedHashMap<>();
    for (Node n : net.nodes()) {
      if (n.layer() instanceof Layer.Conv2d c && c.kernel() == 3 && c.stride() == 1) {
        Shape in = net.node(n.inputs().get(0)).itemShape();
        String key = c.in() + ">" + c.out() + " " + in.dim(1) + "x" + in.dim(2) + " " + c.padding();
        found.computeIfAbsent(key, k -> new int[] {c.in(), c.out(), in.dim(1), in.dim(2), 0})[4]++;
      }
    }
    List<LayerShape> out = new ArrayList<>();
    for (int[] s : found.values()) {
      out.add(new LayerShape(s[0], s[1], s[2], s[3], s[4]));
    }
    return out;
  }

  static DirectConv.Use use(String form) {
    return switch (form) {
      case "default" -> DirectConv.Use.defaults();
      case "default-columns" -> {
        DirectConv.Use d = DirectConv.Use.defaults();
        yield new DirectConv.Use(
            d.simd(), d.everywhere(), d.tileFloats(), d.winogradFloats(), d.winogradVectors(), null);
      }
      case "winograd4", "no-winograd4" -> {
        DirectConv.Use d = DirectConv.Use.defaults();
        yield new DirectConv.Use(d.simd(), d.everywhere(), d.tileFloats(), d.winogradFloats(), d.winogradVectors(),
            d.weightGradient(), form.equals("winograd4"));
      }
      case "im2col" -> new DirectConv.Use(null, false, DirectConv.TILE_FLOATS, 0);
      case "winograd" -> new DirectConv.Use(null, true, DirectConv.TILE_FLOATS, WinogradConv.BUDGET);
      case "direct" -> new DirectConv.Use(DirectConv.SIMD, true, DirectConv.TILE_FLOATS, 0);
      default -> throw new IllegalArgumentException(
          "form '" + form + "' is unknown (allowed: direct, winograd, im2col, default, default-columns)");
    };
  }

  /**
   * Every form on every distinct layer: a warm-up sweep, then the measured one.
   *
   * @return one row per distinct layer
   */
  static List<Row> measure(ModelSpec spec, int batch, int tries, int threads, String[] forms) {
    List<LayerShape> shapes = shapes(spec.network());
    Nd4jBackend[] backends = new Nd4jBackend[forms.length];
    try {
      for (int f = 0; f < forms.length; f++) {
        backends[f] = new Nd4jBackend(NativeRuntime.load(threads), Nd4jLayers.PASS_BYTES, threads, use(forms[f]));
      }
      List<Row> rows = new ArrayList<>();
      for (int sweep = 0; sweep < 2; sweep++) {
        rows.clear();
        for (LayerShape s : shapes) {
          Case[] cases = new Case[forms.length];
          try {
            for (int f = 0; f < forms.length; f++) {
              cases[f] = new Case(backends[f], s, batch);
            }
            double[] forward = new double[forms.length];
            double[] training = new double[forms.length];
            java.util.Arrays.fill(forward, Double.MAX_VALUE);
            java.util.Arrays.fill(training, Double.MAX_VALUE);
            for (int r = 0; r < tries; r++) {
              for (int f = 0; f < forms.length; f++) {
                forward[f] = Math.min(forward[f], cases[f].forward());
                training[f] = Math.min(training[f], cases[f].training());
              }
            }
            rows.add(new Row(s, forward, training));
          } finally {
            for (Case c : cases) {
              if (c != null) {
                c.close();
              }
            }
          }
        }
      }
      return rows;
    } finally {
      for (Nd4jBackend b : backends) {
        if (b != null) {
          b.close();
        }
      }
    }
  }

  /** The table: one line per layer ({@code forward/training} per form) and the totals weighted by count. */
  static String format(List<Row> rows, String[] forms) {
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-16s %4s", "layer", "n"));
    for (String f : forms) {
      b.append(String.format(Locale.ROOT, " %17s", f));
    }
    b.append("   (ms: forward/training)\n");
    double[] forward = new double[forms.length];
    double[] training = new double[forms.length];
    for (Row r : rows) {
      b.append(String.format(Locale.ROOT, "%-16s x%-3d", r.shape().label(), r.shape().count()));
      for (int f = 0; f < forms.length; f++) {
        b.append(String.format(Locale.ROOT, " %8.2f/%8.2f", r.forward()[f], r.training()[f]));
        forward[f] += r.shape().count() * r.forward()[f];
        training[f] += r.shape().count() * r.training()[f];
      }
      b.append('\n');
    }
    b.append(String.format(Locale.ROOT, "%-21s", "weighted by count"));
    for (int f = 0; f < forms.length; f++) {
      b.append(String.format(Locale.ROOT, " %8.1f/%8.1f", forward[f], training[f]));
    }
    return b.append('\n').toString();
  }

  /**
   * One layer on one backend: the 3x3 convolution followed by a 1x1 one back to the input's channels (a network's
   * output must have its input's shape; only the first is timed), its weights, a batch and an output gradient.
   */
  private static final class Case implements AutoCloseable {
    final Nd4jBackend backend;
    final Network network;
    final Kernel kernel;
    final ParameterStore parameters;
    final Tensor input;
    final Tensor gradient;
    final int batch;

    Case(Nd4jBackend backend, LayerShape s, int batch) {
      this.backend = backend;
      this.batch = batch;
      Map<String, int[]> layout = new LinkedHashMap<>();
      layout.put("layer.weight", new int[] {s.out(), s.in(), 3, 3});
      layout.put("layer.bias", new int[] {s.out()});
      layout.put("back.weight", new int[] {s.in(), s.out(), 1, 1});
      layout.put("back.bias", new int[] {s.in()});
      NetworkBuilder b = new NetworkBuilder(layout);
      Node x = b.input(Shape.of(s.in(), s.height(), s.width()));
      Node conv = b.conv("layer", x, s.out(), 3, 1, Layer.Padding.of(1));
      this.network = b.build(b.conv("back", conv, s.in(), 1, 1, Layer.Padding.of(0)));
      this.parameters = backend.layers().parameters(network.parameterShapes());
      float[] w = Noise.seeded(3).normals(parameters.size());
      for (int i = 0; i < w.length; i++) {
        w[i] *= 0.05f;
      }
      parameters.write(ParameterStore.Buffer.WEIGHTS, w);
      this.kernel = backend.layers().kernel(network, network.node(conv.id()), parameters);
      Shape in = Shape.batchOf(batch, Shape.of(s.in(), s.height(), s.width()));
      Shape out = Shape.batchOf(batch, Shape.of(s.out(), s.height(), s.width()));
      this.input = backend.tensors().fromArray(Noise.seeded(1).normals(in.size()), in);
      this.gradient = backend.tensors().fromArray(Noise.seeded(2).normals(out.size()), out);
    }

    /** The forward pass in prediction, in milliseconds. */
    double forward() {
      try (Pass pass = backend.layers().open(network, batch, false)) {
        Value x = pass.input(input, 0);
        long t0 = System.nanoTime();
        Value y = kernel.forward(new Value[] {x}, pass, null);
        long t1 = System.nanoTime();
        pass.release(y);
        pass.release(x);
        return (t1 - t0) / 1e6;
      }
    }

    /** The forward and backward passes in training (the weights' and the input's gradients), in milliseconds. */
    double training() {
      parameters.zeroGradients();
      try (Pass pass = backend.layers().open(network, batch, true)) {
        Value x = pass.input(input, 0);
        Value g = pass.input(gradient, 0);
        Saved saved = new Saved();
        long t0 = System.nanoTime();
        Value y = kernel.forward(new Value[] {x}, pass, saved);
        Value[] dx = kernel.backward(g, new Value[] {x}, y, new boolean[] {true}, pass, saved);
        long t1 = System.nanoTime();
        pass.release(y);
        pass.release(x);
        pass.release(g);
        if (dx[0] != null) {
          pass.release(dx[0]);
        }
        return (t1 - t0) / 1e6;
      }
    }

    @Override
    public void close() {
      input.close();
      gradient.close();
      parameters.close();
    }
  }
}
