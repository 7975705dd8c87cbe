package io.github.diffusion4j.io;

import io.github.diffusion4j.model.FloatArray;
import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.tensor.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads the state dicts in a file written by PyTorch's {@code torch.save}, without Python and without running
 * anything the file names: the zip format (PyTorch 1.6 and later: {@code <name>/data.pkl} and one entry per
 * storage, {@code <name>/data/<key>}) and the legacy format before it (five pickles, then the raw storages).
 *
 * <p>The pickle is read by an inert reader ({@code Pickle}) that builds dicts, lists, tuples, numbers and strings
 * and knows only the names a state dict uses ({@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2},
 * {@code torch.FloatStorage}, ...); any other name (a class, {@code os.system}) stays an inert placeholder that is
 * never imported or called, so a file can at worst hold no usable state dict. Every size is checked against the
 * file before anything is allocated; tensors are read only when asked for, one at a time. Every element type is
 * read (integer and bool buffers such as BatchNorm's {@code num_batches_tracked} too, as float32), and an empty
 * tensor keeps its shape: whether a tensor fits a model is the loader's question ({@link #shapes}, then
 * {@link #parameters}).
 *
 * <pre>{@code
 * try (TorchCheckpoint c = TorchCheckpoint.open(Path.of("model-790000.ckpt"))) {
 *   List<String> found = c.stateDictNames();     // "" for a state dict at the root, "[0]", "[4]" in a list, "ema" in a dict
 *   StateDict weights = c.stateDict(found.get(0));
 * }
 * }</pre>
 */
public final class TorchCheckpoint implements AutoCloseable {
  /** The largest pickle read, in bytes (a state dict's pickle holds names and shapes: kilobytes). */
  public static final int MAX_PICKLE_BYTES = 256 << 20;

  private static final Pattern STORAGE_KEY = Pattern.compile("[0-9A-Za-z_]{1,64}");
  private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};
  private static final int MAX_RANK = 8;

  /** The element types of torch's storage classes ({@code torch.LongStorage} holds int64). */
  private enum Kind {
    FLOAT(DType.F32), DOUBLE(DType.F64), HALF(DType.F16), BFLOAT16(DType.BF16), LONG(DType.I64), INT(DType.I32),
    SHORT(DType.I16), CHAR(DType.I8), BYTE(DType.U8), BOOL(DType.BOOL);

    final DType dtype;

    Kind(DType dtype) {
      this.dtype = dtype;
    }

    static DType of(Pickle.Global g) {
      String n = g.name();
      if (!g.module().equals("torch") || !n.endsWith("Storage")) {
        return null;
      }
      String base = n.substring(0, n.length() - "Storage".length()).toUpperCase(java.util.Locale.ROOT);
      return Arrays.stream(values()).filter(k -> k.name().equals(base)).findFirst().map(k -> k.dtype).orElse(null);
    }
  }

  /** One storage: its key, element type and length in elements. */
  private record Storage(String key, DType dtype, long numel) {}

  /** A storage seen from an element offset (legacy views). */
  private record StorageView(Storage storage, long offset) {}

  /** A tensor: where its elements are. */
  private record TensorRef(StorageView view, long offset, long[] shape, long[] stride) {
    long numel() {
      long n = 1;
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      return n;
    }
  }

  /** Reads a storage's elements {@code [from, from + count)}. */
  private interface StorageReader {
    ByteBuffer read(Storage s, long from, long count) throws IOException;
  }

  private final Path file;
  private final Object root;
  private final StorageReader reader;
  private final AutoCloseable resource;

  private TorchCheckpoint(Path file, Object root, StorageReader reader, AutoCloseable resource) {
    this.file = file;
    this.root = root;
    this.reader = reader;
    this.resource = resource;
  }

  /**
   * Whether a file starts like a {@code torch.save} file (a zip archive, or a pickle).
   *
   * @param file the file
   * @return true if it is a readable regular file whose first bytes are a zip or pickle header
   */
  public static boolean looksLikeTorchFile(Path file) {
    if (FileProblems.ofReading(file).isPresent()) {
      return false; // a folder, or a FIFO whose reading would block until a writer comes
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] head = in.readNBytes(4);
      return head.length == 4 && (Arrays.equals(head, ZIP_MAGIC) || (head[0] & 0xFF) == 0x80);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Opens a {@code torch.save} file and reads its pickle (not its tensors).
   *
   * @param file the file
   * @return the checkpoint; close it when done
   * @throws CheckpointException naming the file if it is missing, not a PyTorch file, or malformed
   */
  public static TorchCheckpoint open(Path file) {
    if (!Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw CheckpointException.of(file, "file not found");
    }
    FileSupport.requireReadable(file); // a folder or a FIFO is named as such, and never blocks the reader
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(512);
    } catch (NoSuchFileException e) {
      throw CheckpointException.of(file, "file not found");
    } catch (IOException e) {
      throw CheckpointException.of(file, "cannot read: " + FileProblems.describe(e), e);
    }
    if (head.length >= 4 && Arrays.equals(Arrays.copyOf(head, 4), ZIP_MAGIC)) {
      return openZip(file);
    }
    if (head.length > 0 && (head[0] & 0xFF) == 0x80) {
      return openLegacy(file);
    }
    if (head.length >= 262 && new String(head, 257, 5, StandardCharsets.ISO_8859_1).equals("ustar")) {
      throw CheckpointException.of(file, "a tar archive (PyTorch before 0.4); load and save it again with a newer "
          + "torch (torch.save writes the zip format)");
    }
    if (looksLikeSafetensors(head)) {
      throw CheckpointException.of(file, "not a PyTorch checkpoint but a safetensors file (torch.save writes a zip "
          + "archive or, before PyTorch 1.6, a pickle)");
    }
    throw CheckpointException.of(file, "not a PyTorch checkpoint: it is neither a zip archive (torch.save since "
        + "PyTorch 1.6) nor a pickle (the legacy format)");
  }

  /** A safetensors file's start: an 8-byte little-endian header length, then its JSON object's '{'. */
  private static boolean looksLikeSafetensors(byte[] head) {
    if (head.length < 10 || head[8] != '{') {
      return false;
    }
    long n = java.nio.ByteBuffer.wrap(head, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    return n >= 2 && n <= SafeTensors.MAX_HEADER_BYTES;
  }

  // ------------------------------------------------------------------------------------------ zip format

  private static TorchCheckpoint openZip(Path file) {
    ZipFile zip;
    try {
      zip = new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw CheckpointException.of(file, "not a readable zip archive: " + e.getMessage());
    } catch (IOException e) {
      throw CheckpointException.of(file, "cannot read: " + FileProblems.describe(e), e);
    }
    try {
      List<String> pickles = new ArrayList<>();
      zip.stream().map(ZipEntry::getName).filter(n -> n.equals("data.pkl") || n.endsWith("/data.pkl")).forEach(pickles::add);
      if (pickles.size() != 1) {
        throw CheckpointException.of(file, "a zip archive with " + pickles.size() + " data.pkl entries; torch.save "
            + "writes exactly one");
      }
      String prefix = pickles.get(0).substring(0, pickles.get(0).length() - "data.pkl".length());
      ZipEntry order = zip.getEntry(prefix + "byteorder");
      if (order != null) {
        String o = new String(readEntry(zip, order, 16, file), StandardCharsets.US_ASCII).trim();
        if (!o.equals("little")) {
          throw CheckpointException.of(file, "byte order '" + o + "'; only little-endian files are read");
        }
      }
      byte[] pkl = readEntry(zip, zip.getEntry(pickles.get(0)), MAX_PICKLE_BYTES, file);
      Map<String, Storage> storages = new HashMap<>();
      Pickle.PersistentLoader loader = pid -> {
        Pickle.Tuple t = persistentTuple(pid, 5, "the zip format", file);
        return new StorageView(register(storages, storage(t.get(1), t.get(2), t.get(4), file), file), 0);
      };
      Object root;
      try {
        root = Pickle.read(pkl, 0, file + ": " + pickles.get(0), loader, TorchCheckpoint::reduce).value();
      } catch (Pickle.Truncated t) {
        throw CheckpointException.of(file, t.getMessage().substring(file.toString().length() + 2));
      }
      StorageReader reader = (s, from, count) -> {
        ZipEntry e = zip.getEntry(prefix + "data/" + s.key());
        if (e == null) {
          throw CheckpointException.of(file, "storage '" + s.key() + "' has no entry " + prefix + "data/" + s.key());
        }
        long bytes = Math.multiplyExact(s.numel(), s.dtype().bytes());
        if (e.getSize() != bytes) {
          throw CheckpointException.of(file, "storage '" + s.key() + "' holds " + e.getSize() + " bytes but its "
              + s.numel() + " elements need " + bytes);
        }
        checkExpansion(e, file);
        try (InputStream in = zip.getInputStream(e)) {
          in.skipNBytes(from * s.dtype().bytes());
          byte[] b = in.readNBytes((int) (count * s.dtype().bytes()));
          if (b.length != count * s.dtype().bytes()) {
            throw CheckpointException.of(file, "storage '" + s.key() + "' is truncated");
          }
          return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        }
      };
      return new TorchCheckpoint(file, root, reader, zip);
    } catch (RuntimeException e) {
      FileSupport.closeQuietly(zip);
      throw e;
    }
  }

  private static byte[] readEntry(ZipFile zip, ZipEntry e, int max, Path file) {
    if (e.getSize() > max) {
      throw CheckpointException.of(file, e.getName() + " holds " + e.getSize() + " bytes, more than the " + max
          + " a state dict's pickle needs");
    }
    checkExpansion(e, file);
    try (InputStream in = zip.getInputStream(e)) {
      byte[] b = in.readNBytes(max + 1);
      if (b.length > max) {
        throw CheckpointException.of(file, e.getName() + " is larger than " + max + " bytes");
      }
      return b;
    } catch (IOException x) {
      throw CheckpointException.of(file, "cannot read " + e.getName() + ": " + FileProblems.describe(x), x);
    }
  }

  /** How many times its compressed size a compressed entry may expand to (beyond the first MiB). */
  static final int MAX_EXPANSION = 100;

  /**
   * Refuses an entry that expands far beyond the bytes it takes in the file (a zip bomb: a few MB that inflate to
   * gigabytes, which would be allocated before the data is seen). torch.save stores its entries uncompressed.
   */
  private static void checkExpansion(ZipEntry e, Path file) {
    long packed = e.getCompressedSize();
    if (e.getMethod() != ZipEntry.STORED && e.getSize() > (1 << 20)
        && (packed < 0 || e.getSize() / MAX_EXPANSION > packed)) {
      throw CheckpointException.of(file, e.getName() + " inflates from " + packed + " to " + e.getSize()
          + " bytes, more than " + MAX_EXPANSION + " times; torch.save stores entries uncompressed (a zip bomb?)");
    }
  }

  // ------------------------------------------------------------------------------------------ legacy format

  private static final long LEGACY_MAGIC_LOW = 0xa86a20f9469cfc6cL;

  private static TorchCheckpoint openLegacy(Path file) {
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw CheckpointException.of(file, "cannot read: " + FileProblems.describe(e), e);
    }
    try {
      long size = ch.size();
      int length = (int) Math.min(size, 1 << 20);
      while (true) {
        try {
          return readLegacy(file, ch, size, length);
        } catch (Pickle.Truncated t) {
          if (length >= Math.min(size, MAX_PICKLE_BYTES)) {
            throw CheckpointException.of(file, length == size ? t.getMessage().substring(file.toString().length() + 2)
                : "the pickles before the tensors take more than " + MAX_PICKLE_BYTES + " bytes; not a state dict");
          }
          length = (int) Math.min(Math.min(size, MAX_PICKLE_BYTES), 4L * length);
        }
      }
    } catch (IOException e) {
      FileSupport.closeQuietly(ch);
      throw CheckpointException.of(file, "cannot read: " + FileProblems.describe(e), e);
    } catch (RuntimeException e) {
      FileSupport.closeQuietly(ch);
      throw e;
    }
  }

  /** Parses the five pickles from the first {@code length} bytes; {@link Pickle.Truncated} if they need more. */
  private static TorchCheckpoint readLegacy(Path file, FileChannel ch, long size, int length) throws IOException {
    byte[] head = new byte[length];
    ByteBuffer hb = ByteBuffer.wrap(head);
    while (hb.hasRemaining() && ch.read(hb, hb.position()) > 0) {
      // fill
    }
    String src = file.toString();
    Pickle.Reducer none = (g, a) -> new Pickle.Opaque(g.qualified() + "(...)");
    Pickle.Result magic = Pickle.read(head, 0, src, pid -> {
      throw CheckpointException.of(file, "a storage before the header");
    }, none);
    if (!(magic.value() instanceof java.math.BigInteger m) || m.longValue() != LEGACY_MAGIC_LOW || m.shiftRight(64).intValue() != 0x1950) {
      throw CheckpointException.of(file, "a pickle that is not a PyTorch checkpoint (no torch.save magic number)");
    }
    Pickle.Result protocol = Pickle.read(head, magic.end(), src, pid -> null, none);
    if (!Long.valueOf(1001).equals(protocol.value())) {
      throw CheckpointException.of(file, "legacy protocol " + (protocol.value() instanceof Long l ? l
          : Pickle.kind(protocol.value())) + "; only 1001 is known");
    }
    Pickle.Result sys = Pickle.read(head, protocol.end(), src, pid -> null, none);
    if (sys.value() instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian"))) {
      throw CheckpointException.of(file, "written on a big-endian machine; only little-endian files are read");
    }
    Map<String, Storage> storages = new HashMap<>();
    Pickle.PersistentLoader loader = pid -> {
      Pickle.Tuple t = persistentTuple(pid, 6, "the legacy format", file);
      Storage s = register(storages, storage(t.get(1), t.get(2), t.get(4), file), file);
      if (t.get(5) == null) {
        return new StorageView(s, 0);
      }
      long[] view = t.get(5) instanceof Pickle.Tuple v && v.size() == 3 ? Pickle.asLongs(new Pickle.Tuple(v.items().subList(1, 3))) : null;
      if (view == null || view[0] < 0 || view[1] < 0 || view[0] + view[1] > s.numel()) {
        throw CheckpointException.of(file, "a malformed storage view of '" + s.key() + "'");
      }
      return new StorageView(s, view[0]);
    };
    Pickle.Result body = Pickle.read(head, sys.end(), src, loader, TorchCheckpoint::reduce);
    Pickle.Result keys = Pickle.read(head, body.end(), src, pid -> null, none);
    if (!(keys.value() instanceof List<?> keyList)) {
      throw CheckpointException.of(file, "the storage list is a " + Pickle.kind(keys.value()) + ", not a list");
    }
    Map<String, Long> offsets = new HashMap<>();
    long at = keys.end();
    ByteBuffer eight = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    for (Object k : keyList) {
      Storage s = k instanceof String key ? storages.get(key) : null;
      if (s == null) {
        throw CheckpointException.of(file, "the storage list names " + (k instanceof String key ? "'" + key + "'"
            : "a " + Pickle.kind(k)) + ", which no tensor uses");
      }
      eight.clear();
      if (at + 8 > size || ch.read(eight, at) != 8) {
        throw CheckpointException.of(file, "truncated: storage '" + s.key() + "' is missing");
      }
      long numel = eight.getLong(0);
      if (numel != s.numel()) {
        throw CheckpointException.of(file, "storage '" + s.key() + "' holds " + numel + " elements but is described with "
            + s.numel());
      }
      offsets.put(s.key(), at + 8);
      at = Math.addExact(at + 8, Math.multiplyExact(numel, s.dtype().bytes()));
      if (at > size) {
        throw CheckpointException.of(file, "truncated: storage '" + s.key() + "' runs past the end of the file");
      }
    }
    StorageReader reader = (s, from, count) -> {
      Long base = offsets.get(s.key());
      if (base == null) {
        throw CheckpointException.of(file, "storage '" + s.key() + "' is not in the file's storage list");
      }
      ByteBuffer b = ByteBuffer.allocate((int) (count * s.dtype().bytes())).order(ByteOrder.LITTLE_ENDIAN);
      long p = base + from * s.dtype().bytes();
      while (b.hasRemaining()) {
        int n = ch.read(b, p + b.position());
        if (n < 0) {
          throw CheckpointException.of(file, "truncated: storage '" + s.key() + "'");
        }
      }
      return b.flip();
    };
    return new TorchCheckpoint(file, body.value(), reader, ch);
  }

  // ------------------------------------------------------------------------------------------ tensors

  private static Pickle.Tuple persistentTuple(Object pid, int fields, String format, Path file) {
    if (!(pid instanceof Pickle.Tuple t) || t.size() < 1 || !"storage".equals(t.get(0))) {
      throw CheckpointException.of(file, "a persistent id that is not a storage (" + Pickle.kind(pid) + ")");
    }
    if (t.size() != fields) {
      throw CheckpointException.of(file, "a storage id of " + t.size() + " fields; " + format + " has " + fields);
    }
    return t;
  }

  /** The storage of that key, the same every time it is described. */
  private static Storage register(Map<String, Storage> storages, Storage s, Path file) {
    Storage known = storages.putIfAbsent(s.key(), s);
    if (known != null && !known.equals(s)) {
      throw CheckpointException.of(file, "storage '" + s.key() + "' is described twice, differently");
    }
    return s;
  }

  private static Storage storage(Object type, Object key, Object numel, Path file) {
    DType dtype = type instanceof Pickle.Global g ? Kind.of(g) : null;
    if (dtype == null) {
      throw CheckpointException.of(file, "a storage of type " + Pickle.kind(type) + "; known are torch.FloatStorage, "
          + "DoubleStorage, HalfStorage, BFloat16Storage and the integer storages");
    }
    if (!(key instanceof String k) || !STORAGE_KEY.matcher(k).matches()) {
      throw CheckpointException.of(file, "a storage key that is not a short name: " + Pickle.kind(key));
    }
    Long n = Pickle.asLong(numel);
    if (n == null || n < 0) {
      throw CheckpointException.of(file, "storage '" + k + "' has a size that is not a count");
    }
    return new Storage(k, dtype, n);
  }

  /** The values of the functions a state dict's pickle calls. */
  private static Object reduce(Pickle.Global g, Pickle.Tuple args) {
    switch (g.qualified()) {
      case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> {
        if (args.size() < 4 || !(args.get(0) instanceof StorageView view)) {
          return new Pickle.Opaque("a malformed tensor");
        }
        Long offset = Pickle.asLong(args.get(1));
        long[] shape = Pickle.asLongs(args.get(2));
        long[] stride = Pickle.asLongs(args.get(3));
        if (offset == null || shape == null || stride == null || shape.length != stride.length || shape.length > MAX_RANK) {
          return new Pickle.Opaque("a malformed tensor");
        }
        return new TensorRef(view, offset, shape, stride);
      }
      case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
        return args.size() >= 1 ? args.get(0) : new Pickle.Opaque("a malformed parameter");
      }
      case "torch._tensor._rebuild_from_type_v2" -> {
        if (args.size() >= 3 && args.get(0) instanceof Pickle.Global f && args.get(2) instanceof Pickle.Tuple a) {
          return reduce(f, a);
        }
        return new Pickle.Opaque("a malformed tensor subclass");
      }
      case "_codecs.encode" -> {
        if (args.size() >= 1 && args.get(0) instanceof String s) {
          return new Pickle.Bytes(s.getBytes(StandardCharsets.ISO_8859_1));
        }
        return new Pickle.Opaque("bytes");
      }
      default -> {
        return new Pickle.Opaque(g.qualified() + "(...)");
      }
    }
  }

  private static boolean isStateDict(Object o) {
    if (!(o instanceof Map<?, ?> m) || m.isEmpty()) {
      return false;
    }
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (!(e.getKey() instanceof String) || !(e.getValue() instanceof TensorRef)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Where the file holds state dicts (dicts of tensors by name): {@code ""} for the root, {@code "[i]"} for an
   * item of a root list or tuple (ermongroup/ddim's {@code [model, optimizer, epoch, step, ema]}), a key for an
   * entry of a root dict ({@code "state_dict"}, {@code "ema"}).
   *
   * @return the places, in file order (empty if there is none)
   */
  public List<String> stateDictNames() {
    List<String> out = new ArrayList<>();
    if (isStateDict(root)) {
      out.add("");
    } else if (root instanceof Map<?, ?> m) {
      m.forEach((k, v) -> {
        if (k instanceof String s && isStateDict(v)) {
          out.add(s);
        }
      });
    } else if (root instanceof List<?> || root instanceof Pickle.Tuple) {
      List<?> items = root instanceof Pickle.Tuple t ? t.items() : (List<?>) root;
      for (int i = 0; i < items.size(); i++) {
        if (isStateDict(items.get(i))) {
          out.add("[" + i + "]");
        }
      }
    }
    return out;
  }

  /**
   * What the root of the file is, for messages: {@code "a dict with keys [...]"}, {@code "a list of 5 items"}.
   *
   * @return the description
   */
  public String describeRoot() {
    if (root instanceof Map<?, ?> m) {
      List<String> keys = new ArrayList<>();
      m.keySet().stream().limit(8).forEach(k -> keys.add(String.valueOf(k)));
      return "a dict with " + m.size() + (m.size() == 1 ? " key " : " keys ") + keys + (m.size() > 8 ? " ..." : "");
    }
    if (root instanceof List<?> l) {
      return "a list of " + l.size() + " items";
    }
    return "a " + Pickle.kind(root);
  }

  private Map<?, ?> dictAt(String name) {
    Object o;
    if (name.isEmpty()) {
      o = root;
    } else if (name.startsWith("[") && name.endsWith("]") && (root instanceof List<?> || root instanceof Pickle.Tuple)) {
      List<?> items = root instanceof Pickle.Tuple t ? t.items() : (List<?>) root;
      int i;
      try {
        i = Integer.parseInt(name.substring(1, name.length() - 1));
      } catch (NumberFormatException e) {
        i = -1;
      }
      o = i >= 0 && i < items.size() ? items.get(i) : null;
    } else {
      o = root instanceof Map<?, ?> m ? m.get(name) : null;
    }
    if (!isStateDict(o)) {
      throw CheckpointException.of(file, "holds no state dict at '" + name + "'; state dicts are at " + stateDictNames());
    }
    return (Map<?, ?>) o;
  }

  /**
   * The names and shapes of a state dict, without reading its tensors.
   *
   * @param name a place of {@link #stateDictNames()}
   * @return the shapes by name, in file order (a scalar as {@code [1]}, an empty tensor with its zero dimensions)
   */
  public Map<String, int[]> shapes(String name) {
    Map<String, int[]> out = new LinkedHashMap<>();
    dictAt(name).forEach((k, v) -> out.put((String) k, shape((String) k, (TensorRef) v)));
    return Collections.unmodifiableMap(out);
  }

  /**
   * The names and element types of a state dict, without reading its tensors.
   *
   * @param name a place of {@link #stateDictNames()}
   * @return torch's dtype names by tensor name, in file order ({@code "float32"}, {@code "int64"}, {@code "bool"},
   *     ...)
   */
  public Map<String, String> dtypes(String name) {
    Map<String, String> out = new LinkedHashMap<>();
    dictAt(name).forEach((k, v) -> out.put((String) k, ((TensorRef) v).view().storage().dtype().torchName()));
    return Collections.unmodifiableMap(out);
  }

  private int[] shape(String name, TensorRef t) {
    if (t.shape().length == 0) {
      return new int[] {1};
    }
    int[] s = new int[t.shape().length];
    for (int i = 0; i < s.length; i++) {
      if (t.shape()[i] < 0 || t.shape()[i] > Integer.MAX_VALUE - 8) {
        throw CheckpointException.of(file, "tensor '" + name + "' has shape " + Arrays.toString(t.shape())
            + "; dimensions must be between 0 and " + (Integer.MAX_VALUE - 8));
      }
      s[i] = (int) t.shape()[i];
    }
    if (Arrays.stream(s).anyMatch(d -> d == 0)) {
      return s; // empty, whatever its other dimensions
    }
    long elements = 1;
    for (int d : s) {
      elements *= d; // below 2^31 before, a factor below 2^31: no overflow
      if (elements > Integer.MAX_VALUE - 8) {
        throw CheckpointException.of(file, "tensor '" + name + "' has shape " + Arrays.toString(t.shape())
            + ", more than the " + (Integer.MAX_VALUE - 8) + " elements an array holds");
      }
    }
    return s;
  }

  /**
   * Reads a state dict as float32: float16, bfloat16 and float64 tensors are converted, and so are integer and bool
   * tensors (a BatchNorm's {@code num_batches_tracked}, a step counter: to the nearest float, bool to 0 or 1), so
   * that a model's layout check names one it does not expect as it names any other entry. To load a model's
   * parameters, check the names and shapes ({@link #shapes}) first, then read with {@link #parameters}.
   *
   * @param name a place of {@link #stateDictNames()}
   * @return the tensors, in file order
   * @throws CheckpointException naming the file and tensor if one is empty (a zero dimension: {@link #shapes} and
   *     {@link #dtypes} describe it) or lies outside its storage; naming the file if their float32 values together
   *     would not fit in the heap
   */
  public StateDict stateDict(String name) {
    Map<?, ?> dict = dictAt(name);
    long total = 0; // the float32 values of all the tensors, checked against the heap before any is read
    for (Map.Entry<?, ?> e : dict.entrySet()) {
      long n;
      try {
        n = ((TensorRef) e.getValue()).numel();
      } catch (ArithmeticException overflow) {
        continue; // said by the tensor's read
      }
      if (n <= Integer.MAX_VALUE - 8) { // a larger one is said by its read: more than an array holds
        DType.requireHeapFor(file, (String) e.getKey(), n);
        total += n; // each below 2^31, fewer than 2^31 tensors: no overflow
      }
    }
    DType.requireHeapForAll(file, dict.size(), total); // each fits, not all: a byte of int8 is four of float32
    StateDict.Builder b = StateDict.builder();
    for (Map.Entry<?, ?> e : dict.entrySet()) {
      String key = (String) e.getKey();
      TensorRef t = (TensorRef) e.getValue();
      int[] shape = shape(key, t);
      DType.requireValues(file, key, shape);
      b.put(key, FloatArray.wrap(Shape.of(shape), read(key, t)));
    }
    return b.build();
  }

  /**
   * Reads a state dict whose every tensor is a model parameter (the caller has checked the names and shapes of
   * {@link #shapes} against the model's, refusing the entries it does not expect): as {@link #stateDict}, but a
   * tensor that is not floating-point is refused.
   *
   * @param name a place of {@link #stateDictNames()}
   * @return the tensors as float32, in file order
   * @throws CheckpointException naming the file, the tensor (and the state dict's place, where not the root), and its
   *     dtype and the dtypes allowed, or the dimension along which it repeats its values (a stride of 0)
   */
  public StateDict parameters(String name) {
    String at = name.isEmpty() ? "" : " of the state dict at '" + name + "'";
    dictAt(name).forEach((key, v) -> {
      TensorRef t = (TensorRef) v;
      DType dtype = t.view().storage().dtype();
      if (!dtype.isParameterType()) {
        throw dtype.notAParameter(file, "'" + key + "'" + at);
      }
      for (int d = 0; d < t.shape().length; d++) {
        if (t.shape()[d] > 1 && t.stride()[d] == 0) { // only a hostile file or an expand()ed buffer has one
          throw CheckpointException.of(file, "tensor '" + key + "'" + at + " repeats its values along dimension " + d
              + " (a stride of 0: an expanded view); a model parameter is stored whole (save it after .contiguous())");
        }
      }
    });
    return stateDict(name);
  }

  private float[] read(String name, TensorRef t) {
    Storage s = t.view().storage();
    long n;
    long first = t.view().offset() + t.offset();
    long last = first;
    boolean contiguous = true;
    long expect = 1;
    try {
      n = t.numel();
      for (int d = t.shape().length - 1; d >= 0; d--) {
        if (t.stride()[d] < 0) {
          throw CheckpointException.of(file, "tensor '" + name + "' has a negative stride");
        }
        last = Math.addExact(last, Math.multiplyExact(t.shape()[d] - 1, t.stride()[d]));
        if (t.shape()[d] != 1 && t.stride()[d] != expect) {
          contiguous = false;
        }
        expect = Math.multiplyExact(expect, t.shape()[d]);
      }
    } catch (ArithmeticException e) {
      throw CheckpointException.of(file, "tensor '" + name + "' has sizes that overflow");
    }
    if (n > Integer.MAX_VALUE - 8) {
      throw CheckpointException.of(file, "tensor '" + name + "' has " + n + " elements, more than an array holds");
    }
    if (first < 0 || last >= s.numel()) {
      throw CheckpointException.of(file, "tensor '" + name + "' reaches element " + last + " of storage '" + s.key()
          + "', which has " + s.numel());
    }
    long span = last - first + 1;
    if (span * s.dtype().bytes() > Integer.MAX_VALUE - 8) {
      throw CheckpointException.of(file, "tensor '" + name + "' spans more than 2 GB of its storage");
    }
    DType.requireHeapFor(file, name, n); // a view with a stride of 0 repeats its storage: a few bytes can ask for GBs
    ByteBuffer bytes;
    try {
      bytes = reader.read(s, first, span);
    } catch (IOException e) {
      throw CheckpointException.of(file, "cannot read storage '" + s.key() + "': " + FileProblems.describe(e), e);
    }
    float[] out = new float[(int) n];
    if (contiguous) {
      s.dtype().decode(bytes, out, 0, (int) n);
      return out;
    }
    int rank = t.shape().length;
    long[] idx = new long[rank];
    for (int i = 0; i < out.length; i++) {
      long at = 0;
      for (int d = 0; d < rank; d++) {
        at += idx[d] * t.stride()[d];
      }
      bytes.position((int) (at * s.dtype().bytes()));
      s.dtype().decode(bytes, out, i, 1);
      for (int d = rank - 1; d >= 0 && ++idx[d] == t.shape()[d]; d--) {
        idx[d] = 0;
      }
    }
    return out;
  }

  @Override
  public void close() {
    FileSupport.closeQuietly(resource);
  }
}
