package io.github.diffusion4j.io;

import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A bounded, inert reader of Python pickles, for the subset {@code torch.save} writes (protocols 2 to 5): it
 * builds plain Java values and never imports or runs anything. Python's pickle calls any importable function;
 * this reader knows a short list of names ({@link Global#KNOWN}) and turns every other {@code GLOBAL} into an
 * inert {@link Opaque} marker, which {@code REDUCE}, {@code NEWOBJ} and {@code BUILD} only carry along.
 *
 * <p>Values: {@code None} is {@code null}; booleans {@link Boolean}; ints {@link Long} (or {@link BigInteger});
 * floats {@link Double}; str {@link String}; bytes {@link Bytes}; lists {@link ArrayList}; tuples {@link Tuple};
 * dicts (and {@code collections.OrderedDict}) {@link LinkedHashMap}; persistent ids are handed to a
 * {@link PersistentLoader}. Limits bound memory and time whatever the input: the memo, the stack, the number of
 * objects, and every length is checked against the bytes that remain before anything is allocated.
 */
final class Pickle {
  /** The most objects one pickle may create. */
  static final int MAX_OBJECTS = 1 << 24;
  /** The most memo entries. */
  static final int MAX_MEMO = 1 << 22;
  /** The most MARKs open at once (Python's pickler nests them as deep as the value: under its recursion limit). */
  static final int MAX_MARKS = 10_000;

  /** A Python tuple. */
  record Tuple(List<Object> items) {
    Tuple {
      items = java.util.Collections.unmodifiableList(new ArrayList<>(items));
    }

    Object get(int i) {
      return items.get(i);
    }

    int size() {
      return items.size();
    }
  }

  /** Python bytes. */
  record Bytes(byte[] value) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Bytes b && Arrays.equals(b.value, value);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(value);
    }

    @Override
    public String toString() {
      return "bytes[" + value.length + "]";
    }
  }

  /** A name the reader knows: a class or function of the short list, resolved by the caller on REDUCE. */
  record Global(String module, String name) {
    /** The names a PyTorch state dict may reference. */
    static final java.util.Set<String> KNOWN = java.util.Set.of(
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        "torch._tensor._rebuild_from_type_v2", "torch.Tensor", "torch.nn.parameter.Parameter", "_codecs.encode",
        "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
        "torch.BoolStorage");

    String qualified() {
      return module + "." + name;
    }
  }

  /** Anything built from a name outside {@link Global#KNOWN}: never imported, never called. */
  record Opaque(String what) {}

  /** The data ended inside the pickle: truncated, or (when more bytes exist) a buffer too short. */
  static final class Truncated extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Truncated(String message) {
      super(message);
    }
  }

  /** Resolves a persistent id (PyTorch's storages). */
  interface PersistentLoader {
    Object load(Object pid);
  }

  /** Builds the value of a known function applied to its arguments. */
  interface Reducer {
    Object reduce(Global function, Tuple args);
  }

  private static final Object MARK = new Object();

  private final byte[] data;
  private final int end;
  private final String source;
  private final PersistentLoader persistent;
  private final Reducer reducer;
  private int pos;
  private int objects;
  private final List<Object> stack = new ArrayList<>();
  private final List<Integer> marks = new ArrayList<>();
  private final Map<Long, Object> memo = new HashMap<>();

  private Pickle(byte[] data, int from, int end, String source, PersistentLoader persistent, Reducer reducer) {
    this.data = data;
    this.pos = from;
    this.end = end;
    this.source = source;
    this.persistent = persistent;
    this.reducer = reducer;
  }

  /** One pickle's value and where it ended. */
  record Result(Object value, int end) {}

  /**
   * Reads one pickle.
   *
   * @param data the bytes
   * @param from where the pickle starts
   * @param source the file, for messages
   * @param persistent resolves persistent ids
   * @param reducer builds the values of known functions
   * @return the value and the offset after its STOP
   * @throws CheckpointException naming the source and offset if the bytes are not a pickle of the subset
   * @throws Truncated if the data ends inside the pickle
   */
  static Result read(byte[] data, int from, String source, PersistentLoader persistent, Reducer reducer) {
    Pickle p = new Pickle(data, from, data.length, source, persistent, reducer);
    Object v = p.run();
    return new Result(v, p.pos);
  }

  private CheckpointException error(String what) {
    return CheckpointException.of(source, "pickle at byte " + pos + ": " + what);
  }

  private int u8() {
    if (pos >= end) {
      throw new Truncated(source + ": the pickle ends before its STOP opcode at byte " + pos + " (truncated)");
    }
    return data[pos++] & 0xFF;
  }

  private long le(int n) {
    need(n);
    long v = 0;
    for (int i = 0; i < n; i++) {
      v |= (long) (data[pos + i] & 0xFF) << (8 * i);
    }
    pos += n;
    return v;
  }

  private void need(long n) {
    if (n < 0) {
      throw error("a negative length");
    }
    if (n > end - pos) {
      throw new Truncated(source + ": pickle at byte " + pos + ": a length of " + n + " bytes runs past the end of the "
          + "data (" + (end - pos) + " left; truncated or corrupt)");
    }
  }

  private byte[] bytes(long n) {
    need(n);
    byte[] b = Arrays.copyOfRange(data, pos, pos + (int) n);
    pos += (int) n;
    return b;
  }

  private String utf8(long n) {
    byte[] b = bytes(n);
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
    } catch (CharacterCodingException e) {
      throw error("a string is not valid UTF-8");
    }
  }

  private String line() {
    int start = pos;
    while (pos < end && data[pos] != '\n') {
      pos++;
    }
    if (pos >= end) {
      throw new Truncated(source + ": pickle at byte " + start + ": a text argument has no end of line");
    }
    String s = new String(data, start, pos - start, StandardCharsets.ISO_8859_1);
    pos++;
    return s;
  }

  private void push(Object o) {
    if (++objects > MAX_OBJECTS) {
      throw error("more than " + MAX_OBJECTS + " objects; not a state dict");
    }
    stack.add(o);
  }

  private Object pop() {
    if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
      throw error("stack underflow");
    }
    return stack.remove(stack.size() - 1);
  }

  private Object top() {
    if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
      throw error("stack underflow");
    }
    return stack.get(stack.size() - 1);
  }

  /** The items above the last mark, removing them and the mark. */
  private List<Object> popMark() {
    if (marks.isEmpty()) {
      throw error("no MARK to pop to");
    }
    int at = marks.remove(marks.size() - 1);
    List<Object> items = new ArrayList<>(stack.subList(at + 1, stack.size()));
    stack.subList(at, stack.size()).clear();
    return items;
  }

  private void put(long index) {
    if (index < 0) {
      throw error("negative memo index");
    }
    if (!memo.containsKey(index) && memo.size() >= MAX_MEMO) {
      throw error("more than " + MAX_MEMO + " memo entries");
    }
    memo.put(index, top());
  }

  private void get(long index) {
    Object v = memo.get(index);
    if (v == null && !memo.containsKey(index)) {
      throw error("memo entry " + index + " was never stored");
    }
    push(v);
  }

  @SuppressWarnings("unchecked")
  private static Map<Object, Object> dict(Object o) {
    return o instanceof Map<?, ?> m ? (Map<Object, Object>) m : null;
  }

  private void setItems(Object target, List<Object> kv) {
    Map<Object, Object> m = dict(target);
    if (kv.size() % 2 != 0) {
      throw error("SETITEMS with an odd number of items");
    }
    if (target instanceof Opaque) {
      return;
    }
    if (m == null) {
      throw error("SETITEM on a " + kind(target));
    }
    for (int i = 0; i < kv.size(); i += 2) {
      Object k = kv.get(i);
      if (!isKey(k)) {
        // hashing a nested key takes time exponential in its depth when it shares parts, or recurses forever
        throw error("a dict key that is a " + kind(k) + "; keys are None, bools, numbers, strings, bytes or tuples "
            + "of them");
      }
      m.put(k, kv.get(i + 1));
    }
  }

  /** A scalar, or a tuple of scalars: the dict keys whose hash is bounded by their size. */
  private static boolean isKey(Object k) {
    if (k instanceof Tuple t) {
      return t.items().stream().allMatch(Pickle::isScalar);
    }
    return isScalar(k);
  }

  private static boolean isScalar(Object k) {
    return k == null || k instanceof Boolean || k instanceof Long || k instanceof BigInteger || k instanceof Double
        || k instanceof String || k instanceof Bytes || k instanceof Opaque || k instanceof Global;
  }

  @SuppressWarnings("unchecked")
  private void appendAll(Object target, List<Object> items) {
    if (target instanceof Opaque) {
      return;
    }
    if (!(target instanceof List<?>)) {
      throw error("APPEND on a " + kind(target));
    }
    ((List<Object>) target).addAll(items);
  }

  static String kind(Object o) {
    // Python's names for what a pickle holds: a message reads "a list", not "a ArrayList"
    if (o == null) {
      return "None";
    }
    if (o instanceof Opaque op) {
      return op.what();
    }
    return o instanceof List<?> ? "list" : o instanceof Map<?, ?> ? "dict" : o instanceof Tuple ? "tuple"
        : o instanceof String ? "str" : o instanceof Long || o instanceof BigInteger ? "int"
        : o instanceof Double ? "float" : o instanceof Boolean ? "bool" : o instanceof Bytes ? "bytes"
        : o.getClass().getSimpleName();
  }

  private Object call(Object function, Object args) {
    if (!(args instanceof Tuple t)) {
      throw error("REDUCE arguments are a " + kind(args) + ", not a tuple");
    }
    if (function instanceof Global g) {
      if (g.qualified().equals("collections.OrderedDict")) {
        if (t.size() == 0) {
          return new LinkedHashMap<>();
        }
        return new Opaque("collections.OrderedDict(...)");
      }
      return reducer.reduce(g, t);
    }
    return new Opaque(kind(function) + "(...)");
  }

  private Object run() {
    while (true) {
      int at = pos;
      int op = u8();
      switch (op) {
        case 0x80 -> { // PROTO
          int v = u8();
          if (v > 5) {
            throw error("pickle protocol " + v + " (at most 5 is known)");
          }
        }
        case 0x95 -> le(8); // FRAME: framing only
        case '.' -> { // STOP
          Object v = pop();
          return v;
        }
        case '(' -> {
          if (marks.size() >= MAX_MARKS) {
            throw error("more than " + MAX_MARKS + " nested MARKs; not a state dict");
          }
          marks.add(stack.size());
          stack.add(MARK);
        }
        case ')' -> push(new Tuple(List.of()));
        case ']' -> push(new ArrayList<>());
        case '}' -> push(new LinkedHashMap<>());
        case 't' -> push(new Tuple(popMark()));
        case 0x85 -> push(new Tuple(java.util.Collections.singletonList(pop())));
        case 0x86 -> {
          Object b = pop();
          Object a = pop();
          push(new Tuple(Arrays.asList(a, b)));
        }
        case 0x87 -> {
          Object c = pop();
          Object b = pop();
          Object a = pop();
          push(new Tuple(Arrays.asList(a, b, c)));
        }
        case 'l' -> push(new ArrayList<>(popMark()));
        case 'd' -> {
          Map<Object, Object> m = new LinkedHashMap<>();
          setItems(m, popMark());
          push(m);
        }
        case 'a' -> {
          Object v = pop();
          appendAll(top(), java.util.Collections.singletonList(v));
        }
        case 'e' -> {
          List<Object> items = popMark();
          appendAll(top(), items);
        }
        case 's' -> {
          Object v = pop();
          Object k = pop();
          setItems(top(), Arrays.asList(k, v));
        }
        case 'u' -> {
          List<Object> kv = popMark();
          setItems(top(), kv);
        }
        case '0' -> pop();
        case '1' -> popMark();
        case '2' -> push(top());
        case 'q' -> put(u8());
        case 'r' -> put(le(4));
        case 0x94 -> put(memo.size()); // MEMOIZE
        case 'p' -> put(parseLong(line()));
        case 'h' -> get(u8());
        case 'j' -> get(le(4));
        case 'g' -> get(parseLong(line()));
        case 'J' -> push((long) (int) le(4));
        case 'K' -> push((long) u8());
        case 'M' -> push(le(2));
        case 'I' -> {
          String s = line();
          push(s.equals("01") ? Boolean.TRUE : s.equals("00") ? Boolean.FALSE : (Object) parseLong(s));
        }
        case 0x8a -> push(longN(u8()));
        case 0x8b -> {
          long n = (int) le(4); // LONG4's length is signed, as BINSTRING's (need() refuses a negative one)
          if (n > 64) {
            throw error("an integer of " + n + " bytes; state dicts hold no such numbers");
          }
          push(longN((int) n));
        }
        case 'G' -> {
          need(8);
          long bits = 0;
          for (int i = 0; i < 8; i++) {
            bits = (bits << 8) | (data[pos + i] & 0xFF);
          }
          pos += 8;
          push(Double.longBitsToDouble(bits));
        }
        case 'N' -> push(null);
        case 0x88 -> push(Boolean.TRUE);
        case 0x89 -> push(Boolean.FALSE);
        case 'X' -> push(utf8(le(4)));
        case 0x8c -> push(utf8(u8()));
        case 0x8d -> push(utf8(le(8)));
        case 'T' -> push(new String(bytes((int) le(4)), StandardCharsets.ISO_8859_1)); // a signed length
        case 'U' -> push(new String(bytes(u8()), StandardCharsets.ISO_8859_1));
        case 'B' -> push(new Bytes(bytes(le(4))));
        case 'C' -> push(new Bytes(bytes(u8())));
        case 0x8e -> push(new Bytes(bytes(le(8))));
        case 'c' -> {
          String module = line();
          String name = line();
          push(global(module, name));
        }
        case 0x93 -> { // STACK_GLOBAL
          Object name = pop();
          Object module = pop();
          if (!(module instanceof String m) || !(name instanceof String n)) {
            throw error("STACK_GLOBAL needs two strings");
          }
          push(global(m, n));
        }
        case 'R' -> {
          Object args = pop();
          Object f = pop();
          push(call(f, args));
        }
        case 0x81 -> { // NEWOBJ
          Object args = pop();
          Object cls = pop();
          push(call(cls, args));
        }
        case 'b' -> pop(); // BUILD: the state of an OrderedDict (its _metadata) or of an opaque object is dropped
        case 'Q' -> push(persistent.load(pop()));
        case 'P' -> push(persistent.load(line()));
        default -> {
          pos = at;
          throw error("opcode 0x" + Integer.toHexString(op) + " is not part of what torch.save writes");
        }
      }
    }
  }

  private Object global(String module, String name) {
    if (module.length() > 200 || name.length() > 200) {
      throw error("a global name longer than 200 characters");
    }
    String q = module + "." + name;
    if (module.equals("__builtin__") || module.equals("builtins")) {
      return new Opaque(q);
    }
    return Global.KNOWN.contains(q) ? new Global(module, name) : new Opaque(q);
  }

  private long parseLong(String s) {
    try {
      String t = s.endsWith("L") ? s.substring(0, s.length() - 1) : s;
      return Long.parseLong(t.trim());
    } catch (NumberFormatException e) {
      throw error("'" + s + "' is not an integer");
    }
  }

  private Object longN(int n) {
    byte[] b = bytes(n);
    if (n == 0) {
      return 0L;
    }
    byte[] be = new byte[n];
    for (int i = 0; i < n; i++) {
      be[i] = b[n - 1 - i];
    }
    BigInteger v = new BigInteger(be);
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  /**
   * An integer argument.
   *
   * @param o a value
   * @return it as a long, or null if it is not an integer that fits
   */
  static Long asLong(Object o) {
    return o instanceof Long l ? l : null;
  }

  /**
   * A tuple of integers.
   *
   * @param o a value
   * @return the integers, or null if it is not such a tuple
   */
  static long[] asLongs(Object o) {
    if (!(o instanceof Tuple t)) {
      return null;
    }
    long[] out = new long[t.size()];
    for (int i = 0; i < out.length; i++) {
      Long v = asLong(t.get(i));
      if (v == null) {
        return null;
      }
      out[i] = v;
    }
    return out;
  }

  @Override
  public String toString() {
    return "Pickle[" + Objects.toString(source) + "]";
  }
}
