package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.tensor.Shape;
import java.awt.image.BufferedImage;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Node;

class GifWriterTest {
  @TempDir Path dir;

  static Node find(Node root, String name) {
    if (root.getNodeName().equals(name)) {
      return root;
    }
    for (Node c = root.getFirstChild(); c != null; c = c.getNextSibling()) {
      Node f = find(c, name);
      if (f != null) {
        return f;
      }
    }
    return null;
  }

  @Test
  void writesAnimatedLoopingFrames() throws Exception {
    Shape shape = Shape.of(2, 3, 5, 5);
    List<float[]> frames = new ArrayList<>();
    float[] levels = {0f, 0.4f, 1f};
    for (float level : levels) {
      float[] f = new float[shape.size()];
      java.util.Arrays.fill(f, level);
      frames.add(f);
    }
    Path gif = dir.resolve("trajectory.gif");
    ImageGrid.Options o = ImageGrid.Options.defaults();
    GifWriter.writeGrids(gif, frames, shape, o, 120, 0);
    BufferedImage grid = ImageGrid.render(frames.get(0), shape, o);

    ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
    try (ImageInputStream in = ImageIO.createImageInputStream(gif.toFile())) {
      reader.setInput(in);
      assertEquals(3, reader.getNumImages(true));
      for (int i = 0; i < 3; i++) {
        BufferedImage frame = reader.read(i);
        assertEquals(grid.getWidth(), frame.getWidth());
        assertEquals(grid.getHeight(), frame.getHeight());
        // a frame has two colours (black padding and one grey), so the palette holds them exactly
        int g = ImageGrid.toByte(levels[i]);
        assertEquals((g << 16) | (g << 8) | g, frame.getRGB(10, 10) & 0xffffff, "frame " + i);
        assertEquals(0, frame.getRGB(0, 0) & 0xffffff, "padding of frame " + i);
        IIOMetadataNode meta =
            (IIOMetadataNode) reader.getImageMetadata(i).getAsTree("javax_imageio_gif_image_1.0");
        IIOMetadataNode gce = (IIOMetadataNode) find(meta, "GraphicControlExtension");
        assertEquals("12", gce.getAttribute("delayTime"), "120 ms in hundredths of a second");
        if (i == 0) {
          IIOMetadataNode app = (IIOMetadataNode) find(meta, "ApplicationExtension");
          assertNotNull(app, "NETSCAPE2.0 extension on the first frame");
          assertEquals("NETSCAPE", app.getAttribute("applicationID"));
          assertEquals("2.0", app.getAttribute("authenticationCode"));
          assertArrayEquals(new byte[] {1, 0, 0}, (byte[]) app.getUserObject(), "loop forever");
        }
      }
    } finally {
      reader.dispose();
    }
    try (var s = Files.list(dir)) {
      assertEquals(List.of(gif), s.toList(), "no temporary left behind");
    }
  }

  /**
   * Each frame's Graphic Control Extension, as the GIF89a specification lays it out, written by hand: introducer
   * {@code 21 F9}, block size 4, packed byte {@code 000 001 0 0} (disposal method 1, "do not dispose", so each frame
   * is drawn whole over the last; no user input; no transparency), the delay in hundredths of a second little-endian
   * (125 ms rounds to 13), a transparent index, the terminator 0.
   */
  @Test
  void everyFrameHasTheGraphicControlExtensionOfTheSpecification() throws java.io.IOException {
    BufferedImage a = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
    BufferedImage b = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
    b.setRGB(1, 1, 0xffffff);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    GifWriter.write(out, List.of(a, b, a), 125, 0);
    byte[] gif = out.toByteArray();
    byte[] gce = {0x21, (byte) 0xF9, 4, 0b0000_0000, 13, 0};
    int found = 0;
    for (int i = 0; i + gce.length + 2 <= gif.length; i++) {
      if (gif[i] == 0x21 && gif[i + 1] == (byte) 0xF9) {
        assertArrayEquals(gce, java.util.Arrays.copyOfRange(gif, i, i + gce.length), "extension at byte " + i);
        assertEquals(0, gif[i + gce.length + 1], "block terminator");
        found++;
      }
    }
    assertEquals(3, found, "one Graphic Control Extension per frame");
  }

