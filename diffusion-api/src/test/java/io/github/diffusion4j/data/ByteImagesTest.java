package io.github.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.random.Noise;
import io.github.diffusion4j.tensor.Shape;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** 8-bit images in buffers, views, and random flips. */
class ByteImagesTest {
  private static final Shape IMAGE = Shape.of(1, 2, 3);

  /** {@code count} images of 6 bytes, image i's byte j = 10 i + j, split over buffers of {@code per} images. */
  private static ByteImages images(int count, int per) {
    List<ByteBuffer> buffers = new java.util.ArrayList<>();
    for (int first = 0; first < count; first += per) {
      int m = Math.min(per, count - first);
      ByteBuffer b = ByteBuffer.allocate(m * 6);
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < 6; j++) {
          b.put((byte) (10 * (first + i) + j));
        }
      }
      buffers.add(b);
    }
    return ByteImages.of(IMAGE, buffers, per, count);
  }

  @Test
  void imagesSpanBuffersAndAreNormalisedAsIdxImagesAre() {
    ByteImages one = images(7, 7);
    ByteImages split = images(7, 3);
    float[] a = new float[7 * 6];
    float[] b = new float[7 * 6];
    int[] all = {0, 1, 2, 3, 4, 5, 6};
    one.gather(all, a);
    split.gather(all, b);
    assertArrayEquals(a, b, "the same images whatever the buffers");
    assertEquals(62 / 255f * 2f - 1f, b[6 * 6 + 2], 0f);
    float[] single = new float[6];
    split.copyImage(4, single, 0);
    assertEquals(40 / 255f * 2f - 1f, single[0], 0f);
    assertEquals(-1f, Normalization.BYTE_VALUES[0], 0f);
    assertEquals(1f, Normalization.BYTE_VALUES[255], 0f);
    assertThrows(IllegalArgumentException.class, () -> ByteImages.of(IMAGE, List.of(ByteBuffer.allocate(11)), 2, 2),
        "two images need 12 bytes");
    // one image in one buffer of one image is the smallest set; none, or buffers of none, are refused
    assertEquals(1, images(1, 1).size());
    assertThrows(IllegalArgumentException.class, () -> ByteImages.of(IMAGE, List.of(ByteBuffer.allocate(12)), 2, 0));
    assertThrows(IllegalArgumentException.class, () -> ByteImages.of(IMAGE, List.of(ByteBuffer.allocate(12)), 0, 2));
  }

  @Test
  void viewsSelectAndSpreadEvenly() {
    ByteImages set = images(10, 4);
    ByteImages view = set.select(new int[] {9, 0, 5});
    byte[] b = new byte[6];
    view.copyBytes(0, b, 0);
    assertEquals(90, b[0]);
    ByteImages viewOfView = view.select(new int[] {2});
    viewOfView.copyBytes(0, b, 0);
    assertEquals(50, b[0]);
    ByteImages spread = set.spread(4);
    assertEquals(4, spread.size());
    int[] firsts = new int[4];
    for (int i = 0; i < 4; i++) {
      spread.copyBytes(i, b, 0);
      firsts[i] = b[0];
    }
    assertArrayEquals(new int[] {0, 20, 50, 70}, firsts, "images floor(i * 10 / 4)");
    assertSame(set, set.spread(0));
    assertSame(set, set.spread(10));
    assertThrows(IndexOutOfBoundsException.class, () -> set.select(new int[] {10}));
  }

  @Test
  void aFlipMirrorsEveryRowOfEveryChannelLeftToRight() {
    // 4 images of [3, 2, 4], value 1000 i + 100 c + 10 h + w: each value says where it came from
    Shape shape = Shape.of(3, 2, 4);
    float[] data = new float[4 * 24];
    for (int i = 0; i < 4; i++) {
      for (int c = 0; c < 3; c++) {
        for (int h = 0; h < 2; h++) {
          for (int w = 0; w < 4; w++) {
            data[i * 24 + c * 8 + h * 4 + w] = 1000 * i + 100 * c + 10 * h + w;
          }
        }
      }
    }
    RandomFlip flips = new RandomFlip(new InMemoryDataset(shape, data), Noise.seeded(2));
    float[] seen = new float[24];
    int flipped = 0;
    for (int epoch = 0; epoch < 3; epoch++) {
      for (int i = 0; i < 4; i++) {
        flips.epoch(epoch).copyImage(i, seen, 0);
        boolean f = flips.flipped(epoch, i);
        flipped += f ? 1 : 0;
        for (int c = 0; c < 3; c++) {
          for (int h = 0; h < 2; h++) {
            for (int w = 0; w < 4; w++) {
              float expected = 1000 * i + 100 * c + 10 * h + (f ? 3 - w : w);
              assertEquals(expected, seen[c * 8 + h * 4 + w], 0f,
                  "epoch " + epoch + " image " + i + " channel " + c + " row " + h + " column " + w);
            }
          }
        }
      }
    }
    assertTrue(flipped > 0 && flipped < 12, "some flipped and some not: " + flipped);
  }

  @Test
  void flipsAreKeyedBySeedEpochAndIndex() {
    ByteImages set = images(400, 400);
    RandomFlip flips = new RandomFlip(set, Noise.seeded(1).split(7));
    float[] plain = new float[6];
    float[] seen = new float[6];
    int flipped = 0;
    int changed = 0;
    for (int i = 0; i < 400; i++) {
      set.copyImage(i, plain, 0);
      flips.epoch(3).copyImage(i, seen, 0);
      boolean f = flips.flipped(3, i);
      assertEquals(f, Noise.seeded(1).split(7).split(3).split(i).generator().nextInt(2) == 1, "the documented key");
      float[] expected = f ? new float[] {plain[2], plain[1], plain[0], plain[5], plain[4], plain[3]} : plain;
      assertArrayEquals(expected, seen, "image " + i);
      flipped += f ? 1 : 0;
      changed += flips.flipped(3, i) != flips.flipped(4, i) ? 1 : 0;
    }
    // 400 fair coins: mean 200, standard deviation 10; 150..250 is 5 standard deviations either side
    assertTrue(flipped > 150 && flipped < 250, "about half are flipped: " + flipped);
    assertTrue(changed > 150 && changed < 250, "epochs draw anew: " + changed);
    flips.copyImage(5, seen, 0);
    set.copyImage(5, plain, 0);
    assertArrayEquals(plain, seen, "the set itself is not flipped (evaluation, reference images)");
    assertSame(set, set.epoch(5), "a set without augmentation is the same every epoch");
  }
}
