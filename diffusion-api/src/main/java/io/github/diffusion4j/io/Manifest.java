package io.github.diffusion4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.diffusion4j.random.NoiseVersion;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A checkpoint's {@code manifest.json}: the format version, who wrote it, and the SHA-256 of every
 * other file, so that a damaged or tampered file is detected on load.
 *
 * <pre>{@code
 * {
 *   "format_version" : 1,
 *   "diffusion4j_version" : "0.1.0",
 *   "backend" : "nd4j",
 *   "seed" : 42,
 *   "created" : "2025-01-31T12:00:00Z",
 *   "files" : { "config.yaml" : "<64 hex digits>", "model.safetensors" : "<64 hex digits>" }
 * }
 * }</pre>
 *
 * <p>Manifests written by builds of 2026-12-02 between noise version 2 and {@code sampling.noise_version} (which
 * sampled with version 2 and had no such key) also hold {@code "noise_version" : 2}: the noise their run's samples
 * were drawn with. {@link #noiseVersion()} keeps it, so that such a checkpoint samples the same images again
 * ({@code TrainedModel.load} applies it where the checkpoint's {@code config.yaml} does not say); manifests
 * written now leave it out, since {@code config.yaml} says it.
 *
 * @param formatVersion the checkpoint layout version, {@value #FORMAT_VERSION} for this release
 * @param diffusion4jVersion the version of the library that wrote it
 * @param backend the backend that trained the model
 * @param seed the run's seed
 * @param created when the checkpoint was written
 * @param sha256 lower-case hex SHA-256 by file name (the manifest itself is not listed)
 * @param noiseVersion the sampling noise version the manifest records ({@code noise_version}); empty when it
 *     records none (every manifest written since 2026-12-02, and those written before noise version 2)
 */
public record Manifest(
    int formatVersion,
    String diffusion4jVersion,
    String backend,
    long seed,
    Instant created,
    Map<String, String> sha256,
    Optional<NoiseVersion> noiseVersion) {

  /** The layout version this release writes and the newest it reads. */
  public static final int FORMAT_VERSION = 1;

  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

  /**
   * Validates and copies (files sorted by name).
   *
   * @param formatVersion the checkpoint layout version, {@value #FORMAT_VERSION} for this release
   * @param diffusion4jVersion the version of the library that wrote it
   * @param backend the backend that trained the model
   * @param seed the run's seed
   * @param created when the checkpoint was written
   * @param sha256 lower-case hex SHA-256 by file name (the manifest itself is not listed)
   * @param noiseVersion the sampling noise version the manifest records; empty when it records none
   * @throws IllegalArgumentException if a value is missing, a file name is not a plain name, or a hash is not
   *     64 lower-case hex digits
   */
  public Manifest {
    if (noiseVersion == null) {
      throw new IllegalArgumentException("noiseVersion must not be null (Optional.empty() for none)");
    }
    if (formatVersion < 1) {
      throw new IllegalArgumentException("format_version must be at least 1, got " + formatVersion);
    }
    if (diffusion4jVersion == null || backend == null || created == null || sha256 == null) {
      throw new IllegalArgumentException("diffusion4j_version, backend, created and files are required");
    }
    sha256 = Collections.unmodifiableMap(new TreeMap<>(sha256));
    for (Map.Entry<String, String> e : sha256.entrySet()) {
      String name = e.getKey();
      if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/")
          || name.contains("\\")) {
        throw new IllegalArgumentException("files: '" + name + "' is not a plain file name");
      }
      if (e.getValue() == null || !HEX64.matcher(e.getValue()).matches()) {
        throw new IllegalArgumentException(
            "files." + name + ": expected 64 lower-case hex digits, got '" + e.getValue() + "'");
      }
    }
  }

  /**
   * A manifest that records no noise version (as every manifest written now).
   *
   * @param formatVersion the checkpoint layout version, {@value #FORMAT_VERSION} for this release
   * @param diffusion4jVersion the version of the library that wrote it
   * @param backend the backend that trained the model
   * @param seed the run's seed
   * @param created when the checkpoint was written
   * @param sha256 lower-case hex SHA-256 by file name (the manifest itself is not listed)
   * @throws IllegalArgumentException if a value is missing, a file name is not a plain name, or a hash is not
   *     64 lower-case hex digits
   */
  public Manifest(
      int formatVersion, String diffusion4jVersion, String backend, long seed, Instant created,
      Map<String, String> sha256) {
    this(formatVersion, diffusion4jVersion, backend, seed, created, sha256, Optional.empty());
  }

  /**
   * A manifest for files written now by this library.
   *
   * @param provenance backend, seed and time
   * @param sha256 the hashes by file name
   * @return the manifest
   */
  public static Manifest of(Provenance provenance, Map<String, String> sha256) {
    return new Manifest(
        FORMAT_VERSION, libraryVersion(), provenance.backend(), provenance.seed(), provenance.created(),
        sha256);
  }

  /**
   * The version of diffusion4j on the class path: from the Maven metadata of the {@code diffusion-api}
   * jar, or {@code "dev"} when running from classes (an IDE or a build).
   *
   * @return the version
   */
  public static String libraryVersion() {
    try (InputStream in =
        Manifest.class.getResourceAsStream(
            "/META-INF/maven/io.github.diffusion4j/diffusion-api/pom.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.isBlank()) {
          return v.trim();
        }
      }
    } catch (IOException e) {
      // fall through to the other sources
    }
    String v = Manifest.class.getPackage().getImplementationVersion();
    return v != null ? v : "dev";
  }

  /**
   * The JSON form.
   *
   * @return the text, pretty-printed, with a final newline
   */
  public String toJson() {
    ObjectNode root = StrictJson.mapper().createObjectNode();
    root.put("format_version", formatVersion);
    root.put("diffusion4j_version", diffusion4jVersion);
    root.put("backend", backend);
    root.put("seed", seed);
    root.put("created", created.toString());
    ObjectNode files = root.putObject("files");
    sha256.forEach(files::put);
    noiseVersion.ifPresent(v -> root.put("noise_version", v.number()));
    try {
      return StrictJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new AssertionError(e); // a tree of strings and numbers always serialises
    }
  }

  /**
   * Parses a manifest.
   *
   * @param json the text
   * @param source the file, for messages
   * @return the manifest
   * @throws CheckpointException naming the file and key if it is malformed or from a newer format
   */
  public static Manifest fromJson(String json, String source) {
    JsonNode root = StrictJson.parseObject(json, source, "");
    JsonNode fv = require(root, "format_version", source);
    if (!fv.isIntegralNumber() || !fv.canConvertToInt()) {
      throw StrictJson.wrongType(source, "format_version", "an integer", fv);
    }
    if (fv.intValue() > FORMAT_VERSION) {
      throw CheckpointException.of(
          source,
          "format_version " + fv.intValue() + " was written by a newer diffusion4j; this version reads up to "
              + FORMAT_VERSION);
    }
    String version = text(root, "diffusion4j_version", source);
    String backend = text(root, "backend", source);
    JsonNode seed = require(root, "seed", source);
    if (!seed.isIntegralNumber() || !seed.canConvertToLong()) {
      throw StrictJson.wrongType(source, "seed", "an integer", seed);
    }
    Instant created;
    String c = text(root, "created", source);
    try {
      created = Instant.parse(c);
    } catch (DateTimeParseException e) {
      throw CheckpointException.of(
          source, "key 'created': expected an ISO-8601 instant like 2025-01-31T12:00:00Z, got '"
              + StrictJson.abbreviate(c) + "'");
    }
    JsonNode files = require(root, "files", source);
    if (!files.isObject()) {
      throw StrictJson.wrongType(source, "files", "an object of file name to SHA-256", files);
    }
    Map<String, String> hashes = new TreeMap<>();
    for (Map.Entry<String, JsonNode> f : files.properties()) {
      if (!f.getValue().isTextual()) {
        throw StrictJson.wrongType(source, "files." + f.getKey(), "a string", f.getValue());
      }
      hashes.put(f.getKey(), f.getValue().textValue());
    }
    Optional<NoiseVersion> noise = Optional.empty();
    JsonNode nv = root.get("noise_version");
    if (nv != null) {
      if (!nv.isIntegralNumber() || !nv.canConvertToInt()) {
        throw StrictJson.wrongType(source, "noise_version", "an integer", nv);
      }
      try {
        noise = Optional.of(NoiseVersion.of(nv.intValue()));
      } catch (IllegalArgumentException e) { // "noise version 3 is unknown; this diffusion4j knows 1, 2"
        throw CheckpointException.of(source, "key 'noise_version': " + e.getMessage()
            + " (a newer diffusion4j wrote it, or the file was edited)");
      }
    }
    try {
      return new Manifest(fv.intValue(), version, backend, seed.longValue(), created, hashes, noise);
    } catch (IllegalArgumentException e) {
      throw CheckpointException.of(source, e.getMessage());
    }
  }

  private static JsonNode require(JsonNode root, String key, String source) {
    JsonNode v = root.get(key);
    if (v == null) {
      throw CheckpointException.of(source, "missing key '" + key + "'");
    }
    return v;
  }

  private static String text(JsonNode root, String key, String source) {
    JsonNode v = require(root, key, source);
    if (!v.isTextual()) {
      throw StrictJson.wrongType(source, key, "a string", v);
    }
    return v.textValue();
  }
}