  @Test
  void encodesTheLoopCount() throws Exception {
    BufferedImage one = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
    Path gif = dir.resolve("one.gif");
    GifWriter.write(gif, List.of(one), 50, 300);
    ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
    try (ImageInputStream in = ImageIO.createImageInputStream(gif.toFile())) {
      reader.setInput(in);
      assertEquals(1, reader.getNumImages(true));
      IIOMetadataNode meta =
          (IIOMetadataNode) reader.getImageMetadata(0).getAsTree("javax_imageio_gif_image_1.0");
      IIOMetadataNode app = (IIOMetadataNode) find(meta, "ApplicationExtension");
      assertArrayEquals(new byte[] {1, (byte) (300 & 0xff), (byte) (300 >> 8)}, (byte[]) app.getUserObject());
    } finally {
      reader.dispose();
    }
  }

  /**
   * A writer whose thread is interrupted (Ctrl-C in the CLI) cannot write the file anyway: it ends before encoding the
   * frames (it encoded them all, seconds for a large GIF, and failed only at the write), leaving no file, no temporary.
   */
  @Test
  void anInterruptedWriterEndsBeforeTheFramesAndLeavesNoFile() throws Exception {
    Shape shape = Shape.of(1, 3, 4, 4);
    List<float[]> frames = List.of(new float[shape.size()], new float[shape.size()]);
    Path gif = dir.resolve("interrupted.gif");
    Thread.currentThread().interrupt();
    try {
      UncheckedIOException e = assertThrows(UncheckedIOException.class,
          () -> GifWriter.writeGrids(gif, frames, shape, ImageGrid.Options.defaults(), 100, 0));
      assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
      assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the caller");
    } finally {
      Thread.interrupted();
    }
    BufferedImage a = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
    Thread.currentThread().interrupt();
    try {
      assertThrows(java.io.InterruptedIOException.class,
          () -> GifWriter.write(new java.io.ByteArrayOutputStream(), List.of(a, a), 10, 0));
    } finally {
      Thread.interrupted();
    }
    try (var files = Files.list(dir)) {
      assertEquals(List.of(), files.map(f -> f.getFileName().toString())
          .filter(n -> n.contains("interrupted")).toList(), "no file and no temporary");
    }
  }

  @Test
  void rejectsBadFrames() {
    BufferedImage a = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
    BufferedImage b = new BufferedImage(2, 3, BufferedImage.TYPE_INT_RGB);
    Path f = dir.resolve("x.gif");
    assertThrows(IllegalArgumentException.class, () -> GifWriter.write(f, List.of(), 10, 0));
    assertThrows(IllegalArgumentException.class, () -> GifWriter.write(f, List.of(a, b), 10, 0));
    assertThrows(IllegalArgumentException.class, () -> GifWriter.write(f, List.of(a), -1, 0));
    assertThrows(IllegalArgumentException.class, () -> GifWriter.write(f, List.of(a), 10, 70000));
  }

  /** The limits are inclusive, and a stream is checked as a file is. */
  @Test
  void delayAndLoopLimitsAreInclusiveAndStreamsAreCheckedToo() throws java.io.IOException {
    BufferedImage a = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
    BufferedImage b = new BufferedImage(2, 3, BufferedImage.TYPE_INT_RGB);
    for (int[] ok : new int[][] {{0, 0}, {655_350, 65_535}}) {
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      GifWriter.write(out, List.of(a), ok[0], ok[1]);
      byte[] gif = out.toByteArray();
      assertEquals("GIF89a", new String(gif, 0, 6, java.nio.charset.StandardCharsets.US_ASCII));
      assertEquals(0x3B, gif[gif.length - 1], "the GIF trailer ends the sequence");
    }
    java.io.OutputStream sink = java.io.OutputStream.nullOutputStream();
    assertThrows(IllegalArgumentException.class, () -> GifWriter.write(sink, List.of(a), 655_351, 0));
    assertThrows(IllegalArgumentException.class, () -> GifWriter.write(sink, List.of(a), 0, 65_536));
    assertThrows(IllegalArgumentException.class, () -> GifWriter.write(sink, List.of(a), 0, -1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GifWriter.write(sink, List.of(a, a, b), 10, 0));
    assertEquals("frame 2 is 2x3, frame 0 is 3x2", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GifWriter.write(sink, List.of(), 10, 0));
  }
}
