package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Kernels}' loops written out by hand against their one-line definitions, bit for bit. */
class KernelsTest {

  /**
   * The moving average, four elements an iteration, is the definition {@code (float) (decay * ema + (1 - decay) * p)}
   * in double for every element, including the rest of a length that is not a multiple of four, and leaves the
   * elements past {@code len} alone.
   */
  @Test
  void theMovingAverageIsItsDefinitionAtEveryLength() {
    Random r = new Random(11);
    for (int len : new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 75, Kernels.CHUNK - 1, Kernels.CHUNK}) {
      for (double decay : new double[] {0.9995, 0.75, 0.0}) {
        float[] ema = new float[len + 3];
        float[] p = new float[len + 3];
        for (int i = 0; i < ema.length; i++) {
          ema[i] = (float) r.nextGaussian();
          p[i] = (float) (r.nextGaussian() * 1e-3);
        }
        float[] expected = ema.clone();
        for (int i = 0; i < len; i++) {
          expected[i] = (float) (decay * expected[i] + (1.0 - decay) * p[i]);
        }
        Kernels.ema(ema, p, len, decay);
        for (int i = 0; i < ema.length; i++) {
          assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(ema[i]),
              "len " + len + ", decay " + decay + ", element " + i);
        }
      }
    }
  }
}
