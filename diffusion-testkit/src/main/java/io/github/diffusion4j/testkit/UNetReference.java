package io.github.diffusion4j.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.diffusion4j.io.NpyWriter;
import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.random.RandomGenerator;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The U-Net's reference material: the golden file {@code unet_golden.json} written by
 * {@code python3 docs/unet_reference.py golden}, the Java port of that script's {@code test_weights}, its
 * fixed inputs, and the live exchange with the script when Python and PyTorch are installed.
 */
public final class UNetReference {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PYTHON = "/usr/bin/python3";

  private UNetReference() {}

  /**
   * One golden case.
   *
   * @param name its name
   * @param spec the architecture (T = 1000)
   * @param timesteps the batch's timesteps
   * @param output the module's output for {@link #testWeights} and {@link #input}
   * @param loss {@code mean((output - target)^2)}
   * @param entries per state-dict entry, in order
   */
  public record Case(
      String name, UNetSpec spec, int[] timesteps, float[] output, double loss, List<Entry> entries) {

    /**
     * The batch shape.
     *
     * @return {@code [N, C, H, W]}
     */
    public Shape batch() {
      return Shape.batchOf(timesteps.length, spec.imageShape());
    }
  }

  /**
   * One state-dict entry of a golden case.
   *
   * @param name the name
   * @param shape the shape
   * @param initHead the first (up to) 4 values of {@code initial_weights(initSeed)}
   * @param initSum their sum over the whole entry
   * @param gradHead the first (up to) 4 values of the loss gradient
   * @param gradL2 the L2 norm of the loss gradient
   */
  public record Entry(String name, int[] shape, float[] initHead, double initSum, double[] gradHead, double gradL2) {}

  /**
   * The golden file.
   *
   * @param weightSeed the seed of {@link #testWeights}
   * @param initSeed the seed of the initial weights recorded
   * @param cases the cases
   */
  public record Golden(long weightSeed, long initSeed, List<Case> cases) {}

  /**
   * Reads the golden file from the class path.
   *
   * @return its content
   */
  public static Golden golden() {
    GoldenCases.Golden<UNetSpec> g = GoldenCases.read("unet_golden.json", UNetReference::spec);
    List<Case> cases = new ArrayList<>();
    for (GoldenCases.Case<UNetSpec> c : g.cases()) {
      List<Entry> entries = new ArrayList<>();
      for (GoldenCases.Entry e : c.entries()) {
        entries.add(new Entry(e.name(), e.shape(), e.initHead(), e.initSum(), e.gradHead(), e.gradL2()));
      }
      cases.add(new Case(c.name(), c.spec(), c.timesteps(), c.output(), c.loss(), entries));
    }
    return new Golden(g.weightSeed(), g.initSeed(), cases);
  }

  private static UNetSpec spec(JsonNode c) {
    return new UNetSpec(Shape.of(GoldenCases.ints(c.get("image_shape"))), 1000, c.get("base_channels").asInt(),
        GoldenCases.intList(c.get("channel_mult")), c.get("num_res_blocks").asInt(), c.get("attention").asBoolean(),
        c.get("groups").asInt(), c.has("dropout") ? c.get("dropout").asDouble() : 0.0);
  }

  /**
   * The reference script's {@code test_weights} ({@link GoldenCases#testWeights}).
   *
   * @param spec the architecture
   * @param seed the seed
   * @return the weights
   */
  public static StateDict testWeights(UNetSpec spec, long seed) {
    return GoldenCases.testWeights(spec.parameterShapes(), seed);
  }

  /**
   * The golden input ({@link GoldenCases#input}).
   *
   * @param size the number of values
   * @return the input, row-major
   */
  public static float[] input(int size) {
    return GoldenCases.input(size);
  }

  /**
   * The golden target ({@link GoldenCases#target}).
   *
   * @param size the number of values
   * @return the target, row-major
   */
  public static float[] target(int size) {
    return GoldenCases.target(size);
  }

  // ---------------------------------------------------------------- live exchange with the script

