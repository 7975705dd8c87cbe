package io.github.diffusion4j.io;

import io.github.diffusion4j.tensor.Shape;
import java.awt.image.RenderedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;

/**
 * Writes an animated GIF (e.g. a denoising trajectory, one grid per frame) with the JDK's
 * {@code javax.imageio} GIF writer: every frame gets a Graphic Control Extension with the delay, and
 * the first frame the {@code NETSCAPE2.0} application extension that makes viewers loop. Colours are
 * reduced to a 256-entry palette per frame by the JDK.
 */
public final class GifWriter {
  private static final String FORMAT = "javax_imageio_gif_image_1.0";

  private GifWriter() {}

  /**
   * Writes frames as an animated GIF, atomically.
   *
   * @param file the file
   * @param frames the frames, at least one, all of the same size
   * @param delayMillis the time each frame is shown, rounded to hundredths of a second (0 to 655350)
   * @param loopCount how often the animation repeats; 0 means forever (0 to 65535)
   * @throws IllegalArgumentException if an argument is out of range or the frames differ in size
   * @throws UncheckedIOException naming the file if writing fails
   */
  public static void write(Path file, List<? extends RenderedImage> frames, int delayMillis, int loopCount) {
    check(frames, delayMillis, loopCount);
    try {
      AtomicFiles.write(file, out -> write(out, frames, delayMillis, loopCount));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + FileProblems.describe(e), e);
    }
  }

  /**
   * Renders each frame with {@link ImageGrid#render} and writes them as an animated GIF, atomically.
   *
   * @param file the file
   * @param frames the frames' values, each {@code shape.size()} long
   * @param shape {@code [N, C, H, W]} of every frame
   * @param options the grid layout
   * @param delayMillis the time each frame is shown
   * @param loopCount repetitions, 0 for forever
   */
  public static void writeGrids(
      Path file, List<float[]> frames, Shape shape, ImageGrid.Options options, int delayMillis,
      int loopCount) {
    List<RenderedImage> images = new ArrayList<>(frames.size());
    for (float[] f : frames) {
      if (Thread.currentThread().isInterrupted()) { // its file could not be written: end now, not after every frame
        throw new UncheckedIOException("cannot write " + file + ": interrupted",
            new java.io.InterruptedIOException("interrupted"));
      }
      images.add(ImageGrid.render(f, shape, options));
    }
    write(file, images, delayMillis, loopCount);
  }

  /**
   * Writes frames as an animated GIF to a stream.
   *
   * @param out the stream (not closed)
   * @param frames the frames, at least one, all of the same size
   * @param delayMillis the time each frame is shown
   * @param loopCount repetitions, 0 for forever
   * @throws IOException if the stream fails
   */
  public static void write(OutputStream out, List<? extends RenderedImage> frames, int delayMillis, int loopCount)
      throws IOException {
    check(frames, delayMillis, loopCount);
    ImageStreams.write(out, "gif", writer -> {
      writer.prepareWriteSequence(null);
      int centis = Math.round(delayMillis / 10f);
      for (int i = 0; i < frames.size(); i++) {
        if (Thread.currentThread().isInterrupted()) { // an interrupted writer's file is not written: end now
          throw new java.io.InterruptedIOException("interrupted before frame " + i + " of " + frames.size());
        }
        RenderedImage frame = frames.get(i);
        ImageWriteParam param = writer.getDefaultWriteParam();
        IIOMetadata meta =
            writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(frame), param);
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(FORMAT);
        IIOMetadataNode gce = child(root, "GraphicControlExtension");
        gce.setAttribute("disposalMethod", "none");
        gce.setAttribute("userInputFlag", "FALSE");
        gce.setAttribute("transparentColorFlag", "FALSE");
        gce.setAttribute("delayTime", Integer.toString(centis));
        gce.setAttribute("transparentColorIndex", "0");
        if (i == 0) {
          IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
          app.setAttribute("applicationID", "NETSCAPE");
          app.setAttribute("authenticationCode", "2.0");
          // sub-block 1: the loop count, little-endian
          app.setUserObject(new byte[] {1, (byte) (loopCount & 0xff), (byte) ((loopCount >> 8) & 0xff)});
          child(root, "ApplicationExtensions").appendChild(app);
        }
        meta.setFromTree(FORMAT, root);
        writer.writeToSequence(new IIOImage(frame, null, meta), param);
      }
      writer.endWriteSequence();
    });
  }

  private static void check(List<? extends RenderedImage> frames, int delayMillis, int loopCount) {
    if (frames == null || frames.isEmpty()) {
      throw new IllegalArgumentException("a GIF needs at least one frame");
    }
    if (delayMillis < 0 || delayMillis > 655_350) {
      throw new IllegalArgumentException("delayMillis must be in [0, 655350], got " + delayMillis);
    }
    if (loopCount < 0 || loopCount > 0xffff) {
      throw new IllegalArgumentException("loopCount must be in [0, 65535] (0: forever), got " + loopCount);
    }
    RenderedImage first = frames.get(0);
    for (int i = 1; i < frames.size(); i++) {
      RenderedImage f = frames.get(i);
      if (f.getWidth() != first.getWidth() || f.getHeight() != first.getHeight()) {
        throw new IllegalArgumentException(
            "frame " + i + " is " + f.getWidth() + "x" + f.getHeight() + ", frame 0 is "
                + first.getWidth() + "x" + first.getHeight());
      }
    }
  }

  private static IIOMetadataNode child(IIOMetadataNode root, String name) {
    for (int i = 0; i < root.getLength(); i++) {
      if (root.item(i).getNodeName().equalsIgnoreCase(name)) {
        return (IIOMetadataNode) root.item(i);
      }
    }
    IIOMetadataNode node = new IIOMetadataNode(name);
    root.appendChild(node);
    return node;
  }
}
