package io.github.diffusion4j.backend.djl;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.settings.InvalidPropertyException;
import java.util.Locale;
import java.util.Random;

/**
 * The matrix products of linear layers: the forward {@code x W^T + b} (with ReLU applied as it is written, when
 * the layer's only reader is a ReLU), the input gradient {@code dy W} and the weight gradient {@code dy^T x}.
 *
 * <p><b>Two routes.</b> {@link Route#ADDMM} is libtorch's {@code linear} and {@code matmul}, which go to the MKL
 * that libtorch bundles. MKL picks its kernels by the CPU's vendor: on a CPU that is not Intel's (the AMD EPYC
 * Zen 5 this project is measured on) it takes a generic path at 60-80 GFLOP/s where OpenBLAS runs AVX-512
 * kernels at 150-220 (docs/benchmarks.md, "Why DJL's MLP is slow on this CPU"). {@link Route#ONEDNN} is
 * libtorch's oneDNN inner product ({@code torch.ops.mkldnn._linear_pointwise}, reached through {@link
 * ScriptOps}), whose kernels are chosen by the CPU's instruction sets: on that CPU it computed the MLP's products
 * at 1,000 rows in 45-60% of MKL's time (forward 134 against 222 us for {@code [1000, 76] x [76, 128]}), with
 * the bias and the ReLU in the same pass. For small products oneDNN costs ~20 us more a call (the TorchScript
 * call is ~3 us of it), so it takes only products of at least {@value #MIN_MULTIPLY_ADDS} multiply-adds: at
 * 128 rows, a 76-by-128 layer's 1.2 million were as fast or faster on MKL, at 256 rows slower in none of the
 * three forms.
 *
 * <p><b>Where.</b> oneDNN's inner product has no backward function in libtorch's autograd, so it serves only
 * where no graph is recorded: prediction passes (sampling, evaluation) and the passes of networks this backend
 * differentiates by hand (the MLP, {@link DjlLayers}). While grad mode is on, every product goes by {@code
 * addmm}. Both routes compute in float32; their results differ by summation order only.
 *
 * <p><b>Self-check.</b> libtorch's oneDNN has computed wrong convolutions on some CPUs ({@link Convolution}), so
 * the first product of the process that could take the oneDNN route runs a few inner products of odd sizes in
 * every form used here (with and without bias and ReLU, a transposed weight, both operands transposed) and
 * compares them with plain Java in double precision; oneDNN is used only if they pass. The system property
 * {@value #PROPERTY} ({@code onednn} or {@code addmm}) forces a route, for diagnosis and comparisons; a forced
 * oneDNN route that fails the self-check is refused.
 */
final class InnerProduct {
  /** The system property that forces a route. */
  static final String PROPERTY = "diffusion4j.djl.linear";

  /** The smallest product (rows x inputs x outputs) that takes the oneDNN route. */
  static final long MIN_MULTIPLY_ADDS = 1L << 21;

  /** How a product is computed. */
  enum Route {
    /** libtorch's oneDNN inner product. */
    ONEDNN,
    /** libtorch's {@code linear} and {@code matmul} (MKL). */
    ADDMM
  }

  /**
   * The outcome of the self-check.
   *
   * @param route the route of large products where no graph is recorded
   * @param failure why oneDNN failed the self-check, or null
   */
  record Choice(Route route, String failure) {
    /**
     * One line for {@code diffusion info}.
     *
     * @return the description
     */
    String describe() {
      if (route == Route.ONEDNN) {
        return "linear layers: oneDNN inner products from " + MIN_MULTIPLY_ADDS
            + " multiply-adds where no gradient is recorded (self-check passed)";
      }
      return "linear layers: libtorch addmm" + (failure == null ? " (forced)"
          : " (oneDNN's inner products failed the self-check on this CPU: " + failure + ")");
    }
  }