  /**
   * The reference script, found from the working directory upwards.
   *
   * @return its path, or null if not found
   */
  public static Path script() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      Path p = dir.resolve("docs").resolve("unet_reference.py");
      if (Files.isRegularFile(p)) {
        return p;
      }
      dir = dir.getParent();
    }
    return null;
  }

  /**
   * Why the live comparison cannot run here, or null if it can: it needs the script and
   * {@code /usr/bin/python3} with PyTorch.
   *
   * @return the reason, or null
   */
  public static String unavailable() {
    if (script() == null) {
      return "docs/unet_reference.py not found above " + Path.of("").toAbsolutePath();
    }
    try {
      Process p = new ProcessBuilder(PYTHON, "-c", "import torch, numpy").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        return PYTHON + " cannot import torch and numpy";
      }
      return null;
    } catch (IOException e) {
      return PYTHON + " cannot be run: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  /**
   * What the script computed.
   *
   * @param names the module's state-dict names, in order
   * @param output the module's output
   * @param loss the loss, if a target was given
   * @param gradients the loss gradients by name, if a target was given
   */
  public record Result(List<String> names, float[] output, double loss, Map<String, float[]> gradients) {}

  /**
   * Runs the script's {@code exchange} command: the module with the given weights on one batch, and with a
   * target the loss and its gradients; with masks, the residual blocks' dropout uses them.
   *
   * @param spec the architecture
   * @param weights the weights
   * @param x the batch, row-major
   * @param timesteps its timesteps
   * @param target the target, or null
   * @param masks one dropout mask per residual block in {@link UNetSpec#resBlocks()} order, or null
   * @param dir a directory for the exchange files
   * @return the result
   */
  public static Result run(UNetSpec spec, StateDict weights, float[] x, int[] timesteps, float[] target,
      List<float[]> masks, Path dir) {
    try {
      ObjectNode req = JSON.createObjectNode();
      ObjectNode config = req.putObject("config");
      ArrayNode shape = config.putArray("image_shape");
      for (int d : spec.imageShape().dims()) {
        shape.add(d);
      }
      config.put("base_channels", spec.baseChannels());
      ArrayNode mult = config.putArray("channel_mult");
      spec.channelMult().forEach(mult::add);
      config.put("num_res_blocks", spec.numResBlocks());
      config.put("attention", spec.attention());
      config.put("groups", spec.groups());
      config.put("dropout", spec.dropout());
      ObjectNode sd = req.putObject("state_dict");
      weights.entries().forEach((name, a) -> tensor(sd.putObject(name), a.shape().dims(), a.toArray()));
      Shape batch = Shape.batchOf(timesteps.length, spec.imageShape());
      tensor(req.putObject("x"), batch.dims(), x);
      ArrayNode t = req.putArray("t");
      for (int v : timesteps) {
        t.add(v);
      }
      if (target != null) {
        tensor(req.putObject("target"), batch.dims(), target);
      }
      if (masks != null) {
        ArrayNode m = req.putArray("masks");
        List<UNetSpec.ResBlock> blocks = spec.resBlocks();
        for (int i = 0; i < masks.size(); i++) {
          UNetSpec.ResBlock b = blocks.get(i);
          Shape item = spec.activation(b.level(), b.outChannels());
          tensor(m.addObject(), Shape.batchOf(timesteps.length, item).dims(), masks.get(i));
        }
      }
      Path in = dir.resolve("unet_request.json");
      Path out = dir.resolve("unet_result.json");
      JSON.writeValue(in.toFile(), req);
      Process p = new ProcessBuilder(PYTHON, script().toString(), "exchange", in.toString(), out.toString())
          .redirectErrorStream(true).start();
      String log = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("unet_reference.py exchange failed: " + log);
      }
      JsonNode res = JSON.readTree(out.toFile());
      List<String> names = new ArrayList<>();
      res.get("names").forEach(n -> names.add(n.asText()));
      Map<String, float[]> grads = new java.util.LinkedHashMap<>();
      if (res.has("gradients")) {
        res.get("gradients").properties().forEach(e -> grads.put(e.getKey(), GoldenCases.floats(e.getValue().get("data"))));
      }
      return new Result(names, GoldenCases.floats(res.get("output").get("data")),
          res.has("loss") ? res.get("loss").asDouble() : Double.NaN, grads);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Runs the script's {@code predict} command on a {@code model.safetensors} written by diffusion4j, as a
   * user checking a checkpoint would: the input and timesteps go in as {@code .npy} files (timesteps as
   * float32, exact below 2^24), the output comes back as one.
   *
   * @param safetensors the weights file
   * @param groups the GroupNorm groups (the one setting the weights do not imply)
   * @param x the batch
   * @param shape its shape
   * @param timesteps its timesteps
   * @param dir a directory for the files
   * @return the script's output, row-major
   */
  public static float[] predictFile(Path safetensors, int groups, float[] x, Shape shape, int[] timesteps, Path dir) {
    try {
      Path xs = dir.resolve("x.npy");
      Path ts = dir.resolve("t.npy");
      Path out = dir.resolve("out.npy");
      NpyWriter.write(xs, x, shape);
      float[] t = new float[timesteps.length];
      for (int i = 0; i < t.length; i++) {
        t[i] = timesteps[i];
      }
      NpyWriter.write(ts, t, Shape.of(t.length));
      Process p = new ProcessBuilder(PYTHON, script().toString(), "predict", safetensors.toString(),
          xs.toString(), ts.toString(), out.toString(), "--config", "{\"groups\": " + groups + "}")
          .redirectErrorStream(true).start();
      String log = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("unet_reference.py predict failed: " + log);
      }
      return readNpy(out, shape.size());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The values of a little-endian float32 {@code .npy} file (version 1 or 2 header) of known size. */
  private static float[] readNpy(Path file, int size) throws IOException {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Files.readAllBytes(file)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    int major = b.get(6);
    int headerLength = major == 1 ? Short.toUnsignedInt(b.getShort(8)) : b.getInt(8);
    int start = (major == 1 ? 10 : 12) + headerLength;
    String header = new String(Files.readAllBytes(file), start - headerLength, headerLength,
        java.nio.charset.StandardCharsets.ISO_8859_1);
    if (!header.contains("'<f4'")) {
      throw new IOException(file + ": expected little-endian float32, header " + header.strip());
    }
    float[] out = new float[size];
    b.position(start);
    b.asFloatBuffer().get(out);
    return out;
  }

  private static void tensor(ObjectNode node, int[] shape, float[] data) {
    ArrayNode s = node.putArray("shape");
    for (int d : shape) {
      s.add(d);
    }
    ArrayNode a = node.putArray("data");
    for (float v : data) {
      a.add(v);
    }
  }
}
