package io.github.diffusion4j.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.diffusion4j.io.AtomicFiles;
import io.github.diffusion4j.io.FileProblems;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The {@value #FILE} of a sampling job's output folder: what was sampled (checkpoint and the SHA-256 of its
 * files, backend, its threads, sampler, steps, seed, count, image shape) and every shard with its first sample, count,
 * size and SHA-256. It is written last, atomically, once every shard is in place: a folder with a manifest
 * is complete; a folder without one is not a result.
 *
 * <pre>{@code
 * {"format_version": 1, "kind": "diffusion4j-samples", "count": 10000, "seed": 0, "image_shape": [3, 5, 5],
 *  "format": "npy", "batch_size": 1024, "sampler": "ddim", "steps": 20, "backend": "nd4j", "threads": 1,
 *  "checkpoint": "/shared/runs/demo/checkpoints/step-00007820", "checkpoint_sha256": {"model.safetensors": "..."},
 *  "shards": [{"index": 0, "file": "shard-00000.npy", "first": 0, "count": 2048, "bytes": 614528,
 *              "sha256": "..."}, ...]}
 * }</pre>
 *
 * @param count the number of samples
 * @param seed the noise seed
 * @param imageShape {@code [C, H, W]}
 * @param format the shards' format
 * @param batchSize the sampling batch (shards start at its multiples)
 * @param sampler the sampler's name
 * @param steps the inference steps
 * @param backend the executors' backend
 * @param threads the native threads each task's backend sampled with (the samples' last bits depend on them: a
 *     single-process run reproduces the shards with {@code --set threads=N}); 0 when read from a manifest written
 *     before the key existed (2026-12-06)
 * @param checkpoint the checkpoint folder the driver read
 * @param checkpointSha256 the SHA-256 of the checkpoint files the executors loaded, by name
 * @param shards the shards in order
 */