  /**
   * {@code {rows, inputs, outputs}} of each self-check probe: odd sizes, the MLP's layer at 300 rows, and 1,000
   * rows as sampling has them (about 50 ms in all, once a process, on the project's machine).
   */
  static final int[][] PROBES = {{7, 17, 3}, {67, 76, 75}, {33, 512, 40}, {300, 76, 128}, {1000, 40, 24}};

  private static volatile Choice choice;

  private final PtNDManager manager;
  private final ScriptOps ops;

  /**
   * The products of one backend.
   *
   * @param manager the manager of the self-check's arrays, the first time
   * @param ops the backend's TorchScript operators
   */
  InnerProduct(PtNDManager manager, ScriptOps ops) {
    this.manager = manager;
    this.ops = ops;
  }

  /**
   * The forward product {@code x W^T + b}, then ReLU if asked.
   *
   * @param x the input {@code [N, in]}
   * @param w the weight {@code [out, in]}
   * @param b the bias {@code [out]}, or null
   * @param relu whether to apply ReLU to the result
   * @return a new array {@code [N, out]}
   */
  PtNDArray forward(PtNDArray x, PtNDArray w, PtNDArray b, boolean relu) {
    return forward(route(x, w.getShape().get(0)), ops, x, w, b, relu);
  }

  /**
   * The input gradient {@code dy W}.
   *
   * @param dy the output gradient {@code [N, out]}
   * @param w the weight {@code [out, in]}
   * @return a new array {@code [N, in]}
   */
  PtNDArray inputGradient(PtNDArray dy, PtNDArray w) {
    return inputGradient(route(dy, w.getShape().get(1)), ops, dy, w);
  }

  /**
   * The weight gradient {@code dy^T x}.
   *
   * @param dy the output gradient {@code [N, out]}
   * @param x the input {@code [N, in]}
   * @return a new array {@code [out, in]}
   */
  PtNDArray weightGradient(PtNDArray dy, PtNDArray x) {
    return weightGradient(route(dy, x.getShape().get(1)), ops, dy, x);
  }

  /**
   * The route of a product of {@code a [N, k]} (or its transpose) by a {@code k}-by-{@code m} matrix.
   *
   * @param a the first operand
   * @param m the columns of the result
   * @return oneDNN for at least {@link #MIN_MULTIPLY_ADDS} multiply-adds with grad mode off on this thread, where
   *     the self-check passed; else addmm
   */
  Route route(PtNDArray a, long m) {
    long[] dims = a.getShape().getShape();
    long multiplyAdds = dims[0] * dims[1] * m;
    if (multiplyAdds < MIN_MULTIPLY_ADDS || JniUtils.isGradMode()) {
      return Route.ADDMM;
    }
    return choice(manager, ops).route();
  }

  /**
   * The route of this process, chosen by the self-check the first time it is asked for.
   *
   * @param manager a manager for the self-check's arrays (closed before this returns)
   * @param ops the TorchScript operators to check
   * @return the choice
   * @throws IllegalStateException if {@value #PROPERTY} forces oneDNN and it fails the self-check
   */
  static Choice choice(PtNDManager manager, ScriptOps ops) {
    Choice c = choice;
    if (c == null) {
      synchronized (InnerProduct.class) {
        c = choice;
        if (c == null) {
          c = choose(manager, ops, System.getProperty(PROPERTY));
          choice = c;
        }
      }
    }
    return c;
  }

