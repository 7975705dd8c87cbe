package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.testkit.DocSnippets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What the docs and the code point a reader to exists: every file under docs/ they name, and every section of the
 * README or of docs/*.md they name, written {@code docs/benchmarks.md, "Native allocation"} (or {@code README,
 * "Quality and speed"}, or {@code ..., section "..."}) in the docs, the Javadoc, the comments and the messages of
 * every module: a heading of that file, or a paragraph that opens in bold with those words. A file moved or a heading
 * renamed leaves a reader of the old name nowhere, and nothing else notices.
 */
class DocReferencesTest {
  /** A file, a comma, and the quoted words; line breaks and comment markers between them already joined. */
  private static final Pattern REFERENCE =
      Pattern.compile("(README(?:\\.md)?|docs/[\\w.-]+\\.md),\\s*(?:sections? )?\"([^\"]+)\"");
  /** A line break inside a comment or a paragraph, with the comment's markers. */
  private static final Pattern LINE_BREAK = Pattern.compile("\\s*\\R\\s*(?:\\*(?!\\*)|//)?\\s*");
  /** Where a Java string literal is continued by another ({@code "a " + "b"}). */
  private static final Pattern CONCATENATION = Pattern.compile("\"\\s*\\+\\s*\"");
  private static final Pattern HEADING = Pattern.compile("#{1,6}\\s+(.+?)\\s*");
  private static final Pattern BOLD_OPENING = Pattern.compile("\\s*(?:[-*]\\s+)?\\*\\*([^*]+)\\*\\*.*");
  private static final Path ROOT = Path.of("..");

  @Test
  void everySectionNamedInTheDocsAndTheCodeExists() {
    Map<String, List<String>> sections = sections();
    List<String> broken = new ArrayList<>();
    int found = 0;
    for (Path file : sources()) {
      Matcher m = REFERENCE.matcher(text(file));
      while (m.find()) {
        String doc = m.group(1).startsWith("README") ? "README.md" : m.group(1);
        List<String> names = sections.get(doc);
        found++;
        if (names == null) {
          broken.add(ROOT.relativize(file) + ": " + m.group() + " (no such file)");
        } else if (names.stream().noneMatch(name -> names(name, m.group(2)))) {
          broken.add(ROOT.relativize(file) + ": " + m.group() + " (no such section)");
        }
      }
    }
    assertTrue(found >= 15, "the references are found: " + found);
    assertEquals("", String.join("\n", broken), "sections named that do not exist");
  }

  @Test
  void everyFileOfTheDocsFolderNamedExists() {
    Pattern path = Pattern.compile("docs/[\\w./-]*\\w\\.(?:md|py|png|gif|json)");
    List<String> missing = new ArrayList<>();
    for (Path file : sources()) {
      Matcher m = path.matcher(read(file));
      while (m.find()) {
        if (!Files.exists(ROOT.resolve(m.group()))) {
          missing.add(ROOT.relativize(file) + ": " + m.group());
        }
      }
    }
    assertEquals("", String.join("\n", missing), "files named under docs/ that do not exist");
  }

  @Test
  void aSectionIsNamedByItsWholeTitleOrTheTitleBeforeItsColonOrBracket() {
    assertTrue(names("Another CPU: the same bits", "Another CPU"));
    assertTrue(names("Native allocation (2026-12-05)", "Native allocation"));
    assertTrue(names("Quality and speed", "Quality and speed"));
    assertTrue(names("A batch split over the threads; per-thread arenas", "A batch split over the threads"));
    assertTrue(!names("Quality and speed", "Quality"), "a title's first word is not the section");
    assertTrue(!names("Another CPU", "Another CPU: the same bits"));
  }

  /** A file's text on one line, Java's string literals joined and their quotes unescaped. */
  private static String text(Path file) {
    String joined = LINE_BREAK.matcher(read(file)).replaceAll(" ");
    return file.toString().endsWith(".java")
        ? CONCATENATION.matcher(joined).replaceAll("").replace("\\\"", "\"")
        : joined;
  }

  /** Whether a section titled {@code title} is the one {@code words} name. */
  private static boolean names(String title, String words) {
    if (!title.startsWith(words)) {
      return false;
    }
    String rest = title.substring(words.length());
    return rest.isEmpty() || rest.startsWith(":") || rest.startsWith(";") || rest.startsWith(" (") || rest.startsWith(",")
        || rest.startsWith(".") || rest.startsWith(" -");
  }

  /** Each markdown file's headings and bold paragraph openings, by its path from the root. */
  private static Map<String, List<String>> sections() {
    Map<String, List<String>> out = new LinkedHashMap<>();
    List<Path> docs = new ArrayList<>(DocSnippets.markdownFiles(ROOT.resolve("docs")));
    docs.add(ROOT.resolve("README.md"));
    for (Path doc : docs) {
      List<String> names = new ArrayList<>();
      boolean fenced = false;
      for (String line : read(doc).split("\\R")) {
        if (line.startsWith("```")) {
          fenced = !fenced;
          continue;
        }
        Matcher h = HEADING.matcher(line);
        Matcher b = BOLD_OPENING.matcher(line);
        if (fenced) {
          continue;
        } else if (h.matches()) {
          names.add(h.group(1));
        } else if (b.matches()) {
          names.add(b.group(1).strip());
        }
      }
      out.put(ROOT.relativize(doc).toString().replace('\\', '/'), names);
    }
    return out;
  }

  /** The README, docs/*.md and every module's Java sources. */
  private static List<Path> sources() {
    try (Stream<Path> all = Files.walk(ROOT)) {
      return all.filter(p -> !p.toString().contains("/target/") && !p.toString().contains("/.git/")
              && !p.toString().contains("/node_modules/"))
          .filter(p -> p.toString().endsWith(".java") || p.equals(ROOT.resolve("README.md"))
              || ROOT.resolve("docs").equals(p.getParent()) && p.toString().endsWith(".md"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