public record SampleManifest(
    int count,
    long seed,
    List<Integer> imageShape,
    SampleFormat format,
    int batchSize,
    String sampler,
    int steps,
    String backend,
    int threads,
    String checkpoint,
    Map<String, String> checkpointSha256,
    List<ShardResult> shards) {

  /** The file name. */
  public static final String FILE = "manifest.json";

  /** The layout version this release writes and reads. */
  public static final int FORMAT_VERSION = 1;

  /**
   * The largest manifest read (256 MiB, over a million shards): a larger file is refused before it is read, not
   * read into memory whole.
   */
  public static final long MAX_BYTES = 256L << 20;

  private static final String KIND = "diffusion4j-samples";
  private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * Validates and copies: the shards must cover samples {@code 0 .. count - 1} in order, once.
   *
   * @param count the number of samples
   * @param seed the noise seed
   * @param imageShape {@code [C, H, W]}
   * @param format the shards' format
   * @param batchSize the sampling batch
   * @param sampler the sampler's name
   * @param steps the inference steps
   * @param backend the executors' backend
 * @param threads the native threads each task's backend sampled with (the samples' last bits depend on them: a
 *     single-process run reproduces the shards with {@code --set threads=N}); 0 when read from a manifest written
 *     before the key existed (2026-12-06)
   * @param checkpoint the checkpoint folder the driver read
   * @param checkpointSha256 the SHA-256 of the checkpoint files, by name
   * @param shards the shards in order
   */
  public SampleManifest {
    imageShape = List.copyOf(imageShape);
    checkpointSha256 = java.util.Collections.unmodifiableMap(new TreeMap<>(checkpointSha256));
    shards = List.copyOf(shards);
    if (format == null || sampler == null || backend == null || checkpoint == null) {
      throw new IllegalArgumentException("format, sampler, backend and checkpoint are required");
    }
    long next = 0;
    for (int i = 0; i < shards.size(); i++) {
      ShardResult s = shards.get(i);
      if (s.index() != i || s.first() != next) {
        throw new IllegalArgumentException("shards: shard " + i + " (" + s.file() + ") starts at sample " + s.first()
            + ", expected shard " + i + " at sample " + next);
      }
      next += s.count();
    }
    if (next != count) {
      throw new IllegalArgumentException("shards: they hold " + next + " samples, but count is " + count);
    }
  }

  /**
   * The manifest as JSON.
   *
   * @return indented JSON text
   */
  public String toJson() {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("format_version", FORMAT_VERSION);
    root.put("kind", KIND);
    root.put("count", count);
    root.put("seed", seed);
    ArrayNode shape = root.putArray("image_shape");
    imageShape.forEach(shape::add);
    root.put("format", format.configName());
    root.put("batch_size", batchSize);
    root.put("sampler", sampler);
    root.put("steps", steps);
    root.put("backend", backend);
    root.put("threads", threads);
    root.put("checkpoint", checkpoint);
    ObjectNode hashes = root.putObject("checkpoint_sha256");
    checkpointSha256.forEach(hashes::put);
    ArrayNode list = root.putArray("shards");
    for (ShardResult s : shards) {
      ObjectNode o = list.addObject();
      o.put("index", s.index());
      o.put("file", s.file());
      o.put("first", s.first());
      o.put("count", s.count());
      o.put("bytes", s.bytes());
      o.put("sha256", s.sha256());
    }
    try {
      return MAPPER.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the manifest as JSON", e);
    }
  }

  /**
   * Writes {@value #FILE} into a folder, atomically.
   *
   * @param folder the output folder
   * @return the file written
   * @throws UncheckedIOException if it cannot be written
   */
  public Path writeTo(Path folder) {
    Path file = folder.resolve(FILE);
    try {
      AtomicFiles.writeString(file, toJson());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + FileProblems.describe(e), e);
    }
    return file;
  }

  /**
   * Reads a manifest.
   *
   * @param file the {@value #FILE}, or the output folder holding it
   * @return the manifest
   * @throws IllegalArgumentException naming the file and the key if it is not a valid manifest
   * @throws UncheckedIOException if it cannot be read
   */
  public static SampleManifest read(Path file) {
    Path f = Files.isDirectory(file) ? file.resolve(FILE) : file;
    String problem = FileProblems.ofReading(f).orElse(null);
    if (problem != null) {
      throw new UncheckedIOException("cannot read " + f + ": " + problem, new IOException(problem));
    }
    JsonNode root;
    try {
      long size = Files.size(f);
      if (size > MAX_BYTES) {
        throw new IllegalArgumentException(f + ": " + size + " bytes, larger than a samples manifest can be ("
            + MAX_BYTES + " bytes)");
      }
      root = MAPPER.readTree(Files.readString(f, StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      // Jackson's own words, without its "[Source: REDACTED (...); line: 1, column: 1]" (a truncated file's end)
      String why = String.valueOf(e.getOriginalMessage()).replace('\n', ' ')
          .replaceAll(" *\\(start marker at \\[Source: [^]]*\\]\\)", "").replaceAll("\\[Source: [^]]*\\]", "");
      com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
      throw new IllegalArgumentException(f + ": not JSON (" + why.strip()
          + (at != null && at.getLineNr() > 0 ? ", line " + at.getLineNr() + ", column " + at.getColumnNr() : "")
          + ")");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f + ": " + FileProblems.describe(e), e);
    }
    try {
      if (root == null || !root.isObject() || !KIND.equals(text(root, "kind"))) {
        throw new IllegalArgumentException("kind: not a diffusion4j samples manifest");
      }
      if (integer(root, "format_version") > FORMAT_VERSION) {
        throw new IllegalArgumentException("format_version: " + root.get("format_version") + " is newer than "
            + FORMAT_VERSION + ", the newest this release reads");
      }
      // a key of the wrong JSON type is named, not read as empty (a string image_shape read as [], a list of
      // hashes as none, the shards as an object's values)
      List<Integer> shape = new ArrayList<>();
      JsonNode dims = array(root, "image_shape");
      for (int i = 0; i < dims.size(); i++) {
        shape.add(int32(dims, i, "image_shape[" + i + "]"));
      }
      Map<String, String> hashes = new TreeMap<>();
      for (Map.Entry<String, JsonNode> e : object(root, "checkpoint_sha256").properties()) {
        hashes.put(e.getKey(), textValue(e.getValue(), "checkpoint_sha256." + e.getKey()));
      }
      List<ShardResult> shards = new ArrayList<>();
      JsonNode list = array(root, "shards");
      for (int i = 0; i < list.size(); i++) {
        JsonNode s = list.get(i);
        if (!s.isObject()) {
          throw new IllegalArgumentException("shards[" + i + "]: expected an object, got " + s);
        }
        shards.add(new ShardResult(int32(s, "index"), integer(s, "first"), int32(s, "count"),
            text(s, "file"), integer(s, "bytes"), text(s, "sha256")));
      }
      String format = text(root, "format");
      return new SampleManifest(int32(root, "count"), integer(root, "seed"), shape,
          SampleFormat.named(format).orElseThrow(() -> new IllegalArgumentException("format: unknown '" + format
              + "' (allowed: npy, safetensors, png)")), int32(root, "batch_size"), text(root, "sampler"),
          int32(root, "steps"), text(root, "backend"), root.has("threads") ? int32(root, "threads") : 0,
          text(root, "checkpoint"), hashes, shards);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(f + ": " + e.getMessage(), e);
    }
  }

  private static JsonNode node(JsonNode o, String key) {
    JsonNode v = o.get(key);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException(key + ": missing");
    }
    return v;
  }

  private static JsonNode array(JsonNode o, String key) {
    JsonNode v = node(o, key);
    if (!v.isArray()) {
      throw new IllegalArgumentException(key + ": expected a list, got " + v);
    }
    return v;
  }

  private static JsonNode object(JsonNode o, String key) {
    JsonNode v = node(o, key);
    if (!v.isObject()) {
      throw new IllegalArgumentException(key + ": expected an object, got " + v);
    }
    return v;
  }

  private static String text(JsonNode o, String key) {
    return textValue(node(o, key), key);
  }

  /** A value that must be a string; {@code name} names it in the error. */
  private static String textValue(JsonNode v, String name) {
    if (!v.isTextual()) {
      throw new IllegalArgumentException(name + ": expected a string, got " + v);
    }
    return v.asText();
  }

  private static long integer(JsonNode o, String key) {
    return integerValue(node(o, key), key);
  }

  /** A value that must be an integer; {@code name} names it in the error. */
  private static long integerValue(JsonNode v, String name) {
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new IllegalArgumentException(name + ": expected an integer, got " + v);
    }
    return v.asLong();
  }

  private static int int32(JsonNode o, String key) {
    return int32(integer(o, key), key);
  }

  /** Element {@code i} of a list, an integer that must fit a Java int. */
  private static int int32(JsonNode list, int i, String name) {
    return int32(integerValue(list.get(i), name), name);
  }

  /** An integer that must fit a Java int: a larger one is refused, not wrapped around. */
  private static int int32(long v, String name) {
    if (v != (int) v) {
      throw new IllegalArgumentException(name + ": " + v + " is out of range (at most " + Integer.MAX_VALUE + ")");
    }
    return (int) v;
  }

  /**
   * Checks every shard in a folder against this manifest: present, of its size and SHA-256 (reads them all). A
   * shard must be a regular file (for PNG, a folder of regular files) inside the folder, not a symbolic link, a
   * FIFO or a device; its size is compared before its bytes are read.
   *
   * @param folder the output folder
   * @throws IllegalStateException naming the first shard that differs
   */
  public void verify(Path folder) {
    for (ShardResult s : shards) {
      Path p = folder.resolve(s.file());
      long expected = plainSize(p, format == SampleFormat.PNG);
      if (expected != s.bytes()) {
        throw new IllegalStateException(p + ": does not match " + FILE + " (" + expected + " bytes; expected "
            + s.bytes() + " bytes)");
      }
      long[] size = new long[1];
      String actual = format == SampleFormat.PNG ? sha256OfFolder(p, size) : sha256OfFile(p, size);
      if (size[0] != s.bytes() || !actual.equals(s.sha256())) {
        throw new IllegalStateException(p + ": does not match " + FILE + " (" + size[0] + " bytes, SHA-256 "
            + actual.substring(0, 12) + "...; expected " + s.bytes() + " bytes, " + s.sha256().substring(0, 12) + "...)");
      }
    }
  }

  /**
   * The size of a shard (a PNG shard: of its files), read from the file system without opening anything.
   *
   * @throws IllegalStateException naming the path if it is missing, a symbolic link or not a regular file
   */
  private static long plainSize(Path p, boolean isFolder) {
    try {
      if (Files.isSymbolicLink(p)) {
        throw new IllegalStateException(p + ": is a symbolic link; a shard is a " + (isFolder ? "folder" : "file")
            + " the job wrote into the output folder");
      }
      if (!isFolder) {
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          throw new IllegalStateException(p + ": " + FileProblems.ofReading(p).orElse("is not a regular file"));
        }
        return Files.size(p);
      }
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new IllegalStateException(p + ": " + (Files.exists(p) ? "is not a folder" : "no such folder"));
      }
      long total = 0;
      try (Stream<Path> list = Files.list(p)) {
        for (Path f : (Iterable<Path>) list::iterator) {
          if (AtomicFiles.isTemporary(f.getFileName().toString())) {
            continue;
          }
          if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalStateException(f + ": is not a regular file (a symbolic link, folder, FIFO or device)");
          }
          total += Files.size(f);
        }
      }
      return total;
    } catch (IOException e) {
      throw new IllegalStateException(p + ": missing or unreadable (" + FileProblems.describe(e) + ")", e);
    }
  }

  private static String sha256OfFile(Path file, long[] size) {
    MessageDigest md = Sha256.digest();
    size[0] += update(md, file);
    return Sha256.hex(md);
  }

  private static String sha256OfFolder(Path folder, long[] size) {
    MessageDigest md = Sha256.digest();
    List<Path> files;
    try (Stream<Path> list = Files.list(folder)) {
      files = list.filter(p -> !AtomicFiles.isTemporary(p.getFileName().toString())).sorted().toList();
    } catch (IOException e) {
      throw new IllegalStateException(folder + ": missing or unreadable (" + FileProblems.describe(e) + ")", e);
    }
    for (Path p : files) {
      size[0] += update(md, p);
    }
    return Sha256.hex(md);
  }

  /** A shard file's bytes into the digest; a shard that cannot be read does not match. */
  private static long update(MessageDigest md, Path file) {
    try {
      return Sha256.update(md, file);
    } catch (UncheckedIOException e) {
      throw new IllegalStateException(file + ": missing or unreadable (" + e.getCause().getMessage() + ")", e);
    }
  }
}
