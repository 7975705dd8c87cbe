package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.StateDict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
  static final Provenance PROVENANCE =
      new Provenance("nd4j", 42, Instant.parse("2025-01-31T12:00:00Z"));

  @TempDir Path dir;

  static StateDict weights(float scale) {
    return StateDict.builder()
        .put("net.0.weight", new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
        .put("net.0.bias", new int[] {2}, new float[] {scale, -scale})
        .build();
  }

  static CheckpointContent full(float scale) {
    StateDict moments =
        StateDict.builder()
            .put("exp_avg.net.0.bias", new int[] {2}, new float[] {0.1f, 0.2f})
            .put("exp_avg_sq.net.0.bias", new int[] {2}, new float[] {0.01f, 0.02f})
            .build();
    return CheckpointContent.of(weights(scale), "model:\n  hidden: 64  # größe\n")
        .withEma(weights(scale / 2))
        .withTrainingState(new TrainingState(1000, 12, 3456, moments, Map.of("adam_step", "1000")))
        .withScheduler(SchedulerConfigTest.tutorial());
  }

  static Set<String> names(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  static CheckpointException fails(Path checkpoint, String fragment) {
    CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(checkpoint));
    assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
    return e;
  }

  @Test
  void roundTrip() throws IOException {
    Path ck = dir.resolve("ck");
    CheckpointContent content = full(1);
    Manifest written = Checkpoint.write(ck, content, PROVENANCE);
    assertEquals(
        Set.of("model.safetensors", "ema.safetensors", "training_state.safetensors", "config.yaml",
            "scheduler_config.json", "manifest.json"),
        names(ck));
    Checkpoint read = Checkpoint.read(ck);
    assertEquals(content, read.content());
    assertEquals(written, read.manifest().orElseThrow());
    Manifest m = read.manifest().get();
    assertEquals(Manifest.FORMAT_VERSION, m.formatVersion());
    assertEquals("nd4j", m.backend());
    assertEquals(42, m.seed());
    assertEquals(PROVENANCE.created(), m.created());
    assertEquals(5, m.sha256().size());
    assertEquals(FileSupport.sha256Hex(ck.resolve("model.safetensors")), m.sha256().get("model.safetensors"));
    assertEquals(content.ema().get(), read.content().samplingWeights());
    // the weight files are plain safetensors with the "format": "pt" marker Python loaders expect
    assertEquals(Map.of("format", "pt"), SafeTensors.read(ck.resolve("model.safetensors")).metadata());
    assertEquals(Set.of("ck"), names(dir), "no temporary left behind");
  }

  @Test
  void loadsWithOnlyTheTwoRequiredFiles() throws IOException {
    Path ck = dir.resolve("minimal");
    Files.createDirectories(ck);
    SafeTensors.write(ck.resolve("model.safetensors"), weights(3), Map.of());
    Files.writeString(ck.resolve("config.yaml"), "seed: 1\n");
    Checkpoint read = Checkpoint.read(ck);
    assertEquals(CheckpointContent.of(weights(3), "seed: 1\n"), read.content());
    assertTrue(read.manifest().isEmpty());
    assertEquals(weights(3), read.content().samplingWeights());
  }

  /**
   * Every tensor of a checkpoint's weights is a model parameter: an int64 one (a BatchNorm's counter saved with
   * {@code save_file(model.state_dict())}) is refused naming the file, the tensor and its dtype, in the model's
   * weights and in the EMA weights, as a diffusers folder refuses one.
   */
  @Test
  void anIntegerTensorInTheWeightsIsNamedWithItsDtype() throws IOException {
    Path ck = dir.resolve("int");
    Checkpoint.write(ck, CheckpointContent.of(weights(1), "a: 1\n").withEma(weights(1)), PROVENANCE);
    Files.delete(ck.resolve("manifest.json"));
    byte[] withCounter = SafeTensorsTest.file(weights(1), new SafeTensorsTest.Raw("bn.num_batches_tracked", "I64",
        "[]", new byte[8]));
    for (String name : List.of("model.safetensors", "ema.safetensors")) {
      byte[] good = Files.readAllBytes(ck.resolve(name));
      Files.write(ck.resolve(name), withCounter);
      CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(ck));
      assertEquals(ck.resolve(name) + ": tensor 'bn.num_batches_tracked' is int64; a model parameter must be "
          + "float32, float64, float16 or bfloat16", e.getMessage());
      Files.write(ck.resolve(name), good);
    }
  }

  @Test
  void writesOnlyWhatTheContentHas() throws IOException {
    Path ck = dir.resolve("small");
    Checkpoint.write(ck, CheckpointContent.of(weights(1), "a: 1\n"), PROVENANCE);
    assertEquals(Set.of("model.safetensors", "config.yaml", "manifest.json"), names(ck));
    assertEquals(CheckpointContent.of(weights(1), "a: 1\n"), Checkpoint.read(ck).content());
  }

  @Test
  void missingFilesAreNamed() throws IOException {
    fails(dir.resolve("absent"), "checkpoint directory not found");
    Path ck = dir.resolve("ck");
    Checkpoint.write(ck, CheckpointContent.of(weights(1), "a: 1\n"), PROVENANCE);
    Files.delete(ck.resolve("manifest.json"));
    Files.delete(ck.resolve("config.yaml"));
    CheckpointException e = fails(ck, "config.yaml: missing; a checkpoint needs model.safetensors and config.yaml");
    assertTrue(e.getMessage().startsWith(ck.resolve("config.yaml").toString()));
    Files.writeString(ck.resolve("config.yaml"), "a: 1\n");
    Files.delete(ck.resolve("model.safetensors"));
    fails(ck, "model.safetensors: missing");
  }

  @Test
  void aFileListedInTheManifestMustExist() throws IOException {
    Path ck = dir.resolve("ck");
    Checkpoint.write(ck, full(1), PROVENANCE);
    Files.delete(ck.resolve("ema.safetensors"));
    fails(ck, "ema.safetensors: listed in manifest.json but missing");
  }

  @Test
  void checksumMismatchNamesTheFile() throws IOException {
    Path ck = dir.resolve("ck");
    Checkpoint.write(ck, full(1), PROVENANCE);
    Files.writeString(ck.resolve("config.yaml"), "model:\n  hidden: 65  # größe\n");
    CheckpointException e = fails(ck, "checksum mismatch");
    assertTrue(e.getMessage().startsWith(ck.resolve("config.yaml") + ": "), e.getMessage());

    Path ck2 = dir.resolve("ck2");
    Checkpoint.write(ck2, full(1), PROVENANCE);
    Path model = ck2.resolve("model.safetensors");
    byte[] b = Files.readAllBytes(model);
    b[b.length - 1] ^= 1; // one bit of one weight: still a valid safetensors file
    Files.write(model, b);
    assertTrue(fails(ck2, "checksum mismatch").getMessage().startsWith(model + ": "));
  }

  /** A minimal checkpoint whose manifest has {@code from} replaced by {@code to}. */
  private Path withEditedManifest(String from, String to) throws IOException {
    Path ck = dir.resolve("ck");
    Checkpoint.write(ck, CheckpointContent.of(weights(1), "a: 1\n"), PROVENANCE);
    Path m = ck.resolve("manifest.json");
    String text = Files.readString(m);
    assertTrue(text.contains(from), text);
    Files.writeString(m, text.replace(from, to));
    return ck;
  }

  @Test
  void aManifestFromANewerFormatIsRefused() throws IOException {
    fails(
        withEditedManifest("\"format_version\" : 1", "\"format_version\" : 2"),
        "format_version 2 was written by a newer diffusion4j; this version reads up to 1");
  }

  /**
   * Manifests written on 2026-12-02 before {@code sampling.noise_version} existed record the noise version their
   * samples were drawn with; it is kept (and written back), and one this version does not know is refused in one
   * line naming the file.
   */
  @Test
  void aManifestsNoiseVersionIsReadAndAnUnknownOneRefused() throws IOException {
    Path ck = withEditedManifest("\n}", ",\n  \"noise_version\" : 2\n}");
    Manifest m = Checkpoint.read(ck).manifest().orElseThrow();
    assertEquals(java.util.Optional.of(io.github.diffusion4j.random.NoiseVersion.BOX_MULLER), m.noiseVersion());
    assertTrue(m.toJson().contains("\"noise_version\" : 2"), m.toJson());
    assertEquals(m, Manifest.fromJson(m.toJson(), "manifest.json"));
    assertTrue(Manifest.of(PROVENANCE, Map.of()).noiseVersion().isEmpty(), "written now: config.yaml says it");
    assertFalse(Manifest.of(PROVENANCE, Map.of()).toJson().contains("noise_version"));

    Path future = withEditedManifest("\n}", ",\n  \"noise_version\" : 3\n}");
    CheckpointException e = fails(future, "manifest.json: key 'noise_version': noise version 3 is unknown; "
        + "this diffusion4j knows 1, 2");
    assertTrue(e.getMessage().startsWith(future.resolve("manifest.json") + ": "), e.getMessage());
    fails(withEditedManifest("\n}", ",\n  \"noise_version\" : \"2\"\n}"), "noise_version");
  }

  @Test
  void aManifestCannotPointOutsideTheCheckpoint() throws IOException {
    fails(
        withEditedManifest("\"config.yaml\"", "\"../config.yaml\""),
        "files: '../config.yaml' is not a plain file name");
  }

  @Test
  void aBadTrainingStateIsNamed() throws IOException {
    Path ck = dir.resolve("ck");
    Files.createDirectories(ck);
    SafeTensors.write(ck.resolve("model.safetensors"), weights(1), Map.of());
    Files.writeString(ck.resolve("config.yaml"), "a: 1\n");
    SafeTensors.write(ck.resolve("training_state.safetensors"), weights(1), Map.of("step", "x", "epoch", "1", "noise_position", "0"));
    fails(ck, "training_state.safetensors: __metadata__.step must be an integer, got 'x'");
    SafeTensors.write(ck.resolve("training_state.safetensors"), weights(1), Map.of("step", "1"));
    fails(ck, "__metadata__ has no 'epoch'");
  }

  @Test
  void samplingReadsNeitherADamagedNorAMalformedTrainingState() throws IOException {
    Path ck = dir.resolve("ck");
    CheckpointContent full = full(1);
    Checkpoint.write(ck, full, PROVENANCE);
    CheckpointContent content =
        new CheckpointContent(full.model(), full.ema(), Optional.empty(), full.configYaml(), full.scheduler());
    Path state = ck.resolve("training_state.safetensors");
    byte[] b = Files.readAllBytes(state);
    b[b.length - 1] ^= 1;
    Files.write(state, b);
    fails(ck, "training_state.safetensors: checksum mismatch");
    Checkpoint forSampling = Checkpoint.readForSampling(ck);
    assertEquals(content, forSampling.content());
    assertTrue(forSampling.manifest().isPresent());

    Files.writeString(state, "not safetensors");
    Files.delete(ck.resolve("manifest.json"));
    assertEquals(content, Checkpoint.readForSampling(ck).content());
    // what sampling does read is still checked
    Files.writeString(ck.resolve("ema.safetensors"), "not safetensors either");
    assertThrows(CheckpointException.class, () -> Checkpoint.readForSampling(ck));
  }

  /**
   * A folder where a file of the checkpoint should be is refused naming it, even the training state that sampling
   * does not read and the manifest leaves out for it: the checkpoint is broken, and resuming from it would fail later.
   */
  @Test
  void aFolderInPlaceOfAnyFileIsRefusedNamingItWhenReadingForSampling() throws IOException {
    for (String name : List.of("training_state.safetensors", "ema.safetensors", "scheduler_config.json",
        "manifest.json")) {
      Path ck = dir.resolve("ck-" + name);
      Checkpoint.write(ck, full(1), PROVENANCE);
      Files.delete(ck.resolve(name));
      Files.createDirectory(ck.resolve(name));
      CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.readForSampling(ck));
      assertEquals(ck.resolve(name) + ": is a folder, not a file", e.getMessage());
    }
  }

  /**
   * A checkpoint folder the user may not read (mode 000, another user's) was "model.safetensors: missing; a
   * checkpoint needs ...": it is said to be denied. Root is denied nothing, so this runs only for other users;
   * FileProblemsTest.aFileInAFolderThatCannotBeSearchedIsSaidToBeDeniedNotMissing simulates it for everyone.
   */
  @Test
  void aCheckpointFolderThatCannotBeReadIsSaidToBeDeniedNotMissing() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeFalse("root".equals(System.getProperty("user.name")),
        "root may read any folder");
    Path ck = dir.resolve("ck-denied");
    Checkpoint.write(ck, full(1), PROVENANCE);
    Files.setPosixFilePermissions(ck, java.util.Set.of());
    try {
      CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.readForSampling(ck));
      assertEquals(ck.resolve("model.safetensors")
          + ": cannot be read (permission denied: a folder on its path cannot be searched)", e.getMessage());
    } finally {
      Files.setPosixFilePermissions(ck, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }
  }

  @Test
  void anExceptionMidWriteLeavesThePreviousCheckpointAndNoPartialDirectory() throws IOException {
    Path ck = dir.resolve("ck");
    CheckpointContent before = full(1);
    Checkpoint.write(ck, before, PROVENANCE);
    for (String failAfter : List.of("model.safetensors", "config.yaml", "manifest.json")) {
      RuntimeException e =
          assertThrows(
              CheckpointException.class,
              () ->
                  Checkpoint.write(
                      ck, full(2), PROVENANCE,
                      name -> {
                        if (name.equals(failAfter)) {
                          throw new IOException("simulated crash after " + name);
                        }
                      }));
      assertTrue(e.getMessage().contains("simulated crash after " + failAfter), e.getMessage());
      assertEquals(before, Checkpoint.read(ck).content(), "previous checkpoint intact");
      assertEquals(Set.of("ck"), names(dir), "no temporary left behind");
    }
    // a first write that fails leaves no directory at all
    Path fresh = dir.resolve("fresh");
    assertThrows(
        RuntimeException.class,
        () ->
            Checkpoint.write(
                fresh, full(2), PROVENANCE,
                name -> {
                  throw new IllegalStateException("boom");
                }));
    assertFalse(Files.exists(fresh));
    assertEquals(Set.of("ck"), names(dir));
  }

  @Test
  void rewritingReplacesTheWholeDirectory() throws IOException {
    Path ck = dir.resolve("ck");
    Checkpoint.write(ck, full(1), PROVENANCE);
    Checkpoint.write(ck, CheckpointContent.of(weights(5), "b: 2\n"), PROVENANCE);
    assertEquals(Set.of("model.safetensors", "config.yaml", "manifest.json"), names(ck));
    assertEquals(CheckpointContent.of(weights(5), "b: 2\n"), Checkpoint.read(ck).content());
    assertEquals(Set.of("ck"), names(dir));
  }

  @Test
  void configTextIsStoredVerbatim() throws IOException {
    Path ck = dir.resolve("ck");
    String yaml = "# comment\nname: \"ä\"\r\nlist: [1, 2]\n";
    Checkpoint.write(ck, CheckpointContent.of(weights(1), yaml), PROVENANCE);
    assertEquals(yaml, new String(Files.readAllBytes(ck.resolve("config.yaml")), StandardCharsets.UTF_8));
  }

  @Test
  void trainingStateValidatesItsValues() {
    StateDict empty = StateDict.builder().build();
    assertThrows(IllegalArgumentException.class, () -> TrainingState.of(-1, 0, 0, empty));
    assertThrows(IllegalArgumentException.class, () -> TrainingState.of(0, -1, 0, empty));
    assertThrows(
        IllegalArgumentException.class, () -> new TrainingState(0, 0, 0, empty, Map.of("step", "1")));
    // 0 is a valid counter (a run saved before its first step)
    assertEquals(0, TrainingState.of(0, 0, 0, empty).step());
  }

  /**
   * The manifest in the form this release writes it (the class documentation's), with every field distinct, written
   * out by hand: a writer and a reader that both swapped two keys would still round-trip each other.
   */
  @Test
  void aManifestReadsAndWritesEachFieldUnderItsOwnKey() {
    String json =
        "{\n"
            + "  \"format_version\" : 1,\n"
            + "  \"diffusion4j_version\" : \"0.1.0\",\n"
            + "  \"backend\" : \"djl\",\n"
            + "  \"seed\" : 5000000000,\n"
            + "  \"created\" : \"2025-01-31T12:00:00Z\",\n"
            + "  \"files\" : {\n"
            + "    \"a.yaml\" : \"37b128c59f1f5097f73f82691cb519f1f568667faab5ced1b4ab979d36837eae\",\n"
            + "    \"config.yaml\" : \"d27d6460506ba4ea79c2b62b8fdea71c657107dc6558c1e36a2105781493374e\"\n"
            + "  }\n"
            + "}\n";
    Manifest m = Manifest.fromJson(json, "manifest.json");
    assertEquals(1, m.formatVersion());
    assertEquals("0.1.0", m.diffusion4jVersion());
    assertEquals("djl", m.backend());
    assertEquals(5_000_000_000L, m.seed(), "a seed beyond an int");
    assertEquals(Instant.parse("2025-01-31T12:00:00Z"), m.created());
    assertEquals(
        List.of("a.yaml", "config.yaml"), List.copyOf(m.sha256().keySet()), "files sorted by name");
    assertEquals("d27d6460506ba4ea79c2b62b8fdea71c657107dc6558c1e36a2105781493374e", m.sha256().get("config.yaml"));
    assertTrue(m.noiseVersion().isEmpty());
    assertEquals(json, m.toJson());
  }

  @Test
  void theManifestHoldsTheSha256OfEachFileAsSha256sumComputesIt() throws IOException {
    Path ck = dir.resolve("ck");
    Manifest m = Checkpoint.write(ck, full(1), PROVENANCE);
    // printf 'model:\n  hidden: 64  # größe\n' | sha256sum   (config.yaml is stored verbatim, UTF-8)
    assertEquals("d27d6460506ba4ea79c2b62b8fdea71c657107dc6558c1e36a2105781493374e", m.sha256().get("config.yaml"));
  }

  /**
   * The version a manifest records is never blank: the jar's, or "dev" where the library runs from its classes (as
   * in this build, which has no jar metadata) and names no version.
   */
  /** A manifest's provenance names a backend and a time: a blank or missing one is refused when it is made. */
  @Test
  void aProvenanceNeedsABackendAndATime() {
    java.time.Instant t = java.time.Instant.parse("2025-01-31T12:00:00Z");
    assertEquals("nd4j", new Provenance("nd4j", 7, t).backend());
    for (String bad : java.util.Arrays.asList(null, "", "  ")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Provenance(bad, 7, t));
      assertEquals("backend must be a non-empty name", e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Provenance("nd4j", 7, null));
    assertEquals("created must not be null", e.getMessage());
  }

  @Test
  void theLibraryVersionIsNeverBlank() {
    String v = Manifest.libraryVersion();
    assertTrue(v.equals("dev") || v.matches("[0-9]+\\.[0-9]+.*"), "'" + v + "'");
  }

  @Test
  void aManifestRefusesAFormatVersionBelowOneAndUpperCaseHashes() {
    String json =
        "{\"format_version\": 1, \"diffusion4j_version\": \"0.1.0\", \"backend\": \"nd4j\", \"seed\": 1,"
            + " \"created\": \"2025-01-31T12:00:00Z\", \"files\": {\"config.yaml\":"
            + " \"d27d6460506ba4ea79c2b62b8fdea71c657107dc6558c1e36a2105781493374e\"}}";
    CheckpointException zero =
        assertThrows(
            CheckpointException.class,
            () -> Manifest.fromJson(json.replace("\"format_version\": 1", "\"format_version\": 0"), "manifest.json"));
    assertEquals("manifest.json: format_version must be at least 1, got 0", zero.getMessage());
    CheckpointException upper =
        assertThrows(
            CheckpointException.class, () -> Manifest.fromJson(json.replace("d27d6460", "D27D6460"), "manifest.json"));
    assertTrue(
        upper.getMessage().startsWith("manifest.json: files.config.yaml: expected 64 lower-case hex digits, got 'D27D"),
        upper.getMessage());
  }
  /**
   * A hand-edited manifest with a field missing or of the wrong type is refused in one line naming the file, the key,
   * what it holds and what is expected (a checkpoint whose manifest cannot be trusted is not loaded).
   */
  @Test
  void aManifestsMissingOrMistypedFieldIsNamedWithWhatItHolds() {
    String json =
        "{\"format_version\": 1, \"diffusion4j_version\": \"0.1.0\", \"backend\": \"nd4j\", \"seed\": 1,"
            + " \"created\": \"2025-01-31T12:00:00Z\", \"files\": {\"config.yaml\":"
            + " \"d27d6460506ba4ea79c2b62b8fdea71c657107dc6558c1e36a2105781493374e\"}}";
    assertEquals("nd4j", Manifest.fromJson(json, "manifest.json").backend(), "the unedited manifest reads");
    String[][] cases = {
        {"\"format_version\": 1", "\"format_version\": 1.5",
            "manifest.json: key 'format_version': expected an integer, got a number (1.5)"},
        {"\"format_version\": 1", "\"format_version\": 99999999999",
            "manifest.json: key 'format_version': expected an integer, got a number (99999999999)"},
        {"\"seed\": 1", "\"seed\": \"1\"", "manifest.json: key 'seed': expected an integer, got a string (\"1\")"},
        {"\"seed\": 1", "\"seed\": 1e3", "manifest.json: key 'seed': expected an integer, got a number (1000.0)"},
        {"\"created\": \"2025-01-31T12:00:00Z\"", "\"created\": \"2025-01-31\"",
            "manifest.json: key 'created': expected an ISO-8601 instant like 2025-01-31T12:00:00Z, got '2025-01-31'"},
        {"\"backend\": \"nd4j\"", "\"backend\": 4", "manifest.json: key 'backend': expected a string, got a number (4)"},
        {"\"backend\": \"nd4j\", ", "", "manifest.json: missing key 'backend'"},
        {"\"files\": {", "\"files\": [], \"x\": {",
            "manifest.json: key 'files': expected an object of file name to SHA-256, got an array"},
        {"\"config.yaml\": \"d27d6460506ba4ea79c2b62b8fdea71c657107dc6558c1e36a2105781493374e\"",
            "\"config.yaml\": null", "manifest.json: key 'files.config.yaml': expected a string, got null"}};
    for (String[] c : cases) {
      String edited = json.replace(c[0], c[1]);
      assertTrue(!edited.equals(json), c[1]);
      CheckpointException e =
          assertThrows(CheckpointException.class, () -> Manifest.fromJson(edited, "manifest.json"), c[1]);
      assertEquals(c[2], e.getMessage());
    }
  }
}
