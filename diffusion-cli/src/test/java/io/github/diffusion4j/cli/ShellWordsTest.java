package io.github.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@link ShellWords}: a suggested command's words as a POSIX shell reads them back. */
class ShellWordsTest {
  @Test
  void aWordAShellWouldSplitOrExpandIsSingleQuotedAndOthersStayAsTheyAre() {
    assertEquals("runs/demo-20261207-232559/config.yaml",
        ShellWords.quote(Path.of("runs/demo-20261207-232559/config.yaml")));
    assertEquals("/tmp/données/日本/é.yaml", ShellWords.quote("/tmp/données/日本/é.yaml"),
        "letters of any script");
    assertEquals("'/tmp/my projects/run'", ShellWords.quote("/tmp/my projects/run"));
    assertEquals("'it'\\''s.yaml'", ShellWords.quote("it's.yaml"));
    assertEquals("'$HOME/*.yaml'", ShellWords.quote("$HOME/*.yaml"));
    assertEquals("'~/x'", ShellWords.quote("~/x"), "a literal ~ is not the home folder");
    assertEquals("''", ShellWords.quote(""));
  }

  /** Each quoted word, given to bash, comes back as the one argument it was. */
  @Test
  void bashReadsEachQuotedWordBackAsOneArgument() throws Exception {
    String word = "/tmp/my projects/it's $x `y` \\z \"q\"/run ü";
    Process p = new ProcessBuilder("bash", "-c", "printf '%s|' " + ShellWords.quote(word) + " end")
        .redirectErrorStream(true).start();
    String got = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), got);
    assertEquals(word + "|end|", got);
  }
}
