package io.github.diffusion4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
  /** Code in backticks, or a table's cell border. */
  private static final Pattern CODE_OR_CELL = Pattern.compile("`([^`]+)`|\\|");
  /** {@code Class.member}, {@code Class.prefix*} or {@code Class.member()}. */
  private static final Pattern QUALIFIED = Pattern.compile("([A-Z]\\w*)\\.([a-z]\\w*)(\\*?)(?:\\(\\))?");
  private static final Pattern TEST_CLASS = Pattern.compile("[A-Z]\\w*Tests?");
  /** A class's tests counted: {@code `ClassTest` (N tests)} or {@code `ClassTest.prefix*` (N tests)}. */
  private static final Pattern COUNTED =
      Pattern.compile("`([A-Z]\\w*Tests?)(?:\\.([a-z]\\w*)\\*)?` \\((\\d+) tests\\)");
  private static final Pattern TEST_ANNOTATION =
      Pattern.compile("(?m)^\\s*@(?:Test|ParameterizedTest|RepeatedTest|TestFactory)\\b");
  /** A test method's name alone: lower camel case of four words or more, as the tests are named. */
  private static final Pattern BARE_METHOD = Pattern.compile("[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*){3,}\\*?");

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

  /**
   * Every test the docs name exists: {@code `ClassTest.method`} (or {@code `ClassTest.prefix*`} for several), and in a
   * table's cell a method named alone after its class ({@code `ClassTest.first`, `second`}) or a test class alone. A
   * test renamed or deleted leaves docs/reliability.md's rows claiming what nothing checks any more.
   */
  @Test
  void everyTestNamedInTheDocsExists() {
    Map<String, String> sources = javaSources();
    List<String> missing = new ArrayList<>();
    int found = 0;
    for (Path doc : markdown()) {
      String[] lines = read(doc).split("\\R");
      for (int i = 0; i < lines.length; i++) {
        boolean row = lines[i].startsWith("|");
        String where = ROOT.relativize(doc) + ":" + (i + 1) + ": ";
        String test = null; // the test class a bare method name in this cell belongs to
        Matcher m = CODE_OR_CELL.matcher(lines[i]);
        while (m.find()) {
          String code = m.group(1);
          Matcher q = code == null ? null : QUALIFIED.matcher(code);
          if (code == null) {
            test = null; // the next cell
          } else if (q.matches() && TEST_CLASS.matcher(q.group(1)).matches()) {
            found++;
            test = q.group(1);
            if (!sources.containsKey(test)) {
              missing.add(where + code + " (no class " + test + ")");
              test = null;
            } else if (!declares(sources.get(test), q.group(2), !q.group(3).isEmpty())) {
              missing.add(where + code);
            }
          } else if (q.matches()) {
            test = null; // another class's member: what follows is not a test of the one before
          } else if (row && TEST_CLASS.matcher(code).matches()) {
            found++;
            test = sources.containsKey(code) ? code : null;
            if (test == null) {
              missing.add(where + code + " (no such class)");
            }
          } else if (row && test != null && BARE_METHOD.matcher(code).matches()) {
            found++;
            String name = code.endsWith("*") ? code.substring(0, code.length() - 1) : code;
            if (!declares(sources.get(test), name, code.endsWith("*"))) {
              missing.add(where + code + " (in " + test + ")");
            }
          }
        }
      }
    }
    assertTrue(found >= 300, "the tests named are found: " + found);
    assertEquals("", String.join("\n", missing), "tests named in the docs that do not exist");
  }

  /**
   * A count of tests the docs give ({@code `SizesTest` (10 tests)}, {@code `SafeTensorsTest.rejects*` (17 tests)}) is
   * the class's tests, or its methods of that prefix, as they are now: the counts had fallen behind the tests added.
   */
  @Test
  void everyCountOfTestsInTheDocsIsTheNumberThereAre() {
    Map<String, String> sources = javaSources();
    List<String> wrong = new ArrayList<>();
    int found = 0;
    for (Path doc : markdown()) {
      Matcher m = COUNTED.matcher(read(doc));
      while (m.find()) {
        found++;
        String source = sources.getOrDefault(m.group(1), "");
        Matcher tests = m.group(2) == null ? TEST_ANNOTATION.matcher(source)
            : Pattern.compile("\\bvoid\\s+" + Pattern.quote(m.group(2)) + "\\w*\\s*\\(").matcher(source);
        long there = tests.results().count();
        if (there != Long.parseLong(m.group(3))) {
          wrong.add(ROOT.relativize(doc) + ": " + m.group() + ", but there are " + there);
        }
      }
    }
    assertTrue(found >= 5, "the counts are found: " + found);
    assertEquals("", String.join("\n", wrong), "counts of tests in the docs that are not the tests' number");
  }

  @Test
  void aTestIsFoundByItsDeclarationNotByACall() {
    String source = "class T {\n  @Test\n  void aFileIsRead() {\n    helperCalled(1);\n  }\n  private static int "
        + "helperOf(int x) {\n    return x;\n  }\n}";
    assertTrue(declares(source, "aFileIsRead", false));
    assertTrue(declares(source, "helperOf", false));
    assertTrue(declares(source, "aFile", true), "a prefix with *");
    assertFalse(declares(source, "helperCalled", false), "a call is no declaration");
    assertFalse(declares(source, "aFile", false), "without * the whole name");
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
    for (Path doc : markdown()) {
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

  /** Whether a class's source declares a method of that name (or, with {@code prefix}, of a name that starts so). */
  static boolean declares(String source, String name, boolean prefix) {
    return Pattern.compile("\\b(?:void|boolean|int|long|double|float|[A-Z][\\w.<>\\[\\], ?]*)\\s+"
        + Pattern.quote(name) + (prefix ? "\\w*" : "") + "\\s*\\(").matcher(source).find();
  }

  /** Every module's Java sources (main and test), by the simple name of the file; the texts of one name joined. */
  private static Map<String, String> javaSources() {
    Map<String, String> out = new LinkedHashMap<>();
    for (Path file : sources()) {
      String name = file.getFileName().toString();
      if (name.endsWith(".java")) {
        out.merge(name.substring(0, name.length() - ".java".length()), read(file), (a, b) -> a + "\n" + b);
      }
    }
    return out;
  }

  /** The README and docs/*.md. */
  private static List<Path> markdown() {
    List<Path> docs = new ArrayList<>(DocSnippets.markdownFiles(ROOT.resolve("docs")));
    docs.add(ROOT.resolve("README.md"));
    return docs;
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
