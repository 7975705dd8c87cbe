package io.github.diffusion4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test per kind of bad input: each asserts the exact one-line message, i.e. the location
 * ({@code file:line:col}), the key path and the text.
 */
class ConfigErrorsTest {

  @TempDir Path dir;

  /** Loads YAML text named {@code run.yaml}, expecting an error, and checks that it is one line. */
  static ConfigException error(String yaml) {
    return oneLine(assertThrows(ConfigException.class, () -> ConfigLoader.loadString(yaml, "run.yaml")));
  }

  static ConfigException oneLine(ConfigException e) {
    assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), e.getMessage());
    return e;
  }

  static void assertError(String expected, String yaml) {
    assertEquals(expected, error(yaml).getMessage());
  }

  @Test
  void imagesToLogIsCheckedAgainstTheBatchOnlyWhereImagesAreLogged() {
    ConfigException e = error("training:\n  batch_size: 2\n  images_to_log: 3\n");
    assertTrue(e.getMessage().contains("training.images_to_log: must be at most batch_size (2), got 3")
        || e.getMessage().contains("training.batch_size: must be at least images_to_log (3), got 2"), e.getMessage());
    assertEquals(2, ConfigLoader.loadString("training:\n  batch_size: 2\n  image_log_every: 0\n", "run.yaml")
        .training().batchSize());
  }

  // ---- YAML itself --------------------------------------------------------------------------------

  @Test
  void syntaxErrorReportsSnakeYamlsPositionOnOneLine() {
    ConfigException e = error("seed: 1\ntraining:\n  epochs: 5: 6\n");
    assertEquals("run.yaml:3:12: YAML syntax error: mapping values are not allowed here", e.getMessage());
    assertEquals("run.yaml", e.file());
    assertEquals(3, e.line());
    assertEquals(12, e.column());
    assertEquals("", e.path());
  }

  @Test
  void unclosedFlowListNamesWhereItStarted() {
    // the list swallows "5\nseed" as one plain scalar and stops at the next ':'
    assertError("run.yaml:3:5: YAML syntax error: expected ',' or ']', but got : "
        + "(while parsing a flow sequence started at line 2, column 16)",
        "data:\n  image_shape: [3, 5, 5\nseed: 3\n");
  }

  @Test
  void tabIndentationIsNamed() {
    assertError("run.yaml:3:1: tab character used for indentation; YAML indents with spaces only",
        "training:\n  epochs: 5\n\tbatch_size: 3\n");
  }

  @Test
  void tabAfterColonIsNamed() {
    assertError("run.yaml:1:6: tab character after 'seed:'; YAML separates keys and values with spaces only",
        "seed:\t3\n");
  }

  @Test
  void duplicateKeyPointsAtTheSecondAndNamesTheFirst() {
    assertError("run.yaml:4:3: training.epochs: duplicate key; it is already given at line 2, column 3 "
        + "(each key may appear once)", "training:\n  epochs: 1\n  batch_size: 2\n  epochs: 2\n");
  }

  @Test
  void duplicateSectionIsRejected() {
    assertError("run.yaml:3:1: training: duplicate key; it is already given at line 1, column 1 "
        + "(each key may appear once)", "training:\n  epochs: 1\ntraining:\n  batch_size: 2\n");
  }

  @Test
  void duplicateKeyInAFlowMappingIsRejected() {
    assertError("run.yaml:1:32: sampling.options.order: duplicate key; it is already given at line 1, "
        + "column 22 (each key may appear once)", "sampling: {options: {order: 1, order: 2}}\n");
  }

  @Test
  void aliasesAreRejected() {
    assertError("run.yaml:2:7: seed: YAML aliases (*s) are not supported in config files; write the value out",
        "threads: &s 1\nseed: *s\n");
  }

  @Test
  void secondDocumentIsRejected() {
    assertError("run.yaml:3:1: a config file holds one YAML document, found a second one (after '---')",
        "seed: 1\n---\nseed: 2\n");
  }

  @Test
  void emptyAndCommentOnlyFilesAreRejected() {
    String expected = "run.yaml: the file is empty; expected a mapping of configuration keys such as "
        + "'backend: nd4j' (run 'diffusion config' to see every key)";
    assertError(expected, "");
    assertError(expected, "# nothing here\n\n   \n");
  }

  @Test
  void rootMustBeAMapping() {
    assertError("run.yaml:1:1: expected a mapping of configuration keys (backend, seed, data, model, ...), "
        + "got a list", "- seed: 1\n");
    assertError("run.yaml:1:1: expected a mapping of configuration keys (backend, seed, data, model, ...), "
        + "got 'hello'", "hello\n");
  }

  // ---- files --------------------------------------------------------------------------------------

  @Test
  void missingFile() {
    Path missing = dir.resolve("nope.yaml");
    ConfigException e = oneLine(assertThrows(ConfigException.class, () -> ConfigLoader.load(missing)));
    assertEquals(missing + ": no such file (looked for " + missing.toAbsolutePath().normalize() + ")",
        e.getMessage());
    assertEquals(0, e.line());
  }

  @Test
  void directoryInsteadOfFile() {
    ConfigException e = oneLine(assertThrows(ConfigException.class, () -> ConfigLoader.load(dir)));
    assertEquals(dir + ": is a directory, not a YAML file", e.getMessage());
  }

  @Test
  void fifoInsteadOfFileIsNamedWithoutBlocking() throws Exception {
    Path fifo = dir.resolve("run.yaml");
    Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    org.junit.jupiter.api.Assumptions.assumeTrue(mk.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)
        && mk.exitValue() == 0, "mkfifo is available");
    // reading a FIFO without a writer would block forever; the check comes first
    Throwable e = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        ConfigLoader.load(fifo);
        return null;
      } catch (ConfigException ce) {
        return ce;
      }
    }).get(60, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(fifo + ": is not a regular file (a FIFO, socket or device)", e.getMessage());
  }

  /** SnakeYAML scans one long token in quadratic time (85 s for a 20 MB key) before its own limit stops it. */
  @Test
  void aFileLongerThanTheLimitIsRefusedBeforeParsing() throws IOException {
    String key = "k".repeat(YamlTree.MAX_CODE_POINTS + 1);
    ConfigException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
        () -> error(key + ": 1\n"));
    assertEquals("run.yaml: holds " + (YamlTree.MAX_CODE_POINTS + 5) + " characters; a config file holds at most "
        + YamlTree.MAX_CODE_POINTS, e.getMessage());
    Path f = dir.resolve("big.yaml");
    try (java.io.RandomAccessFile r = new java.io.RandomAccessFile(f.toFile(), "rw")) {
      r.setLength(4L * YamlTree.MAX_CODE_POINTS + 1); // sparse: nothing is written
    }
    e = oneLine(assertThrows(ConfigException.class, () -> ConfigLoader.load(f)));
    assertEquals(f + ": holds " + (4L * YamlTree.MAX_CODE_POINTS + 1) + " bytes; a config file holds at most "
        + YamlTree.MAX_CODE_POINTS + " characters", e.getMessage());
  }

  @Test
  void emptyFileOnDisk() throws IOException {
    Path f = Files.writeString(dir.resolve("empty.yaml"), "");
    ConfigException e = oneLine(assertThrows(ConfigException.class, () -> ConfigLoader.load(f)));
    assertTrue(e.getMessage().startsWith(f + ": the file is empty;"), e.getMessage());
  }

  @Test
  void nonUtf8ByteIsLocated() throws IOException {
    // "output:\n  name: caf\xE9\n" in ISO-8859-1: 0xE9 is not valid UTF-8 on its own
    byte[] bytes = "seed: 1\noutput:\n  name: caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1);
    Path f = Files.write(dir.resolve("latin1.yaml"), bytes);
    ConfigException e = oneLine(assertThrows(ConfigException.class, () -> ConfigLoader.load(f)));
    assertEquals(f + ":3:12: not valid UTF-8 (byte 0xE9 at offset 27); save the file as UTF-8", e.getMessage());
    assertEquals(3, e.line());
    assertEquals(12, e.column());
  }

  /**
   * A configuration saved as UTF-16 (Windows PowerShell's {@code >}, Notepad's "Unicode") is named as UTF-16: it was
   * "not valid UTF-8 (byte 0xFF at offset 0)" with a byte-order mark and "YAML syntax error: special characters are
   * not allowed" without one.
   */
  @Test
  void utf16AndUtf32AreNamed() throws IOException {
    String text = "seed: 1\n";
    byte[] le = text.getBytes(StandardCharsets.UTF_16LE);
    byte[] leMarked = new byte[le.length + 2];
    leMarked[0] = (byte) 0xFF;
    leMarked[1] = (byte) 0xFE;
    System.arraycopy(le, 0, leMarked, 2, le.length);
    Object[][] cases = {
        {leMarked, "UTF-16 (little-endian)"},
        {text.getBytes(StandardCharsets.UTF_16), "UTF-16 (big-endian)"}, // Java's UTF_16 writes FE FF first
        {le, "UTF-16 or UTF-32 (little-endian, without a byte-order mark)"},
        {text.getBytes(StandardCharsets.UTF_16BE), "UTF-16 (big-endian, without a byte-order mark)"},
        {"\uFEFFseed: 1\n".getBytes(java.nio.charset.Charset.forName("UTF-32LE")), "UTF-32 (little-endian)"},
        {"\uFEFFseed: 1\n".getBytes(java.nio.charset.Charset.forName("UTF-32BE")), "UTF-32 (big-endian)"}};
    for (Object[] c : cases) {
      Path f = Files.write(dir.resolve("utf.yaml"), (byte[]) c[0]);
      ConfigException e = oneLine(assertThrows(ConfigException.class, () -> ConfigLoader.load(f)));
      assertEquals(f + ":1:1: the file is " + c[1] + ", not UTF-8; save it as UTF-8 (Windows PowerShell's > and "
          + "Notepad's 'Unicode' write UTF-16)", e.getMessage());
    }
  }

  @Test
  void utf8WithByteOrderMarkAndNonAsciiCommentsLoads() throws IOException {
    byte[] bytes = "\uFEFF# caf\u00e9 \u2013 \u6e2c\u8a66\nseed: 7\n".getBytes(StandardCharsets.UTF_8);
    Path f = Files.write(dir.resolve("bom.yaml"), bytes);
    assertEquals(7L, ConfigLoader.load(f).seed());
  }

  @Test
  void columnsCountCharactersNotBytes() throws IOException {
    // the key after a 3-byte character: the column counts it as one
    Path f = Files.writeString(dir.resolve("u.yaml"), "{\u00e9: 1, seed: x}\n", StandardCharsets.UTF_8);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f));
    assertEquals(f + ":1:2: \u00e9: unknown key; allowed: backend, seed, threads, data, model, schedule, "
        + "training, sampling, output", e.getMessage());
  }

  // ---- keys ---------------------------------------------------------------------------------------

  @Test
  void unknownKeySuggestsTheClosestAndListsAllowed() {
    ConfigException e = error("schedule:\n  num_train_timesteps: 100\n  beta_start: 0.0001\n"
        + "  beta_shedule: linear\n");
    assertEquals("run.yaml:4:3: schedule.beta_shedule: unknown key; did you mean 'beta_schedule'? "
        + "(allowed: num_train_timesteps, beta_start, beta_end, beta_schedule, prediction_type, "
        + "rescale_betas_zero_snr)", e.getMessage());
    assertEquals("schedule.beta_shedule", e.path());
    assertEquals("unknown key; did you mean 'beta_schedule'? (allowed: num_train_timesteps, beta_start, "
        + "beta_end, beta_schedule, prediction_type, rescale_betas_zero_snr)", e.detail());
  }

  @Test
  void unknownTopLevelKey() {
    assertError("run.yaml:2:1: trainig: unknown key; did you mean 'training'? (allowed: backend, seed, "
        + "threads, data, model, schedule, training, sampling, output)", "seed: 1\ntrainig:\n  epochs: 3\n");
  }

  @Test
  void unknownKeyWithoutACloseMatchListsAllowedOnly() {
    assertError("run.yaml:2:5: output.colour: unknown key; allowed: dir, name", "output:\n    colour: red\n");
  }

  @Test
  void unknownKeyInNestedSection() {
    assertError("run.yaml:3:5: training.ema.decy: unknown key; did you mean 'decay'? (allowed: enabled, "
        + "decay, update_after_step, use_warmup, inv_gamma, power, min_decay)",
        "training:\n  ema:\n    decy: 0.9\n");
  }

  @Test
  void keyOfAnotherKindIsRejected() {
    assertError("run.yaml:3:3: model.base_channels: applies only when kind is unet or ddpm (kind here is mlp); "
        + "remove it or change kind", "model:\n  kind: mlp\n  base_channels: 64\n");
    assertError("run.yaml:3:3: data.pad_to: applies only when kind is idx (kind here is gradients); "
        + "remove it or change kind", "data:\n  image_shape: [1, 28, 28]\n  pad_to: 32\n");
  }

  /**
   * A kind changed by an override, where the file gives keys of the old kind (the bundled tutorial's model.hidden
   * under --set model.kind=unet): said at the override, with the way out the command line has (the file's key
   * cannot be removed from there); the section given whole then loads.
   */
  @Test
  void kindChangedByAnOverrideNamesTheOverrideAndTheWholeSection() {
    String yaml = "model:\n  kind: mlp\n  hidden: 64\n";
    ConfigException e = oneLine(assertThrows(ConfigException.class,
        () -> ConfigLoader.loadString(yaml, "run.yaml", List.of("model.kind=unet"))));
    assertEquals("--set model.kind=unet: model.hidden: applies only when kind is mlp (kind here is unet); it is given "
        + "at run.yaml:3:3: give the section whole to change its kind (--set 'model={kind: unet}' replaces it, with "
        + "the keys of that kind you add)", e.getMessage());
    assertEquals(io.github.diffusion4j.config.ModelConfig.Kind.UNET,
        ConfigLoader.loadString(yaml, "run.yaml", List.of("model={kind: unet}")).model().kind());
    // both from overrides, or both from the file: at the key, as before
    assertEquals("--set model.hidden=8: model.hidden: applies only when kind is mlp (kind here is unet); remove it or "
        + "change kind", oneLine(assertThrows(ConfigException.class, () -> ConfigLoader.loadString("seed: 1\n",
            "run.yaml", List.of("model.kind=unet", "model.hidden=8")))).getMessage());
  }

  // ---- types --------------------------------------------------------------------------------------

  @Test
  void stringForNumber() {
    assertError("run.yaml:2:3: training.epochs: expected an integer, got 'abc'", "training:\n  epochs: abc\n");
    assertError("run.yaml:2:3: training.learning_rate: expected a number, got 'fast'",
        "training:\n  learning_rate: fast\n");
  }

  @Test
  void quotedNumberIsAString() {
    assertError("run.yaml:2:3: training.epochs: expected an integer, got '20'", "training:\n  epochs: \"20\"\n");
  }

  @Test
  void fractionForInteger() {
    assertError("run.yaml:2:3: training.batch_size: expected an integer, got 12.5",
        "training:\n  batch_size: 12.5\n");
    assertError("run.yaml:2:3: training.batch_size: expected an integer, got 128.0",
        "training:\n  batch_size: 128.0\n");
  }

  @Test
  void listForMapping() {
    ConfigException e = error("training: [1, 2]\n");
    assertEquals("run.yaml:1:1: training: expected a mapping (a section with keys epochs, batch_size, "
        + "learning_rate, lr_schedule, lr_warmup_steps, adam_beta1, adam_beta2, adam_epsilon, weight_decay, max_grad_norm, ema, log_every, "
        + "image_log_every, images_to_log, checkpoint_every, keep_checkpoints, init_from), got a list", e.getMessage());
  }

  @Test
  void mappingForScalarAndListForScalar() {
    assertError("run.yaml:1:1: seed: expected an integer, got a mapping", "seed: {a: 1}\n");
    assertError("run.yaml:2:3: schedule.beta_start: expected a number, got a list",
        "schedule:\n  beta_start: [0.1]\n");
  }

  @Test
  void scalarForList() {
    assertError("run.yaml:2:3: sampling.timesteps: expected a list of integers such as [1, 2], got 5",
        "sampling:\n  timesteps: 5\n");
  }

  @Test
  void nonBooleanForBoolean() {
    assertError("run.yaml:2:3: sampling.clip_sample: expected true or false, got 'maybe'",
        "sampling:\n  clip_sample: maybe\n");
  }

  @Test
  void nullForRequiredValue() {
    assertError("run.yaml:2:3: training.epochs: expected an integer, got nothing (null)", "training:\n  epochs:\n");
  }

  @Test
  void nonFiniteNumber() {
    assertError("run.yaml:2:3: training.learning_rate: must be a finite number, got .inf",
        "training:\n  learning_rate: .inf\n");
    assertError("run.yaml:2:3: sampling.eta: must be a finite number, got .nan", "sampling:\n  eta: .nan\n");
  }

  @Test
  void integerTooLarge() {
    assertError("run.yaml:2:3: training.epochs: must be at most 2147483647 (the largest 32-bit integer), got 99999999999",
        "training:\n  epochs: 99999999999\n");
    assertError("run.yaml:1:1: seed: must fit in 64 bits (between -9223372036854775808 and "
        + "9223372036854775807), got 99999999999999999999", "seed: 99999999999999999999\n");
  }

  @Test
  void shapeMustHaveThreePositiveDimensions() {
    assertError("run.yaml:2:3: data.image_shape: expected [C, H, W] (a list of 3 positive integers), got a "
        + "list of 2", "data:\n  image_shape: [5, 5]\n");
    assertError("run.yaml:2:20: data.image_shape[1]: must be at least 1, got 0", "data:\n  image_shape: [3, 0, 5]\n");
  }

  // ---- ranges -------------------------------------------------------------------------------------

  @Test
  void zeroAndNegativeSizes() {
    assertError("run.yaml:7:3: training.batch_size: must be at least 1, got 0",
        "backend: nd4j\nseed: 42\ndata:\n  train_size: 1000\ntraining:\n  epochs: 3\n  batch_size: 0\n");
    assertError("run.yaml:2:3: training.epochs: must be at least 1, got -3", "training:\n  epochs: -3\n");
    assertError("run.yaml:1:1: threads: must be between 1 and 1024, got 0", "threads: 0\n");
    assertError("run.yaml:2:3: data.train_size: must be at least 1 when kind is gradients, got 0",
        "data:\n  train_size: 0\n");
    assertError("run.yaml:2:3: sampling.count: must be at least 1, got 0", "sampling:\n  count: 0\n");
    assertError("run.yaml:2:3: schedule.num_train_timesteps: must be at least 2, got 1",
        "schedule:\n  num_train_timesteps: 1\n");
  }

  @Test
  void betasOutsideTheOpenUnitInterval() {
    assertError("run.yaml:2:3: schedule.beta_end: must be in (0, 1), got 1.0", "schedule:\n  beta_end: 1\n");
    assertError("run.yaml:2:3: schedule.beta_end: must be in (0, 1), got 1.5", "schedule:\n  beta_end: 1.5\n");
    assertError("run.yaml:2:3: schedule.beta_start: must be in (0, 1), got 0.0", "schedule:\n  beta_start: 0\n");
    assertError("run.yaml:2:3: schedule.beta_start: must be in (0, 1), got -1.0e-4",
        "schedule:\n  beta_start: -1e-4\n");
  }

  @Test
  void betaEndMustExceedBetaStartReportedAtTheKeyThatWasWritten() {
    assertError("run.yaml:3:3: schedule.beta_end: must be greater than beta_start (0.05), got 0.01",
        "schedule:\n  beta_start: 0.05\n  beta_end: 0.01\n");
    assertError("run.yaml:2:3: schedule.beta_end: must be greater than beta_start (1.0e-4), got 1.0e-4",
        "schedule:\n  beta_end: 0.0001\n");
    // only beta_start was written: the error points at it
    assertError("run.yaml:2:3: schedule.beta_start: must be less than beta_end (0.02), got 0.05",
        "schedule:\n  beta_start: 0.05\n");
  }

  @Test
  void negativeEta() {
    assertError("run.yaml:2:3: sampling.eta: must be at least 0, got -0.5", "sampling:\n  eta: -0.5\n");
  }

  @Test
  void otherRanges() {
    assertError("run.yaml:2:3: training.adam_beta1: must be in [0, 1), got 1.0", "training:\n  adam_beta1: 1.0\n");
    assertError("run.yaml:2:3: training.learning_rate: must be greater than 0, got 0.0",
        "training:\n  learning_rate: 0\n");
    assertError("run.yaml:2:3: sampling.dynamic_thresholding_ratio: must be in (0, 1], got 1.5",
        "sampling:\n  dynamic_thresholding_ratio: 1.5\n");
    assertError("run.yaml:2:3: sampling.sample_max_value: must be at least 1, got 0.5",
        "sampling:\n  sample_max_value: 0.5\n");
    assertError("run.yaml:3:3: model.dropout: must be in [0, 1), got 1.0", "model:\n  kind: unet\n  dropout: 1.0\n");
    assertError("run.yaml:3:3: data.pad_to: must be 0 or 32, got 28",
        "data:\n  kind: idx\n  pad_to: 28\n  train_images: a\n  eval_images: b\n");
    // inclusive ends are allowed: (0, 1] takes 1 and [1, inf) takes 1
    DiffusionConfig c = ConfigLoader.loadString("sampling:\n  dynamic_thresholding_ratio: 1\n"
        + "  sample_max_value: 1.0\ntraining:\n  ema:\n    decay: 1\n", "run.yaml");
    assertEquals(1.0, c.sampling().dynamicThresholdingRatio());
    assertEquals(1.0, c.training().ema().decay());
    // a real-valued key written with a leading zero is refused as the integer keys are: YAML would read 010 as 8
    assertTrue(error("sampling:\n  eta: 010\n").getMessage().contains("write 010 without leading zeros"));
  }

  @Test
  void inferenceStepsAboveTrainTimesteps() {
    assertError("run.yaml:4:3: sampling.num_inference_steps: must be at most schedule.num_train_timesteps (50), "
        + "got 60", "schedule:\n  num_train_timesteps: 50\nsampling:\n  num_inference_steps: 60\n");
    // only T was written: the error points at it
    assertError("run.yaml:2:3: schedule.num_train_timesteps: must be at least sampling.num_inference_steps "
        + "(20), got 10", "schedule:\n  num_train_timesteps: 10\n");
  }

  @Test
  void batchLargerThanTrainingSet() {
    assertError("run.yaml:4:3: training.batch_size: must be at most data.train_size (100), got 200",
        "data:\n  train_size: 100\ntraining:\n  batch_size: 200\n");
    assertError("run.yaml:2:3: data.train_size: must be at least training.batch_size (128), got 100",
        "data:\n  train_size: 100\n");
  }

  @Test
  void stepsOffsetPushingTheLeadingPlanPastT() {
    assertError("run.yaml:3:3: sampling.steps_offset: steps_offset 10 with 20 leading steps puts timestep 105 "
        + "outside [0, 100); lower steps_offset or use trailing spacing",
        "sampling:\n  timestep_spacing: leading\n  steps_offset: 10\n");
    // the first step is computed in 64 bits: an offset near 2^31 was a negative "timestep -2147483601" before
    assertError("run.yaml:3:3: sampling.steps_offset: steps_offset 2147483600 with 20 leading steps puts timestep "
        + "2147483695 outside [0, 100); lower steps_offset or use trailing spacing",
        "sampling:\n  timestep_spacing: leading\n  steps_offset: 2147483600\n");
  }

  @Test
  void aPlanOfBillionsOfStepsIsCheckedWithoutBuildingIt() {
    // the plan was built to check it: 2 billion steps took 8 GB, an OutOfMemoryError while loading the file
    for (String spacing : List.of("trailing", "leading", "linspace")) {
      DiffusionConfig c = ConfigLoader.loadString("schedule:\n  num_train_timesteps: 2000000000\nsampling:\n"
          + "  num_inference_steps: 2000000000\n  timestep_spacing: " + spacing + "\n", "run.yaml");
      assertEquals(2_000_000_000, c.sampling().numInferenceSteps());
    }
    assertError("run.yaml:5:3: sampling.steps_offset: steps_offset 1 with 2000000000 leading steps puts timestep "
        + "2000000000 outside [0, 2000000000); lower steps_offset or use trailing spacing",
        "schedule:\n  num_train_timesteps: 2000000000\nsampling:\n  num_inference_steps: 2000000000\n"
            + "  steps_offset: 1\n  timestep_spacing: leading\n");
  }

  @Test
  void emaMinDecayAboveDecay() {
    assertError("run.yaml:3:5: training.ema.min_decay: must be at most decay (0.9999), got 0.99999",
        "training:\n  ema:\n    min_decay: 0.99999\n");
  }

  @Test
  void unetGroupsMustDivideChannels() {
    assertError("run.yaml:3:3: model.groups: must divide the channels of every level, but base_channels 32 x "
        + "channel_mult 1 = 32 is not a multiple of 12", "model:\n  kind: unet\n  groups: 12\n");
  }

  /**
   * A clash between two keys that one {@code --set} caused points at that override, not at the other key's line in
   * the file (base_channels=30 against the file's groups: 8 pointed at the file's groups line).
   */
  @Test
  void aClashCausedByAnOverrideIsReportedAtTheOverride() {
    String yaml = "model:\n  kind: unet\n  base_channels: 32\n  groups: 8\n";
    ConfigException e = oneLine(assertThrows(ConfigException.class,
        () -> ConfigLoader.loadString(yaml, "run.yaml", List.of("model.base_channels=30"))));
    assertEquals("--set model.base_channels=30: model.base_channels: base_channels 30 x channel_mult 1 must be a "
        + "multiple of groups (8)", e.getMessage());
    // the other way round: the overridden groups is named, as it was already
    e = oneLine(assertThrows(ConfigException.class,
        () -> ConfigLoader.loadString(yaml, "run.yaml", List.of("model.groups=12"))));
    assertEquals("--set model.groups=12: model.groups: must divide the channels of every level, but base_channels 32 "
        + "x channel_mult 1 = 32 is not a multiple of 12", e.getMessage());
    // both from the file: the preferred key, as before
    assertError("run.yaml:4:3: model.groups: must divide the channels of every level, but base_channels 30 x "
        + "channel_mult 1 = 30 is not a multiple of 8", "model:\n  kind: unet\n  base_channels: 30\n  groups: 8\n");
  }

  // ---- combinations -------------------------------------------------------------------------------

  @Test
  void explicitTimestepsMustBeStrictlyDescending() {
    assertError("run.yaml:2:23: sampling.timesteps[2]: must be less than the step before it (50), got 50; "
        + "a plan is strictly descending, e.g. [99, 66, 33, 0]", "sampling:\n  timesteps: [99, 50, 50]\n");
    assertError("run.yaml:4:7: sampling.timesteps[1]: must be less than the step before it (10), got 20; "
        + "a plan is strictly descending, e.g. [99, 66, 33, 0]", "sampling:\n  timesteps:\n    - 10\n    - 20\n");
  }

  @Test
  void explicitTimestepsMustBeInsideZeroToT() {
    assertError("run.yaml:4:15: sampling.timesteps[0]: must be below schedule.num_train_timesteps (50), got 50",
        "schedule:\n  num_train_timesteps: 50\nsampling:\n  timesteps: [50, 10]\n");
  }

  @Test
  void explicitTimestepsMustBeNonNegative() {
    assertError("run.yaml:2:18: sampling.timesteps[1]: must be at least 0, got -1", "sampling:\n  timesteps: [5, -1]\n");
  }

  @Test
  void zeroTerminalSnrWithEpsilonPrediction() {
    ConfigException e = error("schedule:\n  prediction_type: epsilon\n  rescale_betas_zero_snr: true\n");
    assertEquals(3, e.line());
    assertEquals("schedule.rescale_betas_zero_snr", e.path());
    assertEquals("run.yaml:3:3: schedule.rescale_betas_zero_snr: cannot be true with prediction_type epsilon: "
        + "zero terminal SNR makes alpha-bar 0 at the last step, where x0 cannot be recovered from a predicted "
        + "noise, so DDPM and DDIM cannot sample; set prediction_type to v_prediction (or sample)", e.getMessage());
    // with v_prediction it is fine
    ConfigLoader.loadString("schedule:\n  prediction_type: v_prediction\n  rescale_betas_zero_snr: true\n", "ok");
  }

  @Test
  void unknownEnumValueListsAllowedOnes() {
    assertError("run.yaml:2:3: schedule.beta_schedule: unknown value 'cosine'; allowed: linear, scaled_linear, "
        + "squaredcos_cap_v2, sigmoid", "schedule:\n  beta_schedule: cosine\n");
    assertError("run.yaml:2:3: sampling.timestep_spacing: unknown value 'trailng'; did you mean 'trailing'? "
        + "(allowed: leading, trailing, linspace)", "sampling:\n  timestep_spacing: trailng\n");
    assertError("run.yaml:2:3: sampling.variance_type: expected one of fixed_small, fixed_large, tutorial, got 3",
        "sampling:\n  variance_type: 3\n");
    assertError("run.yaml:2:3: model.kind: unknown value 'cnn'; allowed: mlp, unet, ddpm, unet2d", "model:\n  kind: cnn\n");
  }

  @Test
  void learningRateScheduleKeys() {
    TrainingConfig t = ConfigLoader.loadString("training:\n  lr_schedule: cosine\n  lr_warmup_steps: 500\n",
        "run.yaml").training();
    assertEquals(new io.github.diffusion4j.training.LearningRateSchedule(
        io.github.diffusion4j.training.LearningRateSchedule.Kind.COSINE, 500), t.trainerOptions(1).learningRateSchedule());
    assertEquals(t, t.withInitFrom(java.util.Optional.empty()), "init_from keeps the schedule");
    TrainingConfig d = ConfigLoader.loadString("training:\n  epochs: 2\n", "run.yaml").training();
    assertEquals(io.github.diffusion4j.training.LearningRateSchedule.CONSTANT, d.trainerOptions(1).learningRateSchedule());
    assertEquals(d, new TrainingConfig(d.epochs(), d.batchSize(), d.learningRate(), d.adamBeta1(), d.adamBeta2(),
        d.adamEpsilon(), d.weightDecay(), d.maxGradNorm(), d.ema(), d.logEvery(), d.imageLogEvery(), d.imagesToLog(),
        d.checkpointEvery(), d.keepCheckpoints()), "the kept constructor: constant, no warm-up");
    assertError("run.yaml:2:3: training.lr_schedule: unknown value 'cosnie'; did you mean 'cosine'? "
        + "(allowed: constant, linear, cosine)", "training:\n  lr_schedule: cosnie\n");
    assertError("run.yaml:2:3: training.lr_schedule: unknown value 'polynomial'; allowed: constant, linear, cosine",
        "training:\n  lr_schedule: polynomial\n");
    assertError("run.yaml:2:3: training.lr_warmup_steps: must be at least 0, got -1",
        "training:\n  lr_warmup_steps: -1\n");
  }

  @Test
  void idxNeedsItsFiles() {
    assertError("run.yaml:1:1: data.train_images: required when kind is idx", "data:\n  kind: idx\n");
    assertError("run.yaml:1:1: data.eval_images: required when kind is idx",
        "data:\n  kind: idx\n  train_images: train.idx\n");
  }

  @Test
  void backendAndSamplerNamesMustBeLowercaseIdentifiers() {
    assertError("run.yaml:1:1: backend: must be a lowercase identifier ([a-z][a-z0-9_]*), got 'ND4J'",
        "backend: ND4J\n");
    assertError("run.yaml:1:1: backend: must be a lowercase identifier ([a-z][a-z0-9_]*), got ''", "backend: ''\n");
    assertError("run.yaml:2:3: sampling.sampler: must be a lowercase identifier ([a-z][a-z0-9_]*), got 'my sampler'",
        "sampling:\n  sampler: my sampler\n");
    assertError("run.yaml:1:1: backend: expected a lowercase identifier ([a-z][a-z0-9_]*), got nothing (null)",
        "backend:\n");
  }

  @Test
  void outputNameMustBeAFolderName() {
    assertError("run.yaml:2:3: output.name: must be a folder name of ASCII letters, digits, '.', '_' and '-' "
        + "(not '.' or '..'), or empty, got 'a/b'", "output:\n  name: a/b\n");
    assertError("run.yaml:2:3: output.name: must be a folder name of ASCII letters, digits, '.', '_' and '-' "
        + "(not '.' or '..'), or empty, got '..'", "output:\n  name: ..\n");
    // a letter outside ASCII is refused, and the message says why ('letters' alone read as if it were one)
    assertError("run.yaml:2:3: output.name: must be a folder name of ASCII letters, digits, '.', '_' and '-' "
        + "(not '.' or '..'), or empty, got 'lauf-\u00e9'", "output:\n  name: lauf-\u00e9\n");
  }

  @Test
  void controlCharactersInEchoedValuesStayOnOneLine() {
    ConfigException e = error("backend: \"a\\nb\"\n");
    assertEquals("run.yaml:1:1: backend: must be a lowercase identifier ([a-z][a-z0-9_]*), got 'a\\nb'",
        e.getMessage());
  }

  // ---- overrides ----------------------------------------------------------------------------------

  @Test
  void overrideWithWrongTypeNamesTheOverride() {
    ConfigException e = oneLine(assertThrows(ConfigException.class,
        () -> ConfigLoader.loadString("seed: 1\n", "run.yaml", List.of("training.epochs=abc"))));
    assertEquals("--set training.epochs=abc: training.epochs: expected an integer, got 'abc'", e.getMessage());
    assertEquals("--set training.epochs=abc", e.file());
    assertEquals(0, e.line());
  }

  @Test
  void overrideWithUnknownKeySuggests() {
    ConfigException e = oneLine(assertThrows(ConfigException.class,
        () -> ConfigLoader.loadString("seed: 1\n", "run.yaml", List.of("sampling.num_inference_step=10"))));
    assertTrue(e.getMessage().startsWith("--set sampling.num_inference_step=10: sampling.num_inference_step: "
        + "unknown key; did you mean 'num_inference_steps'? (allowed: sampler, "), e.getMessage());
  }

  @Test
  void malformedOverrides() {
    assertEquals("--set epochs: expected key.path=value, e.g. training.epochs=30",
        oneLine(assertThrows(ConfigException.class,
            () -> ConfigLoader.loadString("seed: 1\n", "run.yaml", List.of("epochs")))).getMessage());
    assertEquals("--set training..epochs=3: expected key.path=value with keys of letters, digits, '_' and '-' "
        + "separated by '.', e.g. training.epochs=30; got key path 'training..epochs'",
        oneLine(assertThrows(ConfigException.class,
            () -> ConfigLoader.loadString("seed: 1\n", "run.yaml", List.of("training..epochs=3")))).getMessage());
    assertEquals("--set sampling.timesteps=[1,: YAML syntax error: expected the node content, but found "
        + "'<stream end>' (while parsing a flow node)",
        oneLine(assertThrows(ConfigException.class,
            () -> ConfigLoader.loadString("seed: 1\n", "run.yaml", List.of("sampling.timesteps=[1,")))).getMessage());
  }

  /** A comment in an override dropped the rest of the value without a word: output.dir=runs #2 was 'runs'. */
  @Test
  void aCommentInAnOverrideIsRefusedNotDropped() {
    assertEquals("--set output.dir=runs #2: '#' after a space starts a YAML comment, which would drop '#2' from the "
        + "value; quote the value (output.dir=\"runs #2\") or remove the comment",
        oneLine(assertThrows(ConfigException.class,
            () -> ConfigLoader.loadString("seed: 1\n", "run.yaml", List.of("output.dir=runs #2")))).getMessage());
    for (String value : List.of("\"runs #2\"", "'it''s #2'", "runs#2", "it's#2", "[1, 2]", "{dir: \"a #b\"}")) {
      assertEquals(-1, Overrides.commentStart(value), value);
    }
    for (String value : List.of("#x", "a # b", "[1, 2] # c", "\"a\" #c", "'a''b' #c", "it's #c")) {
      assertTrue(Overrides.commentStart(value) >= 0, value);
    }
    assertEquals(Path.of("runs #2"), ConfigLoader.loadString("seed: 1\n", "run.yaml",
        List.of("output.dir=\"runs #2\"")).output().dir());
  }

  @Test
  void overrideThatBreaksACombinationIsReportedAtTheOverride() {
    ConfigException e = oneLine(assertThrows(ConfigException.class, () -> ConfigLoader.loadString(
        "schedule:\n  num_train_timesteps: 100\n", "run.yaml", List.of("sampling.num_inference_steps=101"))));
    assertEquals("--set sampling.num_inference_steps=101: sampling.num_inference_steps: must be at most "
        + "schedule.num_train_timesteps (100), got 101", e.getMessage());
  }

  @Test
  void unknownBundledConfig() {
    assertEquals("bundled:tutorail: no bundled config named 'tutorail'; did you mean 'tutorial'? "
        + "(allowed: default, tutorial, ddpm-cifar10, ddpm-celeba, ddpm-lsun256)",
        oneLine(assertThrows(ConfigException.class, () -> ConfigLoader.bundled("tutorail"))).getMessage());
  }
}
