package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What the soak tests measure ({@link ResidentSize#withoutJitKb()} in a {@link SoakJvm}) still sees native
 * memory that is allocated and kept: leaving the JIT compiler's memory out and trimming the C heap must not
 * hide a leak.
 */
class ResidentSizeTest {
  /** The deliberate leak, in MB: as much as the soak tests' bound, 16 MB, plus a half. */
  private static final int LEAK_MB = 24;

  @Test
  void aNativeLeakShowsInTheMeasureWithoutTheJit() throws Exception {
    Assumptions.assumeTrue(ResidentSize.measurable(), "needs /proc (Linux)");
    Map<String, String> fields = SoakJvm.run(Leak.class);
    long jit = Long.parseLong(fields.get("jit_kb"));
    long growth = Long.parseLong(fields.get("after_kb")) - Long.parseLong(fields.get("before_kb"));
    assertTrue(jit > 0, "native memory tracking is off in the soak JVM, so nothing is left out: " + fields);
    // direct buffers are native memory outside the JVM's compiler categories; all of their pages are written
    assertTrue(growth >= (LEAK_MB - 2) * 1024L && growth < (LEAK_MB + 8) * 1024L,
        "a leak of " + LEAK_MB + " MB measured as " + growth + " kB: " + fields);
  }

  /** Keeps {@link #LEAK_MB} MB of written direct buffers between two readings. */
  static final class Leak {
    private Leak() {}

    /**
     * Entry point.
     *
     * @param args none
     */
    public static void main(String[] args) {
      long before = ResidentSize.withoutJitKb();
      List<ByteBuffer> kept = new ArrayList<>();
      for (int i = 0; i < LEAK_MB; i++) {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
        for (int j = 0; j < b.capacity(); j += 4096) {
          b.put(j, (byte) 1);
        }
        kept.add(b);
      }
      long after = ResidentSize.withoutJitKb();
      System.out.println("soak before_kb=" + before + " after_kb=" + after + " jit_kb=" + ResidentSize.jitKb()
          + " buffers=" + kept.size());
    }
  }
}
