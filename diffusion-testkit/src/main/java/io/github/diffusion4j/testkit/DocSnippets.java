package io.github.diffusion4j.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;

/**
 * Compiles the {@code ```java} blocks of markdown files against the test's class path, so that the code the
 * documentation shows cannot drift from the API. Nothing is run.
 *
 * <p>A block that starts with {@code import} or {@code package} is a compilation unit as it stands; one that
 * declares a class is given the caller's imports; any other block is a sequence of statements, compiled as the
 * body of a method (that declares {@code throws Exception}) with the caller's imports. Each block is compiled in
 * a package of its own. A block just below the line {@code <!-- snippet: fragment -->} is skipped: use it only
 * where a block cannot compile (a method body cut out of a class).
 */
public final class DocSnippets {
  private DocSnippets() {}

  /** The marker, on the last non-blank line above a block, of a block that is not compiled. */
  public static final String FRAGMENT = "<!-- snippet: fragment -->";

  private static final Pattern UNIT = Pattern.compile("^(import|package)\\s", Pattern.MULTILINE);
  private static final Pattern PACKAGE = Pattern.compile("^package\\s", Pattern.MULTILINE);
  private static final Pattern DECLARED = Pattern.compile(
      "^(?:public\\s+|final\\s+|abstract\\s+)*(?:class|interface|record|enum)\\s+(\\w+)", Pattern.MULTILINE);
  private static final Pattern TYPE =
      Pattern.compile("^(public\\s+|final\\s+|abstract\\s+)*(class|interface|record|enum)\\s", Pattern.MULTILINE);

  /**
   * One {@code ```java} block.
   *
   * @param file the markdown file
   * @param line the 1-based line of the block's first code line
   * @param code the code
   * @param fragment whether the block is marked {@value #FRAGMENT}
   */
  public record Snippet(Path file, int line, String code, boolean fragment) {
    /** @return {@code file:line}, the file as {@link #shown(Path)} */
    public String where() {
      return shown(file) + ":" + line;
    }
  }

  /**
   * The {@code ```java} blocks of a file, in order.
   *
   * @param file a markdown file
   * @return its blocks
   */
  public static List<Snippet> extract(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Snippet> out = new ArrayList<>();
    String above = "";
    for (int i = 0; i < lines.size(); i++) {
      String s = lines.get(i).strip();
      if (s.startsWith("```")) {
        int end = i + 1;
        while (end < lines.size() && !lines.get(end).strip().matches("```+")) {      // a fence closes bare
          end++;
        }
        if (s.equals("```java")) {
          out.add(new Snippet(file, i + 2, String.join("\n", lines.subList(i + 1, end)), above.equals(FRAGMENT)));
        }
        i = end;
        above = "";
      } else if (!s.isEmpty()) {
        above = s;
      }
    }
    return out;
  }

  /**
   * The markdown files of a folder (not its subfolders), by name.
   *
   * @param dir a folder
   * @return its {@code *.md} files
   */
  public static List<Path> markdownFiles(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".md")).sorted(Comparator.naturalOrder()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Compiles the blocks that are not fragments, all in one compiler run.
   *
   * @param snippets the blocks
   * @param imports the {@code import ...;} lines given to blocks without imports of their own
   * @param standIns top-level classes standing for what a block names as the reader's own (such as
   *     {@code MyBackend}), by simple name; each is added to the blocks that use the name without declaring it
   * @return one line per error, {@code file:line: message}, empty when all compile
   */
  public static List<String> compile(List<Snippet> snippets, List<String> imports, Map<String, String> standIns) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) {
      throw new IllegalStateException("no Java compiler in this runtime (a JRE, not a JDK?)");
    }
    List<Source> sources = new ArrayList<>();
    for (Snippet s : snippets) {
      if (!s.fragment()) {
        sources.add(Source.of(s, sources.size(), imports, standIns));
      }
    }
    if (sources.isEmpty()) {
      return List.of();
    }
    Path out;
    try {
      out = Files.createTempDirectory("doc-snippets");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try {
      javac.getTask(null, null, diagnostics,
          // --release 17: the README promises Java 17, so a snippet must not pass by a newer JDK's API or syntax
          List.of("--release", "17", "-proc:none", "-nowarn", "-Xlint:none", "-classpath", classPath, "-d",
              out.toString()),
          null, sources).call();
    } finally {
      deleteTree(out);
    }
    List<String> errors = new ArrayList<>();
    for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
      if (d.getKind() != Diagnostic.Kind.ERROR) {
        continue;
      }
      String message = d.getMessage(Locale.ROOT).strip().replaceAll("\\s*\\R\\s*", "; ");
      if (d.getSource() instanceof Source src) {
        errors.add(src.where(d.getLineNumber()) + ": " + message);
      } else {
        errors.add(message);
      }
    }
    return errors;
  }

  /**
   * A file as the messages show it: without the leading {@code ..} of a module's test (which runs in the module's
   * folder), so relative to the repository's root.
   *
   * @param file a file
   * @return its path for messages
   */
  static Path shown(Path file) {
    Path p = file.normalize();
    return p.startsWith("..") && p.getNameCount() > 1 ? p.subpath(1, p.getNameCount()) : p;
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a temporary folder left behind
    }
  }

  /** A block as a compilation unit, with the map from its lines back to the markdown file. */
  private static final class Source extends SimpleJavaFileObject {
    private final Snippet snippet;
    private final String text;
    private final int prefixLines;

    private Source(Snippet snippet, String name, String text, int prefixLines) {
      super(URI.create("string:///" + name + Kind.SOURCE.extension), Kind.SOURCE);
      this.snippet = snippet;
      this.text = text;
      this.prefixLines = prefixLines;
    }

    static Source of(Snippet s, int index, List<String> imports, Map<String, String> standIns) {
      String pkg = "snippet" + index;
      String code = s.code();
      StringBuilder prefix = new StringBuilder("package " + pkg + ";\n");
      String suffix = "";
      String className;
      boolean unit = UNIT.matcher(code).find();
      if (!unit) {
        imports.forEach(i -> prefix.append(i).append('\n'));
      }
      java.util.regex.Matcher type = TYPE.matcher(code);
      if (unit || type.find()) {
        java.util.regex.Matcher m = DECLARED.matcher(code); // a declaration line, not a comment's "a record that"
        className = m.find() ? m.group(1) : "Snippet";
        if (PACKAGE.matcher(code).find()) {
          prefix.setLength(0);
        }
      } else {
        className = "Snippet";
        prefix.append("class Snippet { void snippet() throws Exception {\n");
        suffix = "\n}}";
      }
      StringBuilder extra = new StringBuilder();
      standIns.forEach((name, source) -> {
        if (Pattern.compile("\\b" + name + "\\b").matcher(code).find()
            && !Pattern.compile("(class|interface|record|enum)\\s+" + name + "\\b").matcher(code).find()) {
          extra.append('\n').append(source);
        }
      });
      String text = prefix + code + suffix + extra;
      int prefixLines = (int) prefix.chars().filter(c -> c == '\n').count();
      return new Source(s, pkg + "/" + className, text, prefixLines);
    }

    String where(long line) {
      long codeLine = line - prefixLines;
      long lines = snippet.code().lines().count();
      if (codeLine < 1 || codeLine > lines) {
        return snippet.where() + " (in the code wrapped around the block, line " + line + ")";
      }
      return shown(snippet.file()) + ":" + (snippet.line() + codeLine - 1);
    }

    @Override
    public CharSequence getCharContent(boolean ignoreEncodingErrors) {
      return text;
    }
  }
}
