package io.github.diffusion4j.backend.djl;

import ai.djl.ndarray.NDList;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.Layer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * libtorch operators that DJL's bindings lack, reached through small TorchScript modules this backend writes
 * itself: {@code torch.group_norm} (one kernel, the per-channel affine applied as it normalises) followed by
 * {@code torch.silu} or {@code torch.relu}, and oneDNN's inner product ({@link InnerProduct}). Without them a
 * group norm is {@code layer_norm} of a grouped view, then a product and a sum for the affine, and SiLU a
 * sigmoid and a product: three more passes over the activations, each with a fresh output, and as many more in
 * the backward pass; and every linear layer's product goes to MKL.
 *
 * <p><b>The modules.</b> A TorchScript archive is a zip of the module's code (Python-like text), its pickled
 * attributes and a format version. {@link #archive} writes the smallest one libtorch loads: a module {@code M}
 * with no parameters whose {@code forward(x, w, b)} calls the operators with the group count and epsilon
 * written into the code (the layout of {@code torch.jit.save}'s output; {@code torch/csrc/jit/serialization}
 * reads it). One module per (groups, epsilon, activation), loaded once per backend from memory (no file) and
 * closed with the backend's manager.
 *
 * <p><b>Gradients.</b> The module runs with the calling thread's grad mode: in a training pass libtorch's
 * autograd records {@code group_norm}'s and {@code silu}'s own backward functions (the group means and
 * reciprocal deviations saved, {@code 2 N G} floats, and the activation's input); in a prediction pass nothing
 * is recorded.
 */
final class ScriptOps {
  /** The TorchScript format version written (the one PyTorch 1.13's {@code torch.jit.save} writes). */
  static final String FORMAT_VERSION = "3";

  /** The parameters of the modules that take three tensors. */
  private static final String TENSORS = "x: Tensor, w: Tensor, b: Tensor";

  private final PtNDManager manager;
  private final Map<String, Module> modules = new ConcurrentHashMap<>();

  /**
   * Operators whose modules live as long as a manager.
   *
   * @param manager the manager the modules are attached to (the backend's root)
   */
  ScriptOps(PtNDManager manager) {
    this.manager = manager;
  }

  /**
   * The module of {@code activation(group_norm(x, groups, w, b, eps))}, loaded the first time it is asked for.
   *
   * @param groups the number of groups, dividing the input's channels
   * @param eps added to the variance
   * @param activation the activation applied to the result, or null for none
   * @return the module; its {@link Module#apply} takes {@code x [N, C, ...]}, {@code w [C]}, {@code b [C]}
   */
  Module groupNorm(int groups, double eps, Layer.Function activation) {
    String body = "torch.group_norm(x, " + groups + ", w, b, " + eps + ")";
    if (activation != null) {
      body = switch (activation) {
        case SILU -> "torch.silu(" + body + ")";
        case RELU -> "torch.relu(" + body + ")";
      };
    }
    return modules.computeIfAbsent(body, b -> new Module(load(b)));
  }

  /**
   * The module of oneDNN's inner product {@code x w^T + b} ({@code torch.ops.mkldnn._linear_pointwise}, which
   * reads transposed views of its operands as they are), with ReLU applied as it writes the result if asked.
   * It has no backward function: it serves only where no graph is recorded ({@link InnerProduct}).
   *
   * @param bias whether to add the third argument as the bias; without, the third argument is ignored
   * @param relu whether to apply ReLU
   * @return the module; its {@link Module#apply} takes {@code x [N, in]}, {@code w [out, in]}, {@code b [out]}
   */
  Module innerProduct(boolean bias, boolean relu) {
    String body = "ops.mkldnn._linear_pointwise(x, w, " + (bias ? "b" : "None") + ", \"" + (relu ? "relu" : "none")
        + "\", annotate(List[Optional[number]], []), None)";
    return modules.computeIfAbsent(body, b -> new Module(load(b)));
  }

  /**
   * {@code a x + b y}, or {@code a x + b y + c z}, in one output array: {@code torch.mul}, then {@code add_}
   * with {@code alpha} for each further term (libtorch's fused multiply-add loop), so two or three passes over
   * the values where DJL's bindings need a product per term, a sum per term after the first and a scalar array
   * per coefficient. For tensors' arithmetic, whose arrays are outside any graph.
   *
   * @param x the first term's array
   * @param a its coefficient
   * @param y the second term's array, of {@code x}'s shape
   * @param b its coefficient
   * @param z the third term's array, of {@code x}'s shape, or null for two terms
   * @param c its coefficient (ignored without {@code z})
   * @return a new array on {@code x}'s manager
   */
  PtNDArray combine(PtNDArray x, double a, PtNDArray y, double b, PtNDArray z, double c) {
    int terms = z == null ? 2 : 3;
    String params = "x: Tensor, a: float, y: Tensor, b: float" + (terms == 2 ? "" : ", z: Tensor, c: float");
    String body = "    r = torch.mul(x, a)\n"
        + "    r0 = torch.add_(r, y, alpha=b)\n"
        + (terms == 2 ? "" : "    r1 = torch.add_(r, z, alpha=c)\n")
        + "    return r\n";
    PtSymbolBlock block = modules.computeIfAbsent(params + body, k -> new Module(load(params, body))).block();
    IValue[] args = z == null
        ? new IValue[] {IValue.from(x), IValue.from(a), IValue.from(y), IValue.from(b)}
        : new IValue[] {IValue.from(x), IValue.from(a), IValue.from(y), IValue.from(b), IValue.from(z), IValue.from(c)};
    try {
      JniUtils.setGraphExecutorOptimize(false);
      try (IValue out = IValueUtils.forward(block, args)) {
        return out.toTensor(x.getManager());
      }
    } finally {
      for (IValue v : args) {
        v.close();
      }
    }
  }

  /**
   * A loaded module.
   *
   * @param block DJL's handle of it
   */
  record Module(PtSymbolBlock block) {
    /**
     * Runs the module's {@code forward}.
     *
     * @param x the first argument
     * @param w the second
     * @param b the third
     * @return a new array on {@code x}'s manager
     */
    PtNDArray apply(PtNDArray x, PtNDArray w, PtNDArray b) {
      // the plain interpreter: no profiling runs, no specialisation to the shapes seen (a module serves every
      // group norm of a network, at many shapes); the setting is the calling thread's
      JniUtils.setGraphExecutorOptimize(false);
      // is_train true: no guard of DJL's, so the thread's grad mode decides whether a graph is recorded
      NDList out = IValueUtils.forward(block, new NDList(x, w, b), true);
      return (PtNDArray) out.singletonOrThrow();
    }
  }

  private PtSymbolBlock load(String body) {
    return load(TENSORS, "    return " + body + "\n");
  }

  private PtSymbolBlock load(String params, String body) {
    byte[] bytes = archive(params, body);
    try {
      return JniUtils.loadModule(manager, new ByteArrayInputStream(bytes), false, false);
    } catch (IOException e) {
      throw new UncheckedIOException("djl: loading the TorchScript module of " + body, e);
    }
  }

  /**
   * A TorchScript archive of a module {@code M} without parameters whose {@code forward(x, w, b)} is the
   * given body.
   *
   * @param body the body of {@code forward}, indented by four spaces, ending in a newline
   * @return the archive's bytes
   */
  static byte[] archive(String body) {
    return archive(TENSORS, body);
  }

  /**
   * A TorchScript archive of a module {@code M} without parameters whose {@code forward} takes the given
   * parameters and has the given body.
   *
   * @param params the parameters after {@code self}, with their types ({@code x: Tensor, a: float})
   * @param body the body of {@code forward}, each line indented by four spaces and ending in a newline
   * @return the archive's bytes
   */
  static byte[] archive(String params, String body) {
    String code = "class M(Module):\n"
        + "  __parameters__ = []\n"
        + "  __buffers__ = []\n"
        + "  training : bool\n"
        + "  def forward(self: __torch__.M, " + params + ") -> Tensor:\n"
        + body;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      // pickle protocol 2: an object of class __torch__.M whose state is {'training': False}
      put(zip, "m/data.pkl", pickle("(X\u0008\u0000\u0000\u0000trainingq\u0001\u0089ubq\u0002."));
      put(zip, "m/code/__torch__.py", code.getBytes(StandardCharsets.UTF_8));
      put(zip, "m/constants.pkl", pickle(null)); // the empty tuple
      put(zip, "m/version", (FORMAT_VERSION + "\n").getBytes(StandardCharsets.US_ASCII));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in memory: not expected
    }
    return out.toByteArray();
  }

  /** A protocol-2 pickle: the module object with the given state opcodes, or the empty tuple for null. */
  private static byte[] pickle(String state) {
    String p = state == null
        ? "\u0080\u0002)."
        : "\u0080\u0002c__torch__\nM\nq\u0000)\u0081}" + state;
    return p.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** One uncompressed entry (libtorch's reader needs no compression; sizes and CRC up front). */
  private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(data.length);
    e.setCompressedSize(data.length);
    CRC32 crc = new CRC32();
    crc.update(data);
    e.setCrc(crc.getValue());
    zip.putNextEntry(e);
    zip.write(data);
    zip.closeEntry();
  }
}
