package io.github.diffusion4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.model.UNet2DConfig;
import io.github.diffusion4j.model.UNet2DSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A diffusers folder holding a {@code UNet2DModel}: the {@code DDPMPipeline} layout of the published DDPM models
 * ({@code model_index.json}, {@code unet/config.json}, {@code unet/diffusion_pytorch_model.safetensors},
 * {@code scheduler/scheduler_config.json}), or a model folder ({@code config.json} and the weights side by side,
 * with {@code scheduler_config.json} beside them if there is one).
 *
 * <p>{@link #read} takes the weights from {@code diffusion_pytorch_model.safetensors}, else from
 * {@code diffusion_pytorch_model.bin} (a {@code torch.save} file, read by {@link TorchCheckpoint} without running
 * it), else from {@code diffusion_pytorch_model.fp16.safetensors}, judging the names and shapes of either kind of
 * file before reading its values (an integer buffer the model lacks is an unexpected entry, an empty tensor where it
 * has a parameter one of the wrong shape, a parameter that is not floating-point is refused by its dtype); renames the attention parameters of older
 * folders ({@code query}, {@code key}, {@code value}, {@code proj_attn}) to the current names ({@code to_q},
 * {@code to_k}, {@code to_v}, {@code to_out.0}) as diffusers does when it loads them; and checks that the weights
 * are exactly the layout of the config. Every problem is a {@link CheckpointException} naming the file and key. Keys
 * of {@value #CONFIG} that {@code UNet2DModel} does not take, and of {@value #SCHEDULER} that neither
 * {@code DDPMScheduler} nor {@code DDIMScheduler} takes, are ignored with one warning per file naming them.
 *
 * <p>{@link #write} writes a {@code DDPMPipeline} folder atomically that {@code DDPMPipeline.from_pretrained} and
 * {@code UNet2DModel.from_pretrained(dir, subfolder="unet")} load.
 *
 * @param directory the folder
 * @param configFile the {@code config.json} read
 * @param weightsFile the weights file read
 * @param unet the model's configuration
 * @param weights the weights under diffusers' current names, in the config's state-dict order
 * @param scheduler the scheduler configuration, if the folder has one
 */
public record DiffusersFolder(
    Path directory, Path configFile, Path weightsFile, UNet2DConfig unet, StateDict weights,
    Optional<SchedulerConfig> scheduler) {
  private static final Logger LOG = LoggerFactory.getLogger(DiffusersFolder.class);

  /** A pipeline's component list. */
  public static final String MODEL_INDEX = "model_index.json";
  /** A model's configuration. */
  public static final String CONFIG = "config.json";
  /** A model's weights. */
  public static final String WEIGHTS = "diffusion_pytorch_model.safetensors";
  /** A model's weights as a {@code torch.save} file (older folders). */
  public static final String WEIGHTS_BIN = "diffusion_pytorch_model.bin";
  /** A model's half-precision weights. */
  public static final String WEIGHTS_FP16 = "diffusion_pytorch_model.fp16.safetensors";
  /** A scheduler's configuration. */
  public static final String SCHEDULER = "scheduler_config.json";

  private static final Set<String> PIPELINES = Set.of("DDPMPipeline", "DDIMPipeline");
  /**
   * The schedulers whose maths the built-in samplers compute; another's settings (PNDM's, Euler's) would be sampled
   * with other maths than the folder names.
   */
  private static final Set<String> SCHEDULERS = Set.of("DDPMScheduler", "DDIMScheduler");
  private static final Map<String, String> DEPRECATED = Map.of("query", "to_q", "key", "to_k", "value", "to_v",
      "proj_attn", "to_out.0");

  /**
   * Checks for nulls.
   *
   * @param directory the folder
   * @param configFile the config file
   * @param weightsFile the weights file
   * @param unet the configuration
   * @param weights the weights
   * @param scheduler the scheduler configuration
   */
  public DiffusersFolder {
    if (directory == null || configFile == null || weightsFile == null || unet == null || weights == null || scheduler == null) {
      throw new IllegalArgumentException("every component of a diffusers folder is required");
    }
  }

  /**
   * The UNet's {@value #CONFIG} of a diffusers folder: {@code unet/}{@value #CONFIG} where the folder has one (a
   * pipeline, {@code DDPMPipeline.save_pretrained}), else the folder's own (a bare {@code UNet2DModel}).
   *
   * @param directory the folder
   * @return the file (which need not exist)
   */
  public static Path unetConfigFile(Path directory) {
    Path inUnet = directory.resolve("unet").resolve(CONFIG);
    return Files.isRegularFile(inUnet) ? inUnet : directory.resolve(CONFIG);
  }

  /**
   * Whether a path is a diffusers folder (it has {@value #MODEL_INDEX}, {@code unet/}{@value #CONFIG}, or a
   * {@value #CONFIG} beside a {@value #SCHEDULER}, or diffusers weights in it or in {@code unet/}) rather than a
   * diffusion4j checkpoint or run folder; a model folder whose weights or {@value #CONFIG} are missing is one, so that
   * reading it says which file it lacks, and so is a {@value #CONFIG} beside weights under another name and no
   * {@code config.yaml} (a checkpoint's {@code model.safetensors}, {@code pytorch_model.bin}), so that reading it says
   * the names it reads.
   *
   * @param path a path
   * @return true if it looks like a diffusers folder
   */
  public static boolean isDiffusersFolder(Path path) {
    if (!Files.isDirectory(path)) {
      return false;
    }
    boolean renamed = Files.isRegularFile(path.resolve(CONFIG)) && !Files.exists(path.resolve(Checkpoint.CONFIG_FILE))
        && !otherWeights(path).isEmpty();
    if (Files.exists(path.resolve(Checkpoint.MODEL_FILE))) {
      return renamed;
    }
    return Files.isRegularFile(path.resolve(MODEL_INDEX)) || Files.isRegularFile(path.resolve("unet").resolve(CONFIG))
        || (Files.isRegularFile(path.resolve(CONFIG)) && Files.isRegularFile(path.resolve(SCHEDULER)))
        || hasWeights(path) || hasWeights(path.resolve("unet")) || renamed;
  }

  /**
   * The files of a folder that look like weights (a {@code .safetensors}, {@code .bin}, {@code .ckpt}, {@code .pt} or
   * {@code .pth} file) under another name than those {@link #read} reads, sorted.
   */
  private static List<String> otherWeights(Path dir) {
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      return files.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
          .filter(n -> !n.equals(WEIGHTS) && !n.equals(WEIGHTS_BIN) && !n.equals(WEIGHTS_FP16))
          .filter(n -> java.util.stream.Stream.of(".safetensors", ".bin", ".ckpt", ".pt", ".pth")
              .anyMatch(e -> n.toLowerCase(java.util.Locale.ROOT).endsWith(e)))
          .sorted().toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      return List.of(); // a folder that cannot be listed: reading it names the weights it lacks
    }
  }

  private static boolean hasWeights(Path dir) {
    return Files.exists(dir.resolve(WEIGHTS)) || Files.exists(dir.resolve(WEIGHTS_BIN))
        || Files.exists(dir.resolve(WEIGHTS_FP16));
  }

  /**
   * Reads a diffusers folder.
   *
   * @param directory a {@code DDPMPipeline} folder or a {@code UNet2DModel} folder
   * @return the folder's model and scheduler
   * @throws CheckpointException naming the file and key if something is missing, malformed or not supported
   */
  public static DiffusersFolder read(Path directory) {
    return read(directory, true, true);
  }

  /**
   * Reads a diffusers folder for its model alone, as the start of a training run ({@code training.init_from}): a
   * scheduler of another class than {@code DDPMScheduler} and {@code DDIMScheduler} (a pipeline saved after
   * {@code pipe.scheduler = DPMSolverMultistepScheduler...}) is not refused, since the run's own schedule and
   * samplers replace it. Keys of {@value #SCHEDULER} that the samplers do not take are ignored without a warning, and
   * so are those of {@value #CONFIG} that {@code UNet2DModel} does not take, without the warning {@link #read} gives:
   * the run's checks before it starts ({@code diffusion config --check} makes them too) read the same {@value #CONFIG}
   * and warn of them, once.
   *
   * @param directory a {@code DDPMPipeline} folder or a {@code UNet2DModel} folder
   * @return the folder's model and scheduler
   * @throws CheckpointException naming the file and key if the model is missing, malformed or not supported
   */
  public static DiffusersFolder readModel(Path directory) {
    return read(directory, false, false);
  }

  /**
   * The files that {@link #read} reads from a folder, relative to it and with {@code /} between names, in the order it
   * reads them: {@value #MODEL_INDEX} if there is one, the model's {@value #CONFIG}, its one weights file (the first of
   * {@value #WEIGHTS}, {@value #WEIGHTS_BIN}, {@value #WEIGHTS_FP16} that is there) and the scheduler's
   * {@value #SCHEDULER} if there is one, in {@code unet/} and {@code scheduler/} for a pipeline folder. For a copy of a
   * folder that loads as the folder does (a cluster's executors get these files); files that are missing are left out
   * ({@link #read} names them).
   *
   * @param directory a {@code DDPMPipeline} folder or a {@code UNet2DModel} folder
   * @return the relative names of the files that are there
   */
  public static List<String> files(Path directory) {
    List<String> files = new ArrayList<>();
    if (Files.isRegularFile(directory.resolve(MODEL_INDEX))) {
      files.add(MODEL_INDEX);
    }
    boolean pipeline = !unetConfigFile(directory).getParent().equals(directory);
    String unet = pipeline ? "unet/" : "";
    if (Files.isRegularFile(directory.resolve(unet + CONFIG))) {
      files.add(unet + CONFIG);
    }
    Optional<Path> weights = weightsFileIfAny(pipeline ? directory.resolve("unet") : directory);
    weights.ifPresent(w -> files.add(unet + w.getFileName()));
    String scheduler = (pipeline ? "scheduler/" : "") + SCHEDULER;
    if (Files.isRegularFile(directory.resolve(scheduler))) {
      files.add(scheduler);
    }
    return List.copyOf(files);
  }

  private static DiffusersFolder read(Path directory, boolean forSampling, boolean warn) {
    return readHeader(directory, forSampling, warn).readWeights();
  }

  /**
   * What {@link #read} reads of a diffusers folder before its weights, the files of a few kilobytes: the folder's
   * {@value #MODEL_INDEX} (checked), the model's {@value #CONFIG}, the scheduler's {@value #SCHEDULER} if there is one,
   * and which weights file is there (not a Git LFS pointer). For checks that the configuration alone decides (an
   * override's backend, sampler or steps), made before the weights are read: a minute for a 256x256 model.
   *
   * @param directory the folder
   * @param configFile the {@code config.json} read
   * @param weightsFile the weights file {@link #readWeights} reads
   * @param unet the model's configuration
   * @param scheduler the scheduler configuration, if the folder has one
   */
  public record Header(Path directory, Path configFile, Path weightsFile, UNet2DConfig unet,
      Optional<SchedulerConfig> scheduler) {
    /**
     * Checks for nulls.
     *
     * @param directory the folder
     * @param configFile the config file
     * @param weightsFile the weights file
     * @param unet the configuration
     * @param scheduler the scheduler configuration
     */
    public Header {
      if (directory == null || configFile == null || weightsFile == null || unet == null || scheduler == null) {
        throw new IllegalArgumentException("every component of a diffusers folder's header is required");
      }
    }

    /**
     * Reads the weights, checked against {@link #unet} as {@link DiffusersFolder#read} checks them.
     *
     * @return the folder with its weights
     * @throws CheckpointException naming the file and key if the weights are malformed or do not fit the config
     */
    public DiffusersFolder readWeights() {
      Map<String, int[]> layout = layout(unet);
      String what = weightsFile.getFileName() + "'s weights";
      StateDict weights;
      try {
        weights = renameDeprecated(weightsFile.getFileName().toString().equals(WEIGHTS_BIN)
            ? readBin(weightsFile, layout, what) : readSafeTensors(weightsFile, layout, what), weightsFile);
        weights.requireLayout(layout, what);
      } catch (IllegalArgumentException e) {
        throw CheckpointException.of(weightsFile, "does not fit " + configFile + ": " + e.getMessage());
      }
      StateDict.Builder ordered = StateDict.builder();
      layout.keySet().forEach(name -> ordered.put(name, weights.get(name)));
      return new DiffusersFolder(directory, configFile, weightsFile, unet, ordered.build(), scheduler);
    }
  }

  /**
   * Reads what {@link #read} reads of a folder before its weights ({@link Header}), with its checks and warnings (of
   * {@value #CONFIG}'s keys that {@code UNet2DModel} does not take, and of {@value #SCHEDULER}'s that neither
   * {@code DDPMScheduler} nor {@code DDIMScheduler} takes); {@link Header#readWeights} then reads the weights.
   * {@code readHeader(dir).readWeights()} is {@code read(dir)}.
   *
   * @param directory a {@code DDPMPipeline} folder or a {@code UNet2DModel} folder
   * @return the folder's files, model and scheduler configuration
   * @throws CheckpointException naming the file and key if something is missing, malformed or not supported
   */
  public static Header readHeader(Path directory) {
    return readHeader(directory, true, true);
  }

  /**
   * {@link #readHeader} without its warnings: for a look at a folder ahead of the load that reads it again (and
   * warns once), as a command's checks before the load are.
   *
   * @param directory a {@code DDPMPipeline} folder or a {@code UNet2DModel} folder
   * @return the folder's files, model and scheduler configuration
   * @throws CheckpointException naming the file and key if something is missing, malformed or not supported
   */
  public static Header readHeaderQuietly(Path directory) {
    return readHeader(directory, true, false);
  }

  private static Header readHeader(Path directory, boolean forSampling, boolean warn) {
    if (!Files.isDirectory(directory)) {
      throw CheckpointException.of(directory, Files.exists(directory) ? "not a folder" : "no such folder");
    }
    Path unetDir = directory;
    Path schedulerDir = directory;
    Path index = directory.resolve(MODEL_INDEX);
    if (Files.isRegularFile(index)) {
      checkIndex(index, forSampling);
    }
    Path configFile = unetConfigFile(directory);
    if (!Files.isRegularFile(configFile)) {
      Optional<Path> weights = weightsFileIfAny(directory).or(() -> weightsFileIfAny(directory.resolve("unet")));
      throw CheckpointException.of(directory, weights.map(w -> "no " + CONFIG + " in it or in unet/ beside the "
          + "weights (" + directory.relativize(w) + "); a diffusers folder holds the UNet2DModel's " + CONFIG
          + " with its weights").orElse("not a diffusers folder: no " + CONFIG + " in it or in unet/"));
    }
    if (!configFile.getParent().equals(directory)) {
      unetDir = directory.resolve("unet");
      schedulerDir = directory.resolve("scheduler");
    }
    UNet2DConfig config = readConfig(configFile, warn);
    Path weightsFile = weightsFile(unetDir);
    rejectLfsPointer(weightsFile);
    Path schedulerFile = schedulerDir.resolve(SCHEDULER);
    Optional<SchedulerConfig> scheduler = Files.isRegularFile(schedulerFile)
        ? Optional.of(readScheduler(schedulerFile, warn)) : Optional.empty();
    if (forSampling) {
      scheduler.ifPresent(c -> checkScheduler(schedulerFile, "_class_name", c.className()));
    }
    return new Header(directory, configFile, weightsFile, config, scheduler);
  }

  /**
   * The state-dict layout of a configuration (it does not depend on the image size).
   *
   * @param config the configuration
   * @return the names and shapes, in diffusers' order
   */
  public static Map<String, int[]> layout(UNet2DConfig config) {
    int side = 1 << (config.levels() - 1);
    return new UNet2DSpec(io.github.diffusion4j.tensor.Shape.of(config.inChannels(), side, side), 1,
        config.withSampleSize(List.of())).parameterShapes();
  }

  private static void checkIndex(Path index, boolean forSampling) {
    JsonNode root = StrictJson.parseObject(FileSupport.readUtf8(index), index, "");
    JsonNode cls = root.get("_class_name");
    String name = cls != null && cls.isTextual() ? cls.textValue() : "";
    if (!PIPELINES.contains(name)) {
      throw CheckpointException.of(index, "key '_class_name': " + (name.isEmpty() ? "missing" : "'" + name + "'")
          + " is not supported; diffusion4j loads unconditional pixel-space pipelines " + new java.util.TreeSet<>(PIPELINES)
          + " (a UNet2DModel and a scheduler)");
    }
    for (java.util.Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (k.startsWith("_")) {
        continue;
      }
      JsonNode v = root.get(k);
      boolean known = k.equals("unet") || k.equals("scheduler");
      if (!known) {
        throw CheckpointException.of(index, "key '" + k + "': a pipeline with a " + k + " component is not supported; "
            + "supported are a unet and a scheduler");
      }
      if (forSampling && k.equals("scheduler") && v.isArray() && v.size() == 2 && v.get(1).isTextual()) {
        checkScheduler(index, "scheduler", v.get(1).textValue());
      }
      if (k.equals("unet") && !(v.isArray() && v.size() == 2 && UNet2DConfig.CLASS_NAME.equals(v.get(1).asText()))) {
        throw CheckpointException.of(index, "key 'unet': " + StrictJson.kind(v) + " is not supported; supported is [\"diffusers\", \""
            + UNet2DConfig.CLASS_NAME + "\"]");
      }
    }
  }

  /**
   * Refuses a scheduler other than {@code DDPMScheduler} and {@code DDIMScheduler}: its settings describe other
   * maths (PNDM's, Euler's), which the built-in samplers would not compute.
   */
  private static void checkScheduler(Path file, String key, String className) {
    if (!SCHEDULERS.contains(className)) {
      throw CheckpointException.of(file, "key '" + key + "': '" + StrictJson.abbreviate(className) + "' is not "
          + "supported; allowed are " + new java.util.TreeSet<>(SCHEDULERS) + " (diffusion4j samples with DDPM or "
          + "DDIM; to sample this model with DDIM, as diffusers' DDIMPipeline does, write \"DDIMScheduler\" there)");
    }
  }

  /**
   * Reads a {@code config.json} of a {@code UNet2DModel}; keys diffusers' {@code UNet2DModel} does not take are
   * ignored with a warning, as diffusers does.
   *
   * @param file the file
   * @return the configuration
   * @throws CheckpointException naming the file and key of a malformed or unsupported value
   */
  public static UNet2DConfig readConfig(Path file) {
    return readConfig(file, true);
  }

  private static UNet2DConfig readConfig(Path file, boolean warn) {
    Map<String, Object> values = jsonObject(FileSupport.readUtf8(file), file);
    if (warn) {
      warnOfIgnoredKeys(file, "UNet2DModel does not take", UNet2DConfig.unknownKeys(values));
    }
    try {
      return UNet2DConfig.fromMap(values);
    } catch (UNet2DConfig.InvalidValue e) {
      throw CheckpointException.of(file, "key '" + e.key() + "': " + e.detail());
    }
  }

  /**
   * A {@value #SCHEDULER}; with {@code warn}, keys that neither {@code DDPMScheduler} nor {@code DDIMScheduler} takes
   * are warned of, as {@value #CONFIG}'s are.
   */
  private static SchedulerConfig readScheduler(Path file, boolean warn) {
    String json = FileSupport.readUtf8(file);
    SchedulerConfig config = SchedulerConfig.fromJson(json, file.toString());
    if (warn) {
      warnOfIgnoredKeys(file, "DDPMScheduler and DDIMScheduler do not take", SchedulerConfig.unknownKeys(
          jsonObject(json, file)));
    }
    return config;
  }

  /** The keys and values of a JSON object. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> jsonObject(String json, Path file) {
    return StrictJson.mapper().convertValue(StrictJson.parseObject(json, file, ""), LinkedHashMap.class);
  }

  /** One warning naming the file and the keys a class does not take, which reading it ignores (as diffusers does). */
  private static void warnOfIgnoredKeys(Path file, String notTaking, Set<String> unknown) {
    if (!unknown.isEmpty()) {
      LOG.warn("{}: ignoring keys that {} (as diffusers does): {}", file, notTaking, unknown);
    }
  }

  /** The weights file {@link #read} reads from a model folder: the first of those it knows that is there. */
  private static Optional<Path> weightsFileIfAny(Path dir) {
    for (String name : new String[] {WEIGHTS, WEIGHTS_BIN, WEIGHTS_FP16}) {
      if (Files.isRegularFile(dir.resolve(name))) {
        return Optional.of(dir.resolve(name));
      }
    }
    return Optional.empty();
  }

  private static Path weightsFile(Path dir) {
    Optional<Path> found = weightsFileIfAny(dir);
    if (found.isPresent()) {
      return found.get();
    }
    for (String name : new String[] {WEIGHTS, WEIGHTS_BIN}) {
      if (Files.exists(dir.resolve(name + ".index.json"))) {
        // what save_pretrained writes for a model larger than its max_shard_size: the published DDPM models are not
        throw CheckpointException.of(dir, "weights split into shards (" + name + ".index.json) are not supported; "
            + "one file is read: " + WEIGHTS + ", " + WEIGHTS_BIN + " or " + WEIGHTS_FP16 + " (save_pretrained with "
            + "a max_shard_size above the model's size writes one)");
      }
    }
    List<String> others = otherWeights(dir);
    if (!others.isEmpty()) {
      String first = others.get(0);
      String lower = first.toLowerCase(java.util.Locale.ROOT);
      String to = !lower.endsWith(".safetensors") ? WEIGHTS_BIN : lower.contains("fp16") ? WEIGHTS_FP16 : WEIGHTS;
      throw CheckpointException.of(dir, "a diffusers folder (" + CONFIG + ") whose weights file has another name: "
          + String.join(", ", others) + "; its weights are read from " + WEIGHTS + ", " + WEIGHTS_BIN + " or "
          + WEIGHTS_FP16 + ": rename " + first + " to " + to);
    }
    throw CheckpointException.of(dir, "no weights: expected " + WEIGHTS + " (or " + WEIGHTS_BIN + ", " + WEIGHTS_FP16
        + "); a hub repository's weights come with git lfs (git lfs install before git clone, or git lfs pull)");
  }

  /** A file that Git LFS has not fetched holds a small text pointer instead of the weights. */
  private static void rejectLfsPointer(Path file) {
    try (java.io.InputStream in = Files.newInputStream(file)) {
      String head = new String(in.readNBytes(40), StandardCharsets.ISO_8859_1);
      if (head.startsWith("version https://git-lfs")) {
        throw CheckpointException.of(file, "is a Git LFS pointer, not the weights: run 'git lfs install' and "
            + "'git lfs pull' in the clone (or clone again after 'git lfs install')");
      }
    } catch (IOException e) {
      throw CheckpointException.of(file, "cannot read: " + FileProblems.describe(e), e);
    }
  }

  /**
   * The state dict of a {@code torch.save} file, its names (under the current attention names) and shapes checked
   * against the layout before a tensor is read: a tensor the model does not have (a BatchNorm's int64
   * {@code num_batches_tracked}, an empty tensor) is named as any entry it does not expect, and a parameter that is
   * not floating-point is refused.
   *
   * @throws IllegalArgumentException naming the first entry that does not fit the layout
   */
  private static StateDict readBin(Path file, Map<String, int[]> layout, String what) {
    try (TorchCheckpoint c = TorchCheckpoint.open(file)) {
      List<String> names = c.stateDictNames();
      if (!names.contains("")) {
        throw CheckpointException.of(file, "holds " + c.describeRoot() + ", not a state dict");
      }
      StateDict.requireShapes(underCurrentNames(c.shapes(""), file), layout, what);
      return c.parameters("");
    }
  }

  /**
   * The tensors of a safetensors file, checked as {@link #readBin} checks a {@code torch.save} file's: names (under
   * the current attention names) and shapes against the layout first, then the dtypes of the parameters.
   *
   * @throws IllegalArgumentException naming the first entry that does not fit the layout
   */
  private static StateDict readSafeTensors(Path file, Map<String, int[]> layout, String what) {
    try (SafeTensorsReader f = SafeTensors.open(file)) {
      StateDict.requireShapes(underCurrentNames(f.shapes(), file), layout, what);
      return f.parameters();
    }
  }

  /**
   * Entries under diffusers' current attention names ({@link #currentName}), in the same order.
   *
   * @throws CheckpointException if {@code source} holds a parameter under both its old and its current name
   */
  private static <V> Map<String, V> underCurrentNames(Map<String, V> byName, Path source) {
    Map<String, V> out = new LinkedHashMap<>();
    byName.forEach((name, value) -> {
      String now = currentName(name);
      if (!now.equals(name) && byName.containsKey(now)) {
        throw CheckpointException.of(source, "holds both '" + name + "' and '" + now + "'");
      }
      out.put(now, value);
    });
    return out;
  }

  /** A name under diffusers' current attention names ({@link #renameDeprecated}); other names as they are. */
  private static String currentName(String name) {
    String[] parts = name.split("\\.");
    int at = parts.length - 2;
    if (at >= 2 && parts[at - 2].equals("attentions") && DEPRECATED.containsKey(parts[at])) {
      parts[at] = DEPRECATED.get(parts[at]);
      return String.join(".", parts);
    }
    return name;
  }

  /**
   * The weights with the attention parameters of older folders renamed as diffusers renames them on load
   * ({@code _fix_state_dict_keys_on_load}: {@code query} to {@code to_q}, {@code key} to {@code to_k},
   * {@code value} to {@code to_v}, {@code proj_attn} to {@code to_out.0}, in the attention blocks).
   *
   * @param weights the weights
   * @param source the file, for messages
   * @return the weights under the current names, in the same order
   */
  public static StateDict renameDeprecated(StateDict weights, Path source) {
    StateDict.Builder b = StateDict.builder();
    underCurrentNames(weights.entries(), source).forEach(b::put);
    long renamed = weights.names().stream().filter(n -> !currentName(n).equals(n)).count();
    if (renamed > 0) {
      LOG.info("{}: renamed {} attention parameters from diffusers' older names (query, key, value, proj_attn)", source,
          renamed);
    }
    return b.build();
  }

  // ------------------------------------------------------------------------------------------ write

  /**
   * The {@value #MODEL_INDEX} of a {@code DDPMPipeline}.
   *
   * @return the JSON text
   */
  static String modelIndexJson() {
    Map<String, Object> m = new TreeMap<>();
    m.put("_class_name", "DDPMPipeline");
    m.put("_diffusers_version", UNet2DConfig.DIFFUSERS_VERSION);
    m.put("scheduler", List.of("diffusers", "DDPMScheduler"));
    m.put("unet", List.of("diffusers", UNet2DConfig.CLASS_NAME));
    return StrictJson.pretty(m) + "\n";
  }

  /**
   * Writes a {@code DDPMPipeline} folder atomically (a temporary sibling, flushed, renamed), replacing what is at
   * {@code directory}: {@value #MODEL_INDEX}, {@code unet/}{@value #CONFIG}, {@code unet/}{@value #WEIGHTS},
   * {@code scheduler/}{@value #SCHEDULER}.
   *
   * @param directory the folder
   * @param config the model's configuration
   * @param weights its weights, in {@link #layout}'s names and shapes
   * @param scheduler the scheduler configuration ({@code _class_name} is written as {@code DDPMScheduler})
   * @throws CheckpointException if the weights do not fit the config or writing fails
   */
  public static void write(Path directory, UNet2DConfig config, StateDict weights, SchedulerConfig scheduler) {
    try {
      weights.requireLayout(layout(config), "diffusers weights");
    } catch (IllegalArgumentException e) {
      throw CheckpointException.of(directory, e.getMessage());
    }
    byte[] configJson = (StrictJson.pretty(config.toMap()) + "\n").getBytes(StandardCharsets.UTF_8);
    byte[] schedulerJson = scheduler.withClassName("DDPMScheduler").toJson().getBytes(StandardCharsets.UTF_8);
    byte[] index = modelIndexJson().getBytes(StandardCharsets.UTF_8);
    checkReplaceable(directory);
    try {
      AtomicFiles.writeDirectory(directory, tmp -> {
        Files.createDirectory(tmp.resolve("unet"));
        Files.createDirectory(tmp.resolve("scheduler"));
        AtomicFiles.writeDurably(tmp.resolve(MODEL_INDEX), out -> out.write(index));
        AtomicFiles.writeDurably(tmp.resolve("unet").resolve(CONFIG), out -> out.write(configJson));
        AtomicFiles.writeDurably(tmp.resolve("unet").resolve(WEIGHTS),
            out -> SafeTensors.write(out, weights, Map.of("format", "pt"), directory.resolve("unet").resolve(WEIGHTS)));
        AtomicFiles.writeDurably(tmp.resolve("scheduler").resolve(SCHEDULER), out -> out.write(schedulerJson));
        AtomicFiles.fsyncDirectory(tmp.resolve("unet"));
        AtomicFiles.fsyncDirectory(tmp.resolve("scheduler"));
      });
    } catch (IOException e) {
      throw CheckpointWriteException.of(directory, "cannot write the diffusers folder: " + FileProblems.describe(e), e);
    }
  }

  /**
   * Refuses to replace a folder that holds files {@link #write} would not write again (a README, a {@code .git}
   * folder, another pipeline component of a cloned hub repository): replacing the folder would delete them.
   *
   * @param directory the folder to be written (it need not exist)
   * @throws CheckpointException naming the first such file
   */
  public static void checkReplaceable(Path directory) {
    foreignFile(directory).ifPresent(f -> {
      throw CheckpointException.of(directory, "holds " + directory.relativize(f) + ", which writing a diffusers "
          + "folder there would delete; choose a new folder, or move such files out first");
    });
  }

  /**
   * The first file or folder under an existing {@code directory} that {@link #write} would not write again.
   *
   * @param directory the folder {@link #write} is to replace
   * @return the first such path (sorted), empty if there is none or the folder does not exist
   */
  private static java.util.Optional<Path> foreignFile(Path directory) {
    if (!Files.isDirectory(directory)) {
      return java.util.Optional.empty();
    }
    java.util.Set<Path> ours = java.util.Set.of(Path.of(MODEL_INDEX), Path.of("unet"), Path.of("scheduler"),
        Path.of("unet", CONFIG), Path.of("unet", WEIGHTS), Path.of("scheduler", SCHEDULER));
    try (java.util.stream.Stream<Path> walk = Files.walk(directory)) {
      return walk.filter(p -> !p.equals(directory))
          .filter(p -> !ours.contains(directory.relativize(p)))
          .sorted()
          .findFirst();
    } catch (IOException | java.io.UncheckedIOException e) {
      return java.util.Optional.empty();
    }
  }
}
