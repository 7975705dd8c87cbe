package io.github.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.model.StateDict;
import io.github.diffusion4j.runtime.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {
  @TempDir Path dir;

  static CheckpointContent at(long step) {
    return CheckpointContent.of(CheckpointTest.weights(step), "step: " + step + "\n")
        .withTrainingState(TrainingState.of(step, step / 100, step * 7, StateDict.builder().build()));
  }

  static List<String> names(List<Path> paths) {
    return paths.stream().map(p -> p.getFileName().toString()).toList();
  }

  @Test
  void namesAreZeroPaddedAndParsed() {
    assertEquals("step-00001000", CheckpointStore.directoryName(1000));
    assertEquals("step-123456789", CheckpointStore.directoryName(123_456_789));
    assertEquals(OptionalLong.of(1000), CheckpointStore.stepOf("step-00001000"));
    assertEquals(OptionalLong.of(123_456_789), CheckpointStore.stepOf("step-123456789"));
    assertTrue(CheckpointStore.stepOf("step-12").isEmpty());
    assertTrue(CheckpointStore.stepOf(".tmp-step-00001000-abc").isEmpty());
    assertTrue(CheckpointStore.stepOf("step-0000100x").isEmpty());
    assertThrows(IllegalArgumentException.class, () -> CheckpointStore.directoryName(-1));
    // step 0: the checkpoint saved before the first step (an initial model) is a step like any other
    assertEquals("step-00000000", CheckpointStore.directoryName(0));
    assertEquals(OptionalLong.of(0), CheckpointStore.stepOf(CheckpointStore.directoryName(0)));
  }

  @Test
  void namesAreAsciiDigitsWhateverTheDefaultLocale() {
    // ar-EG, fa-IR and th-TH-u-nu-thai format %d in their own digits: a run trained under them wrote
    // checkpoints/step-٠٠٠٠٠٠١٦, which stepOf does not read, so sample and --resume said "no checkpoint yet"
    Locale before = Locale.getDefault();
    try {
      for (String tag : List.of("ar-EG", "fa-IR", "th-TH-u-nu-thai", "hi-IN-u-nu-deva")) {
        Locale.setDefault(Locale.forLanguageTag(tag));
        assertEquals("step-00001000", CheckpointStore.directoryName(1000), tag);
        assertEquals(OptionalLong.of(16), CheckpointStore.stepOf(CheckpointStore.directoryName(16)), tag);
        assertEquals("step-00000016.png",
            new RunFolder(dir).imageLog(16).getFileName().toString(), tag);
      }
    } finally {
      Locale.setDefault(before);
    }
  }

  @Test
  void keepsTheLastK() throws IOException {
    CheckpointStore store = CheckpointStore.open(dir.resolve("checkpoints"), 2);
    assertTrue(store.latest().isEmpty());
    for (long step : new long[] {100, 200, 300, 400, 500}) {
      Path p = store.save(at(step), CheckpointTest.PROVENANCE);
      assertEquals(CheckpointStore.directoryName(step), p.getFileName().toString());
    }
    assertEquals(List.of("step-00000400", "step-00000500"), names(store.list()));
    Checkpoint latest = store.latest().orElseThrow();
    assertEquals(at(500), latest.content());
    try (var s = Files.list(store.directory())) {
      assertEquals(2, s.count(), "nothing else in the folder");
    }
  }

  @Test
  void ordersByStepNotByName() {
    CheckpointStore store = CheckpointStore.open(dir, CheckpointStore.KEEP_ALL);
    store.save(at(99_999_999), CheckpointTest.PROVENANCE);
    store.save(at(100_000_000), CheckpointTest.PROVENANCE); // nine digits
    store.save(at(5), CheckpointTest.PROVENANCE);
    assertEquals(
        List.of("step-00000005", "step-99999999", "step-100000000"), names(store.list()));
    assertEquals("step-100000000", store.latestDirectory().orElseThrow().getFileName().toString());
  }

  @Test
  void leftoverTemporariesAreIgnoredAndCleanedOnOpen() throws IOException {
    Path folder = dir.resolve("checkpoints");
    CheckpointStore first = CheckpointStore.open(folder, 3);
    first.save(at(100), CheckpointTest.PROVENANCE);
    // a process killed while writing step 200 left a half-written temporary directory
    Path leftover = folder.resolve(".tmp-step-00000200-5f3a");
    Files.createDirectories(leftover);
    Files.write(leftover.resolve("model.safetensors"), new byte[] {1, 2, 3});
    Path leftoverFile = folder.resolve(".tmp-other-77");
    Files.write(leftoverFile, new byte[] {1});
    assertEquals(List.of("step-00000100"), names(first.list()), "ignored by the listing");
    assertEquals(at(100), first.latest().orElseThrow().content());

    CheckpointStore reopened = CheckpointStore.open(folder, 3);
    assertFalse(Files.exists(leftover), "cleaned on open");
    assertFalse(Files.exists(leftoverFile));
    assertEquals(at(100), reopened.latest().orElseThrow().content());
  }

  /**
   * Saving a step again moves the old folder aside ({@code .tmp-step-N-<hex>-old}) before the new one is renamed in: a
   * crash between the two renames leaves the step under temporary names only. Opening the store deleted both, losing
   * the checkpoint; the folder moved aside is put back.
   */
  @Test
  void aCheckpointLeftAsideBetweenTheTwoRenamesOfAReplacementIsRestoredOnOpen() throws IOException {
    Path folder = dir.resolve("checkpoints");
    CheckpointStore store = CheckpointStore.open(folder, 3);
    Path step = store.save(300, at(1), CheckpointTest.PROVENANCE);
    // the state a crash of the second save(300, ...) leaves between its two renames
    Files.move(step, folder.resolve(".tmp-step-00000300-1a2b3c-old"));
    Path unfinished = folder.resolve(".tmp-step-00000300-4d5e6f");
    Files.createDirectories(unfinished);

    CheckpointStore reopened = CheckpointStore.open(folder, 3);
    assertEquals(List.of("step-00000300"), names(reopened.list()));
    assertEquals(at(1), reopened.latest().orElseThrow().content());
    try (java.util.stream.Stream<Path> left = Files.list(folder)) {
      assertEquals(List.of("step-00000300"), left.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void aFailedSaveKeepsTheEarlierCheckpoints() {
    CheckpointStore store = CheckpointStore.open(dir, 2);
    store.save(at(100), CheckpointTest.PROVENANCE);
    store.save(at(200), CheckpointTest.PROVENANCE);
    StateDict reserved = StateDict.builder().put("__metadata__", new int[] {1}, new float[] {1}).build();
    assertThrows(
        CheckpointException.class,
        () -> store.save(300, CheckpointContent.of(reserved, "x\n"), CheckpointTest.PROVENANCE));
    assertEquals(List.of("step-00000100", "step-00000200"), names(store.list()));
  }

  /**
   * Makes a folder immutable ({@code chattr +i}: not even root may rename it), or skips the test where that cannot be
   * done (no chattr, no CAP_LINUX_IMMUTABLE, a file system without the attribute).
   */
  static void immutable(Path folder, boolean on) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder("chattr", on ? "+i" : "-i", folder.toString()).redirectErrorStream(true).start();
    } catch (IOException e) {
      org.junit.jupiter.api.Assumptions.abort("no chattr: " + e.getMessage());
      return;
    }
    p.getInputStream().readAllBytes();
    int rc = p.waitFor();
    if (on) {
      org.junit.jupiter.api.Assumptions.assumeTrue(rc == 0, "chattr +i not possible here");
    }
  }

  @Test
  void anOldCheckpointThatCannotBeDeletedDoesNotFailTheSaveAndIsTriedAgain() throws Exception {
    CheckpointStore store = CheckpointStore.open(dir, 1);
    Path first = store.save(at(100), CheckpointTest.PROVENANCE);
    immutable(first, true);
    try {
      CheckpointStore.Saved saved = store.saveAndPrune(200, at(200), CheckpointTest.PROVENANCE);
      assertEquals(dir.resolve("step-00000200"), saved.directory());
      assertEquals(1, saved.notPruned().size(), saved.notPruned().toString());
      assertTrue(saved.notPruned().get(0).startsWith(first + ": cannot delete old checkpoint"), saved.notPruned().get(0));
      // why, in the words of FileProblems.describe: not the JDK's message, which names the .tmp- name it was
      // being renamed to (a name the user never sees in the folder)
      assertTrue(saved.notPruned().get(0).matches(".*\\(kept; the next save tries again\\): "
          + "(Operation not permitted|permission denied)"), saved.notPruned().get(0));
      assertEquals(List.of("step-00000100", "step-00000200"), names(store.list()));
      // the plain save neither throws: it logs
      store.save(at(300), CheckpointTest.PROVENANCE);
      assertEquals(List.of("step-00000100", "step-00000300"), names(store.list()));
      assertEquals(at(300), store.latest().orElseThrow().content());
    } finally {
      immutable(first, false);
    }
    // freed: the next save prunes it
    CheckpointStore.Saved saved = store.saveAndPrune(400, at(400), CheckpointTest.PROVENANCE);
    assertEquals(List.of(), saved.notPruned());
    assertEquals(List.of("step-00000400"), names(store.list()));
  }

  @Test
  void savingTheSameStepAgainReplacesIt() {
    CheckpointStore store = CheckpointStore.open(dir, 5);
    store.save(300, at(1), CheckpointTest.PROVENANCE);
    store.save(300, at(2), CheckpointTest.PROVENANCE);
    assertEquals(List.of("step-00000300"), names(store.list()));
    assertEquals(at(2), store.latest().orElseThrow().content());
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> CheckpointStore.open(dir, 0));
    CheckpointStore store = CheckpointStore.open(dir, 1);
    assertThrows(
        IllegalArgumentException.class,
        () -> store.save(CheckpointContent.of(CheckpointTest.weights(1), ""), CheckpointTest.PROVENANCE));
  }

  /**
   * A save that replaces a step renames the new folder in and then deletes the old one it moved aside: a crash between
   * the two leaves both. Opening the store keeps the new checkpoint and deletes the old copy.
   */
  @Test
  void anOldCopyLeftAsideNextToItsReplacementIsDeletedOnOpen() throws IOException {
    Path folder = dir.resolve("checkpoints");
    CheckpointStore store = CheckpointStore.open(folder, 3);
    Path step = store.save(300, at(1), CheckpointTest.PROVENANCE);
    Path aside = folder.resolve(".tmp-step-00000300-1a2b3c-old");
    Files.move(step, aside);
    store.save(300, at(2), CheckpointTest.PROVENANCE);

    CheckpointStore reopened = CheckpointStore.open(folder, 3);
    assertEquals(at(2), reopened.latest().orElseThrow().content(), "the replacement, not the old copy");
    try (java.util.stream.Stream<Path> left = Files.list(folder)) {
      assertEquals(List.of("step-00000300"), left.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void aFileNamedLikeAStepIsNotACheckpoint() throws IOException {
    CheckpointStore store = CheckpointStore.open(dir, 3);
    store.save(at(100), CheckpointTest.PROVENANCE);
    Files.writeString(dir.resolve("step-00000900"), "notes\n");
    assertEquals(List.of("step-00000100"), names(store.list()));
    assertEquals(at(100), store.latest().orElseThrow().content());
  }
}
