package io.github.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The temporary folders that executors write a broadcast checkpoint into. */
class ModelSourceTest {
  /**
   * An executor killed while it loads a broadcast checkpoint leaves a folder as large as the checkpoint; the next
   * load on that machine removes it, and only such folders: a live process's, this process's or a recent one stay.
   */
  @Test
  void aKilledExecutorsFolderIsRemovedByTheNextLoadAndNothingElse(@TempDir Path tmp) throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    long dead = p.pid();
    long me = ProcessHandle.current().pid();
    Instant now = Instant.now();
    Instant old = now.minus(ModelSource.STALE_AFTER).minusSeconds(60);
    Path deadOld = folder(tmp, ModelSource.TEMP_PREFIX + dead + "-123", old);
    Path deadNew = folder(tmp, ModelSource.TEMP_PREFIX + dead + "-456", now);
    Path mine = folder(tmp, ModelSource.TEMP_PREFIX + me + "-789", old);
    // an executor of another process that is still loading (a long load): old, but its process is alive
    long live = ProcessHandle.current().parent().orElseThrow().pid();
    Path liveOld = folder(tmp, ModelSource.TEMP_PREFIX + live + "-321", old);
    Path oldStyle = folder(tmp, ModelSource.TEMP_PREFIX + "5555555555", old); // no process id in its name
    Path other = folder(tmp, "something-" + dead + "-1", old);
    // under the prefix but not an executor's folder: a name without a number, a dead id's plain file
    Path named = folder(tmp, ModelSource.TEMP_PREFIX + "backup-1", old);
    Path file = Files.writeString(tmp.resolve(ModelSource.TEMP_PREFIX + dead + "-9.lock"), "x");
    Files.setLastModifiedTime(file, FileTime.from(old));
    ModelSource.removeStale(tmp, now.minus(ModelSource.STALE_AFTER));
    assertFalse(Files.exists(deadOld), "a dead process's old folder is removed with its files");
    for (Path kept : new Path[] {deadNew, mine, liveOld, oldStyle, other, named}) {
      assertTrue(Files.exists(kept.resolve("model.safetensors")), kept + " is kept");
    }
    assertTrue(Files.isRegularFile(file), file + " is kept");
  }

  private static Path folder(Path tmp, String name, Instant modified) throws IOException {
    Path dir = Files.createDirectory(tmp.resolve(name));
    Files.writeString(dir.resolve("model.safetensors"), "weights");
    Files.setLastModifiedTime(dir, FileTime.from(modified));
    return dir;
  }
}