  /**
   * Reads a value of {@value #PROPERTY}; the backend reads it when it is created, so a bad value fails there,
   * before any work.
   *
   * @param forced the value, or null or blank for none
   * @return the forced route, or null
   * @throws IllegalArgumentException naming the property, the value and the allowed ones
   */
  static Route forcedRoute(String forced) {
    if (forced == null || forced.isBlank()) {
      return null;
    }
    try {
      return Route.valueOf(forced.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new InvalidPropertyException(
          "system property " + PROPERTY + ": unknown route '" + forced + "' (allowed: onednn, addmm)");
    }
  }

  /**
   * The choice the self-check makes with a forced route (or none), without caching it.
   *
   * @param manager a manager for the self-check's arrays
   * @param ops the TorchScript operators to check
   * @param forced the value of {@value #PROPERTY}, or null
   * @return the choice
   */
  static Choice choose(PtNDManager manager, ScriptOps ops, String forced) {
    Route forcedRoute = forcedRoute(forced);
    if (forcedRoute == Route.ADDMM) {
      return new Choice(Route.ADDMM, null);
    }
    return decide(forcedRoute, selfCheck(manager, ops));
  }

  /**
   * The choice for a forced route other than addmm (or none) and the self-check's result.
   *
   * @param forcedRoute {@link Route#ONEDNN} or null
   * @param failure what failed the self-check first, or null if it passed
   * @return oneDNN if the self-check passed, else addmm with the failure
   * @throws IllegalStateException if oneDNN is forced and failed the self-check
   */
  static Choice decide(Route forcedRoute, String failure) {
    if (failure != null && forcedRoute == Route.ONEDNN) {
      throw new IllegalStateException("djl: system property " + PROPERTY + "=onednn, but oneDNN's inner products "
          + "failed the self-check on this CPU: " + failure + " (use addmm or leave the property unset)");
    }
    return failure == null ? new Choice(Route.ONEDNN, null) : new Choice(Route.ADDMM, failure);
  }

  /**
   * The forward product on a given route.
   *
   * @param route the route
   * @param ops the TorchScript operators (the oneDNN route's)
   * @param x the input {@code [N, in]}
   * @param w the weight {@code [out, in]}
   * @param b the bias {@code [out]}, or null
   * @param relu whether to apply ReLU
   * @return a new array {@code [N, out]}
   */
  static PtNDArray forward(Route route, ScriptOps ops, PtNDArray x, PtNDArray w, PtNDArray b, boolean relu) {
    if (route == Route.ONEDNN) {
      // the module without a bias ignores its third argument
      return ops.innerProduct(b != null, relu).apply(x, w, b != null ? b : w);
    }
    PtNDArray y = JniUtils.linear(x, w, b);
    if (!relu) {
      return y;
    }
    try (y) {
      return JniUtils.relu(y);
    }
  }

  /**
   * The input gradient on a given route.
   *
   * @param route the route
   * @param ops the TorchScript operators
   * @param dy the output gradient {@code [N, out]}
   * @param w the weight {@code [out, in]}
   * @return a new array {@code [N, in]}
   */
  static PtNDArray inputGradient(Route route, ScriptOps ops, PtNDArray dy, PtNDArray w) {
    if (route == Route.ADDMM) {
      return JniUtils.matmul(dy, w);
    }
    try (PtNDArray wT = JniUtils.transpose(w, 0, 1)) { // a view; oneDNN reads the transposed layout as it is
      return ops.innerProduct(false, false).apply(dy, wT, wT);
    }
  }

  /**
   * The weight gradient on a given route.
   *
   * @param route the route
   * @param ops the TorchScript operators
   * @param dy the output gradient {@code [N, out]}
   * @param x the input {@code [N, in]}
   * @return a new array {@code [out, in]}
   */
  static PtNDArray weightGradient(Route route, ScriptOps ops, PtNDArray dy, PtNDArray x) {
    try (PtNDArray dyT = JniUtils.transpose(dy, 0, 1)) {
      if (route == Route.ADDMM) {
        return JniUtils.matmul(dyT, x);
      }
      try (PtNDArray xT = JniUtils.transpose(x, 0, 1)) {
        return ops.innerProduct(false, false).apply(dyT, xT, xT);
      }
    }
  }

  /**
   * Runs every probe on the oneDNN route.
   *
   * @param manager a manager for the arrays (closed afterwards)
   * @param ops the TorchScript operators to check
   * @return null if every probe passes, else what failed first
   */
  static String selfCheck(PtNDManager manager, ScriptOps ops) {
    Random r = new Random(20261205L);
    try {
      for (int[] p : PROBES) {
        String failure = Probe.random(r, p[0], p[1], p[2]).check(manager, Route.ONEDNN, ops);
        if (failure != null) {
          return failure;
        }
      }
      return null;
    } catch (RuntimeException e) { // an operator libtorch does not have, or refuses here
      return "oneDNN's inner product failed: " + DjlBackend.reason(e);
    }
  }

  /**
   * Random operands of a product {@code [n, in] x [out, in]^T} and its results in double precision ({@link
   * ReferenceConvolution}: a 1x1 convolution of 1x1 images is a linear layer).
   *
   * @param n the rows
   * @param in the inputs
   * @param out the outputs
   * @param x the input
   * @param w the weight
   * @param b the bias
   * @param dy the output gradient
   * @param expected the output, the input gradient and the weight gradient
   */
  record Probe(int n, int in, int out, float[] x, float[] w, float[] b, float[] dy, float[][] expected) {
    /**
     * A probe of standard normal operands.
     *
     * @param r the source of the operands
     * @param n the rows
     * @param in the inputs
     * @param out the outputs
     * @return the probe
     */
    static Probe random(Random r, int n, int in, int out) {
      float[] x = Convolution.SelfCheck.gaussian(r, n * in);
      float[] w = Convolution.SelfCheck.gaussian(r, out * in);
      float[] b = Convolution.SelfCheck.gaussian(r, out);
      float[] dy = Convolution.SelfCheck.gaussian(r, n * out);
      return new Probe(n, in, out, x, w, b, dy,
          new ReferenceConvolution(n, in, 1, 1, out, 1, 1, new int[4]).run(x, w, b, dy));
    }

    /**
     * Computes every form on a route (no graph recorded) and compares it with the expected results to {@link
     * Convolution.SelfCheck#TOLERANCE}.
     *
     * @param manager a manager for the arrays (closed afterwards)
     * @param route the route
     * @param ops the TorchScript operators
     * @return null if every form matches, else the first that does not
     */
    String check(PtNDManager manager, Route route, ScriptOps ops) {
      float[] y = expected[0];
      float[] relu = new float[y.length];
      float[] noBias = new float[y.length];
      for (int i = 0; i < y.length; i++) {
        relu[i] = Math.max(y[i], 0f);
        noBias[i] = y[i] - b[i % out];
      }
      boolean before = JniUtils.isGradMode();
      JniUtils.setGradMode(false);
      try (PtNDManager sub = (PtNDManager) manager.newSubManager()) {
        PtNDArray xa = PtArrays.fromArray(sub, x, n, in);
        PtNDArray wa = PtArrays.fromArray(sub, w, out, in);
        PtNDArray ba = PtArrays.fromArray(sub, b, out);
        PtNDArray dya = PtArrays.fromArray(sub, dy, n, out);
        String f = Convolution.SelfCheck.compare("forward with bias and ReLU",
            PtArrays.read(forward(route, ops, xa, wa, ba, true), y.length), relu);
        if (f == null) {
          f = Convolution.SelfCheck.compare("forward with bias",
              PtArrays.read(forward(route, ops, xa, wa, ba, false), y.length), y);
        }
        if (f == null) {
          f = Convolution.SelfCheck.compare("forward without bias",
              PtArrays.read(forward(route, ops, xa, wa, null, false), y.length), noBias);
        }
        if (f == null) {
          f = Convolution.SelfCheck.compare("input gradient",
              PtArrays.read(inputGradient(route, ops, dya, wa), expected[1].length), expected[1]);
        }
        if (f == null) {
          f = Convolution.SelfCheck.compare("weight gradient",
              PtArrays.read(weightGradient(route, ops, dya, xa), expected[2].length), expected[2]);
        }
        return f == null ? null : String.format(Locale.ROOT, "%s of [%d, %d] x [%d, %d]^T: %s",
            f.substring(0, f.indexOf(':')), n, in, out, in, f.substring(f.indexOf(':') + 2));
      } finally {
        JniUtils.setGradMode(before);
      }
    }
  }
}
