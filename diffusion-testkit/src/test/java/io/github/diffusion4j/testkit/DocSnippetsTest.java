package io.github.diffusion4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.diffusion4j.testkit.DocSnippets.Snippet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DocSnippetsTest {
  @TempDir Path dir;

  @Test
  void blocksAreCompiledAndTheirErrorsNamedByTheMarkdownLine() throws IOException {
    Path md = dir.resolve("page.md");
    Files.writeString(md, String.join("\n",
        "# Page",                                     // 1
        "```java",                                    // 2
        "List<String> names = List.of(\"a\");",       // 3
        "int n = names.size();",                      // 4
        "```",                                        // 5
        "<!-- snippet: fragment -->",                 // 6
        "",                                           // 7
        "```java",                                    // 8
        "return b.build(x);",                         // 9
        "```",                                        // 10
        "```yaml",                                    // 11
        "```java: not java",                          // 12
        "```",                                        // 13
        "```java",                                    // 14
        "public class Mine {",                        // 15
        "  Yours y = new Yours();",                   // 16
        "  int broken = names;",                      // 17
        "}",                                          // 18
        "```",                                        // 19
        "```java",                                    // 20
        "import java.util.Set;",                      // 21
        "class Other { Set<String> s = Set.of(1); }", // 22
        "```"));
    List<Snippet> snippets = DocSnippets.extract(md);
    assertEquals(List.of(3, 9, 15, 21), snippets.stream().map(Snippet::line).toList());
    assertEquals(List.of(false, true, false, false), snippets.stream().map(Snippet::fragment).toList());
    List<String> errors = DocSnippets.compile(snippets, List.of("import java.util.List;"),
        Map.of("Yours", "class Yours {}", "Unused", "class Unused { no java }"));
    assertEquals(2, errors.size(), String.join("\n", errors));
    assertEquals(true, errors.get(0).startsWith(md + ":17: cannot find symbol"), errors.get(0));
    assertEquals(true, errors.get(1).startsWith(md + ":22: "), errors.get(1));
  }

  @Test
  void aModulesDotDotIsLeftOutOfTheMessages() {
    assertEquals(Path.of("docs", "a.md"), DocSnippets.shown(Path.of("..", "docs", "a.md")));
    assertEquals(Path.of("/x/a.md"), DocSnippets.shown(Path.of("/x/a.md")));
  }
}
