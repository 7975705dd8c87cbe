package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.diffusion4j.testkit.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ctrl-C while {@code train} or {@code data check -c} builds the image cache, or {@code data check DIR} decodes. */
class DataCacheInterruptTest {
  @TempDir
  Path dir;

  /**
   * The cache was built before train's guard was open, so Ctrl-C ended the JVM at once and left the cache's
   * temporary (as large as the data set) until a later build; the build is now interrupted, its temporary deleted,
   * and train says so, before any run folder is made.
   */
  @Test
  void ctrlCWhileTheCacheIsBuiltLeavesNoTemporaryAndNoRunFolder() throws Exception {
    interruptWhileCaching("nothing was trained (the data was being prepared)", "train", "-c");
  }

  /** {@code data check -c} builds the same cache, and had no guard either. */
  @Test
  void ctrlCWhileDataCheckBuildsTheCacheLeavesNoTemporary() throws Exception {
    interruptWhileCaching("the data was not prepared (the cache was not built)", "data", "check", "-c");
  }

  private void interruptWhileCaching(String said, String... command) throws Exception {
    // 600 large PNGs (one file, linked): seconds of decoding
    Path root = dir.resolve("pics/a");
    Path first = TestImages.write(root.resolve("0.png"), TestImages.encode(TestImages.rgb(1024, 1024, 3, 5, 7), "png"));
    for (int i = 1; i < 600; i++) {
      Files.createLink(root.resolve(i + ".png"), first);
    }
    Path runs = dir.resolve("runs");
    Path yaml = dir.resolve("folder.yaml");
    Files.writeString(yaml, String.join("\n",
        "backend: reference",
        "seed: 2",
        "data:",
        "  kind: folder",
        "  image_shape: [3, 8, 8]",
        "  root: " + dir.resolve("pics"),
        "model:",
        "  hidden: 8",
        "schedule:",
        "  num_train_timesteps: 10",
        "training:",
        "  epochs: 1",
        "  batch_size: 4",
        "sampling:",
        "  num_inference_steps: 3",
        "  count: 4",
        "output:",
        "  dir: " + runs,
        "  name: f",
        ""));
    Path log = dir.resolve("train.log");
    List<String> args = new java.util.ArrayList<>(List.of(command));
    args.add(yaml.toString());
    Process p = ChildCli.builder(dir, log, args.toArray(String[]::new)).start();
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (p.isAlive() && !ChildCli.read(log).contains("decoding") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    Thread.sleep(300); // into the build
    assertTrue(p.isAlive(), "still caching when signalled: " + ChildCli.read(log));
    ChildCli.signal(p, "INT");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), ChildCli.read(log));
    String out = ChildCli.read(log);
    // no temporary, no run folder, and not the cache's folders, which the build made (output.dir/.data-cache)
    if (Files.exists(runs)) {
      try (Stream<Path> files = Files.walk(runs)) {
        fail("nothing left of the build: " + files.map(f -> runs.relativize(f).toString()).toList());
      }
    }
    assertTrue(out.contains("interrupted; " + said), out);
    assertFalse(out.contains("\tat "), "no stack trace: " + out);
  }

  /**
   * {@code data check DIR} decodes every image with no guard: Ctrl-C ended the JVM at once, without a word, where the
   * other data commands say what it left; it now ends once the images being decoded are done and says so.
   */
  @Test
  void ctrlCWhileDataCheckDecodesAFolderSaysSo() throws Exception {
    // 2,000 large PNGs (one file, linked), decoded to 8x8 in chunks of 512: seconds a chunk; the progress line comes
    // after the first chunk, and the signal during the second
    Path root = dir.resolve("pics");
    Path first = TestImages.write(root.resolve("0.png"), TestImages.encode(TestImages.rgb(1024, 1024, 3, 5, 7), "png"));
    for (int i = 1; i < 2000; i++) {
      Files.createLink(root.resolve(i + ".png"), first);
    }
    Path log = dir.resolve("check.log");
    Process p = ChildCli.builder(dir, log, "data", "check", root.toString(), "--image-shape", "3,8,8").start();
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (p.isAlive() && !ChildCli.read(log).contains("decoding") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(p.isAlive(), "still checking when signalled: " + ChildCli.read(log));
    ChildCli.signal(p, "INT");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), ChildCli.read(log));
    String out = ChildCli.read(log);
    assertTrue(out.contains("interrupted; the check of " + root + " was not finished"), out);
    assertFalse(out.contains("usable"), "no report of a partial check: " + out);
    assertFalse(out.contains("\tat "), "no stack trace: " + out);
  }
}
