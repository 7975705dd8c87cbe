package io.github.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.diffusion4j.tensor.Shape;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The PNGs that {@code scripts/fashion-mnist.mjs pngs} writes decode, through {@link ImageFolder}, to exactly
 * the pixels and labels of the IDX file they came from (a committed sample of 20; see its NOTICE).
 */
class FashionMnistPngTest {

  private static Path resource(String name) {
    try {
      return Path.of(FashionMnistPngTest.class.getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theExportedPngsAreTheIdxImages() {
    Path dir = resource("/fashion-mnist-png-sample/test");
    IdxImages.Result idx = IdxImages.reader().read(resource("/fashion-mnist-1k/t10k-images-idx3-ubyte.gz"),
        Optional.of(resource("/fashion-mnist-1k/t10k-labels-idx1-ubyte.gz")));
    int[] labels = idx.labels().orElseThrow();
    ImageFolder folder = ImageFolder.scan(dir, new ImageFit(Shape.of(1, 28, 28), ImageFit.Resize.CROP, false));
    assertEquals(20, folder.size());
    assertEquals(List.of("0-tshirt-top", "1-trouser", "2-pullover", "3-dress", "4-coat", "5-sandal", "6-shirt",
        "7-sneaker", "8-bag", "9-ankle-boot"), folder.classes(), "class folders sort in label order");
    byte[] png = new byte[784];
    float[] fromPng = new float[784];
    float[] fromIdx = new float[784];
    for (int i = 0; i < folder.size(); i++) {
      String name = folder.item(i);
      int index = Integer.parseInt(name.substring(name.indexOf('/') + 1, name.indexOf(".png")));
      assertEquals(new ImageInfo(28, 28, "gray"), folder.read(i, png, 0));
      for (int p = 0; p < 784; p++) {
        fromPng[p] = Normalization.BYTE_VALUES[png[p] & 0xff];
      }
      idx.images().copyImage(index, fromIdx, 0);
      assertArrayEquals(fromIdx, fromPng, name);
      assertEquals(labels[index], folder.label(i), name);
    }
  }
}
