package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The pickle reader on its own, opcode by opcode: the values each opcode builds (protocols 0 to 5), the memo, the
 * limits at their exact edges, and the messages that name what a pickle holds in Python's words.
 */
class PickleTest {
  private static final Pickle.Reducer OPAQUE = (g, a) -> new Pickle.Opaque(g.qualified() + "(...)");

  private static byte[] bytes(Object... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof String s) {
        b.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
      } else if (p instanceof Object[] nested) {
        b.writeBytes(bytes(nested));
      } else if (p instanceof Integer i) {
        b.write(i);
      } else {
        b.writeBytes((byte[]) p);
      }
    }
    return b.toByteArray();
  }

  private static Object read(Object... parts) {
    return Pickle.read(bytes(parts), 0, "t.pkl", pid -> "loaded " + pid, OPAQUE).value();
  }

  private static String failure(Object... parts) {
    RuntimeException e = assertThrows(RuntimeException.class, () -> read(parts));
    assertTrue(e instanceof CheckpointException || e instanceof Pickle.Truncated, e.toString());
    return e.getMessage();
  }

  @Test
  void listsDictsAndTheirAppendsAndSetItems() {
    // [1, 2, 3, 4] from LIST (l) then APPEND (a) then APPENDS (e)
    assertEquals(List.of(1L, 2L, 3L, 4L), read(0x80, 2, "(K", 1, "K", 2, "lK", 3, "a(K", 4, "e."));
    // {'a': 1, 'b': 2, 'c': 3} from DICT (d) then SETITEMS (u)
    assertEquals(Map.of("a", 1L, "b", 2L, "c", 3L),
        read(0x80, 2, "(X", new byte[] {1, 0, 0, 0}, "aK", 1, "d(X", new byte[] {1, 0, 0, 0}, "bK", 2,
            "X", new byte[] {1, 0, 0, 0}, "cK", 3, "u."));
    // (1, 2, 3) from TUPLE3; POP_MARK drops what follows the mark; DUP copies the top
    assertEquals(new Pickle.Tuple(List.of(1L, 2L, 3L)), read(0x80, 2, "K", 1, "K", 2, "K", 3, 0x87, "(N1."));
    assertEquals(new Pickle.Tuple(List.of(7L, 7L)), read(0x80, 2, "K", 7, "2", 0x86, "."));
  }

  @Test
  void theMemoKeepsWhatEachPutOpcodeStores() {
    // LONG_BINPUT 300 / LONG_BINGET 300, MEMOIZE (index 0 in an empty memo) / BINGET 0, text PUT / GET
    assertEquals(new Pickle.Tuple(List.of(5L, 5L)),
        read(0x80, 2, "K", 5, "r", new byte[] {44, 1, 0, 0}, "j", new byte[] {44, 1, 0, 0}, 0x86, "."));
    assertEquals(new Pickle.Tuple(List.of(6L, 6L)), read(0x80, 4, "K", 6, 0x94, "h", 0, 0x86, "."));
    assertEquals(new Pickle.Tuple(List.of(8L, 8L)), read("I8\np12\ng12\n", 0x86, "."));
    // a stored None is a memo entry like any other
    assertNull(read(0x80, 2, "Nq", 1, "0h", 1, "."));
    assertTrue(failure(0x80, 2, "h", 5, ".").contains("memo entry 5 was never stored"));
    assertTrue(failure(0x80, 2, "N", "p-1\n.").contains("negative memo index"));
  }

  /**
   * BINPUT and BINGET take a one-byte unsigned index, LONG_BINPUT and LONG_BINGET a four-byte one: 200 and 70000
   * (0x00011170) are memo entries like 1 (a large model's state dict memoizes tens of thousands of objects).
   */
  @Test
  void memoIndicesUseTheirWholeOperand() {
    assertEquals(new Pickle.Tuple(List.of(5L, 5L)), read(0x80, 2, "K", 5, "q", 200, "h", 200, 0x86, "."));
    assertEquals(new Pickle.Tuple(List.of(5L, 5L)), read(0x80, 2, "K", 5, "q", 255, "h", 255, 0x86, "."));
    assertTrue(failure(0x80, 2, "K", 5, "q", 200, "h", 72, ".").contains("memo entry 72 was never stored"));
    byte[] i70000 = {0x70, 0x11, 0x01, 0x00};
    assertEquals(new Pickle.Tuple(List.of(5L, 5L)), read(0x80, 2, "K", 5, "r", i70000, "j", i70000, 0x86, "."));
    assertTrue(failure(0x80, 2, "K", 5, "r", i70000, "j", new byte[] {0x70, 0x11, 0, 0}, ".")
        .contains("memo entry 4464 was never stored"));
  }

  /** An error names the byte where the offending opcode starts: 2, after PROTO's two bytes. */
  @Test
  void anUnknownOpcodeIsNamedWithItsOffset() {
    RuntimeException e = assertThrows(CheckpointException.class, () -> read(0x80, 2, 0xff, "."));
    assertEquals("t.pkl: pickle at byte 2: opcode 0xff is not part of what torch.save writes", e.getMessage());
  }

  @Test
  void numbersOfEveryWidth() {
    assertEquals(Boolean.TRUE, read("I01\n."));
    assertEquals(Boolean.FALSE, read("I00\n."));
    assertEquals(42L, read("I42\n."));
    assertEquals(42L, read("I42L\n."), "Python 2 writes a long with an L");
    assertEquals(-2L, read("J", new byte[] {-2, -1, -1, -1}, "."));
    assertEquals(0x1234L, read("M", new byte[] {0x34, 0x12}, "."));
    assertEquals(0L, read(0x80, 2, 0x8a, 0, "."));
    assertEquals(Long.MAX_VALUE, read(0x80, 2, 0x8a, 8, new byte[] {-1, -1, -1, -1, -1, -1, -1, 0x7f}, "."));
    assertEquals(Long.MIN_VALUE, read(0x80, 2, 0x8a, 8, new byte[] {0, 0, 0, 0, 0, 0, 0, -128}, "."));
    // 2^63 has 64 significant bits: it does not fit a long and stays a BigInteger
    assertEquals(BigInteger.ONE.shiftLeft(63), read(0x80, 2, 0x8a, 9, new byte[] {0, 0, 0, 0, 0, 0, 0, -128, 0}, "."));
    assertEquals(BigInteger.ONE.shiftLeft(64 * 8 - 2),
        read(0x80, 2, 0x8b, new byte[] {64, 0, 0, 0}, new byte[63], 0x40, "."), "LONG4 of 64 bytes");
    assertTrue(failure(0x80, 2, 0x8b, new byte[] {65, 0, 0, 0}, new byte[65], ".")
        .contains("an integer of 65 bytes"));
    // BINFLOAT is big-endian: 0x400921FB54442D18 is pi
    assertEquals(Math.PI, read(0x80, 2, "G", new byte[] {0x40, 0x09, 0x21, (byte) 0xFB, 0x54, 0x44, 0x2D, 0x18}, "."));
    assertEquals(-0.5, read(0x80, 2, "G", new byte[] {(byte) 0xBF, (byte) 0xE0, 0, 0, 0, 0, 0, 0}, "."));
    assertTrue(failure(0x80, 2, "G", new byte[] {1, 2, 3}).contains("a length of 8 bytes runs past the end"));
  }

  /** Python's own bytes: {@code pickle.dumps(200, 2)}, {@code pickle.dumps(40000, 2)}, {@code pickle.dumps('\u00e9', 4)}. */
  @Test
  void unsignedOperandsAndProtocol4FramesAsPythonWritesThem() {
    // BININT1 and BININT2 are unsigned: 0xc8 is 200 and 0x9c40 is 40000 (a dimension or a step count), not negative
    assertEquals(200L, read(0x80, 2, "K", 0xc8, "."));
    assertEquals(40000L, read(0x80, 2, "M", new byte[] {0x40, (byte) 0x9c}, "."));
    // protocol 4: FRAME with its 8-byte length 6, SHORT_BINUNICODE of the two UTF-8 bytes of e-acute, MEMOIZE
    assertEquals("\u00e9", read(0x80, 4, 0x95, new byte[] {6, 0, 0, 0, 0, 0, 0, 0}, 0x8c, 2,
        new byte[] {(byte) 0xC3, (byte) 0xA9}, 0x94, "."));
  }

  @Test
  void stringsBytesAndNames() {
    assertEquals("ab", read(0x80, 2, "T", new byte[] {2, 0, 0, 0}, "ab."));
    assertEquals("ab", read(0x80, 2, "U", 2, "ab."));
    assertEquals("\u00e9", read(0x80, 4, 0x8d, new byte[] {2, 0, 0, 0, 0, 0, 0, 0}, new byte[] {(byte) 0xC3, (byte) 0xA9}, "."));
    Pickle.Bytes ab = new Pickle.Bytes(new byte[] {'a', 'b'});
    assertEquals(ab, read(0x80, 3, "B", new byte[] {2, 0, 0, 0}, "ab."));
    assertEquals(ab, read(0x80, 3, "C", 2, "ab."));
    assertEquals(ab, read(0x80, 4, 0x8e, new byte[] {2, 0, 0, 0, 0, 0, 0, 0}, "ab."));
    assertFalse(ab.equals(new Pickle.Bytes(new byte[] {'a', 'c'})));
    assertEquals(Arrays.hashCode(new byte[] {'a', 'b'}), ab.hashCode());
    assertEquals("bytes[2]", ab.toString());
    // bytes are a dict key: found again by value
    Object m = read(0x80, 3, "}C", 2, "abK", 1, "s.");
    assertEquals(1L, ((Map<?, ?>) m).get(new Pickle.Bytes(new byte[] {'a', 'b'})));
    // STACK_GLOBAL of a known name, then NEWOBJ through the reducer; a builtin is opaque; persistent ids load
    assertEquals(new Pickle.Opaque("torch.Tensor(...)"),
        read(0x80, 4, 0x8c, 5, "torch", 0x8c, 6, "Tensor", 0x93, ")", 0x81, "."));
    assertEquals(new Pickle.Opaque("builtins.set"), read(0x80, 4, 0x8c, 8, "builtins", 0x8c, 3, "set", 0x93, "."));
    assertEquals(new Pickle.Opaque("str(...)"), read(0x80, 2, "U", 1, "f)R."), "calling a non-global");
    assertTrue(failure(0x80, 4, "K", 1, 0x8c, 1, "x", 0x93, ".").contains("STACK_GLOBAL needs two strings"));
    assertTrue(failure(0x80, 4, 0x8c, 1, "x", "K", 1, 0x93, ".").contains("STACK_GLOBAL needs two strings"));
    assertEquals("loaded 0", read("P0\n."));
    assertEquals("loaded x", read(0x80, 2, "U", 1, "xQ."));
    assertEquals(List.of(true), read(0x80, 2, "]", 0x88, "a."));
  }

  @Test
  void aGlobalNameMayHave200Characters() {
    String n200 = "m".repeat(200);
    assertEquals(new Pickle.Opaque(n200 + ".f"), read("c" + n200 + "\nf\n."));
    assertEquals(new Pickle.Opaque("m." + n200), read("cm\n" + n200 + "\n."));
    assertTrue(failure("c" + n200 + "m\nf\n.").contains("a global name longer than 200 characters"));
    assertTrue(failure("cm\n" + n200 + "m\n.").contains("a global name longer than 200 characters"));
  }

  @Test
  void protocolsUpTo5AreRead() {
    assertEquals(1L, read(0x80, 5, "K", 1, "."));
    assertTrue(failure(0x80, 6, "K", 1, ".").contains("pickle protocol 6 (at most 5 is known)"));
  }

  @Test
  void exactlyMaxMarksNestedMarksAreRead() {
    int n = Pickle.MAX_MARKS;
    Object v = read(0x80, 2, "(".repeat(n), "t".repeat(n), ".");
    for (int i = 0; i < n - 1; i++) {
      v = ((Pickle.Tuple) v).get(0);
    }
    assertEquals(new Pickle.Tuple(List.of()), v);
    String m = failure(0x80, 2, "(".repeat(n + 1), "t".repeat(n + 1), ".");
    assertTrue(m.contains("more than " + n + " nested MARKs"), "one mark more is refused: " + m);
  }

  @Test
  void exactlyMaxObjectsAreRead() {
    // MAX_OBJECTS pushes of None, each popped at once: 32 MB of pickle, a few hundred milliseconds
    int n = Pickle.MAX_OBJECTS;
    byte[] ok = new byte[2 * n];
    for (int i = 0; i < n; i++) {
      ok[2 * i] = 'N';
      ok[2 * i + 1] = '0';
    }
    ok[ok.length - 1] = '.';
    assertNull(Pickle.read(ok, 0, "t.pkl", pid -> null, OPAQUE).value());
    byte[] over = Arrays.copyOf(ok, ok.length + 2);
    over[ok.length - 1] = '0';
    over[ok.length] = 'N';
    over[ok.length + 1] = '.';
    CheckpointException e = assertThrows(CheckpointException.class,
        () -> Pickle.read(over, 0, "t.pkl", pid -> null, OPAQUE));
    assertTrue(e.getMessage().contains("more than " + n + " objects"), e.getMessage());
  }

  @Test
  void aLengthThatEndsExactlyAtTheEndOfTheDataIsNoOverrun() {
    // the string takes the last byte: what is missing is the STOP opcode, not the string's bytes
    assertTrue(failure(0x80, 2, "U", 1, "a").contains("the pickle ends before its STOP opcode"));
    String m = failure(0x80, 2, "U", 4, "ab.");
    assertTrue(m.contains("at byte 4: a length of 4 bytes runs past the end of the data (3 left;"), m);
    assertTrue(failure(0x80, 2, 0x8d, new byte[] {-1, -1, -1, -1, -1, -1, -1, -1}, ".").contains("a negative length"));
    // BINSTRING's and LONG4's four-byte lengths are signed (Python's pickle refuses a negative one): said so, not
    // read as 4,294,967,295 bytes running past the end (BINBYTES' and BINUNICODE's are unsigned)
    assertTrue(failure(0x80, 2, "T", new byte[] {-1, -1, -1, -1}, ".").contains("a negative length"));
    assertTrue(failure(0x80, 2, 0x8b, new byte[] {-2, -1, -1, -1}, ".").contains("a negative length"));
    assertTrue(failure(0x80, 2, "B", new byte[] {-1, -1, -1, -1}, ".").contains("a length of 4294967295 bytes runs "
        + "past the end"));
  }

  @Test
  void dictKeysAreScalarsOrTuplesOfScalars() {
    Map<?, ?> m = (Map<?, ?>) read(0x80, 2, "}K", 1, "K", 2, 0x86, "K", 3, "s.");
    assertEquals(3L, m.get(new Pickle.Tuple(List.of(1L, 2L))));
    assertTrue(failure(0x80, 2, "}]K", 3, "s.").contains("a dict key that is a list"));
    assertTrue(failure(0x80, 2, "}K", 1, "(K", 2, "u.").contains("SETITEMS with an odd number of items"));
  }

  @ParameterizedTest
  @CsvSource({"N, None", "K1, int", "G, float", "I01, bool", "U, str", "C, bytes", "), tuple", "}, dict"})
  void messagesNameWhatAPickleHoldsInPythonsWords(String push, String kind) {
    Object[] target = switch (push.charAt(0)) {
      case 'K' -> new Object[] {"K", 1};
      case 'G' -> new Object[] {"G", new byte[8]};
      case 'I' -> new Object[] {"I01\n"};
      case 'U' -> new Object[] {"U", 1, "x"};
      case 'C' -> new Object[] {"C", 1, "x"};
      default -> new Object[] {push};
    };
    String m = failure(0x80, 2, target, "Na.");
    assertTrue(m.contains("APPEND on a " + kind), m);
  }

  @Test
  void appendsAndSetItemsOnAnOpaqueObjectAreDropped() {
    assertEquals(new Pickle.Opaque("builtins.set"), read("cbuiltins\nset\nNa."));
    assertEquals(new Pickle.Opaque("builtins.set"), read("cbuiltins\nset\n(Ne."));
    assertEquals(new Pickle.Opaque("builtins.set"), read("cbuiltins\nset\nNNs."));
    assertTrue(failure(0x80, 2, "]NNs.").contains("SETITEM on a list"));
  }
}
