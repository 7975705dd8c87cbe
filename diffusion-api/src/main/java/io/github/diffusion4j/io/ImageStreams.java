package io.github.diffusion4j.io;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Runs a {@code javax.imageio} writer over an in-memory image stream. {@code ImageIO.write(image, format,
 * out)} would cache on disk instead, which needs a writable temp folder and registers a shutdown hook on
 * first use (and so fails while the JVM is shutting down, e.g. when a run draws its charts after Ctrl-C).
 */
final class ImageStreams {
  private ImageStreams() {}

  /** What to do with the writer once its output is set. */
  @FunctionalInterface
  interface Body {
    void write(ImageWriter writer) throws IOException;
  }

  /**
   * Finds the JDK's writer for a format, points it at {@code out} and runs {@code body}.
   *
   * @param out the stream (flushed, not closed)
   * @param format the format name, e.g. {@code "png"}
   * @param body what to write
   * @throws IOException if there is no writer for the format or writing fails
   */
  static void write(OutputStream out, String format, Body body) throws IOException {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName(format);
    if (!writers.hasNext()) {
      throw new IOException("this Java runtime has no " + format.toUpperCase(java.util.Locale.ROOT) + " writer");
    }
    ImageWriter writer = writers.next();
    try (ImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(ios);
      body.write(writer);
      ios.flush();
    } finally {
      writer.dispose();
    }
  }
}
