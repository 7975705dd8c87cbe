import java.io.*;
import java.nio.file.*;
import org.jacoco.core.analysis.*;
import org.jacoco.core.tools.ExecFileLoader;
import org.jacoco.report.*;
import org.jacoco.report.xml.XMLFormatter;
import org.jacoco.report.csv.CSVFormatter;
import org.jacoco.report.html.HTMLFormatter;

/**
 * One coverage report over every module's classes, from every module's tests ({@code target/jacoco.exec} of each, as
 * {@code ./mvnw -Pcoverage verify} leaves them): a class of the api counts as tested wherever its tests live (the
 * testkit, the backends, the command line). Run by scripts/coverage.sh with JaCoCo's jars on the class path.
 *
 * <p>Arguments: the repository's root, the report's folder (jacoco.xml, jacoco.csv, html/index.html), and optionally
 * a file of floors (lines {@code MODULE LINES% BRANCHES%}, {@code #} comments): a module below its floor, or a floor's
 * module without classes, is named and the exit status is 1 (CI's check that coverage does not fall).
 */
public class CoverageReport {
  public static void main(String[] a) throws Exception {
    Path root = Path.of(a[0]);
    Path out = Path.of(a[1]);
    java.util.Map<String, double[]> floors = a.length > 2 ? floors(Path.of(a[2])) : java.util.Map.of();
    java.util.List<String> below = new java.util.ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    ExecFileLoader loader = new ExecFileLoader();
    String[] mods = {"diffusion-api", "diffusion-testkit", "backend-nd4j", "backend-djl", "diffusion-cli",
        "diffusion-spark", "examples", "benchmarks"};
    int loaded = 0;
    for (String m : mods) {
      Path e = root.resolve(m).resolve("target/jacoco.exec");
      if (Files.exists(e)) {
        loader.load(e.toFile());
        loaded++;
      }
    }
    if (loaded == 0) {
      System.err.println("coverage: no target/jacoco.exec under " + root + "; run ./mvnw -Pcoverage verify first");
      System.exit(2);
    }
    Files.createDirectories(out);
    System.out.println("coverage of each module by every module's tests (lines, branches):");
    IReportVisitor[] vs = {
      new XMLFormatter().createVisitor(new FileOutputStream(out.resolve("jacoco.xml").toFile())),
      new CSVFormatter().createVisitor(new FileOutputStream(out.resolve("jacoco.csv").toFile())),
      new HTMLFormatter().createVisitor(new FileMultiReportOutput(out.resolve("html").toFile()))};
    IReportVisitor v = new MultiReportVisitor(java.util.List.of(vs));
    v.visitInfo(loader.getSessionInfoStore().getInfos(), loader.getExecutionDataStore().getContents());
    IReportGroupVisitor g = v.visitGroup("diffusion4j");
    for (String m : mods) {
      Path classes = root.resolve(m).resolve("target/classes");
      if (!Files.isDirectory(classes)) {
        continue;
      }
      CoverageBuilder b = new CoverageBuilder();
      Analyzer an = new Analyzer(loader.getExecutionDataStore(), b);
      try (var s = Files.walk(classes)) {
        // JMH's generated harness is not our code
        for (Path p : (Iterable<Path>) s.filter(x -> x.toString().endsWith(".class")
            && !x.toString().contains("/jmh_generated/"))::iterator) {
          try (InputStream in = Files.newInputStream(p)) {
            an.analyzeClass(in, p.toString());
          }
        }
      }
      IBundleCoverage bundle = b.getBundle(m);
      g.visitBundle(bundle,
          new DirectorySourceFileLocator(root.resolve(m).resolve("src/main/java").toFile(), "UTF-8", 4));
      ICounter lines = bundle.getLineCounter();
      ICounter branches = bundle.getBranchCounter();
      System.out.printf(java.util.Locale.ROOT, "%-18s lines %5.1f%% (%d of %d)  branches %5.1f%% (%d of %d)%n", m,
          100 * lines.getCoveredRatio(), lines.getCoveredCount(), lines.getTotalCount(),
          100 * branches.getCoveredRatio(), branches.getCoveredCount(), branches.getTotalCount());
      seen.add(m);
      double[] floor = floors.get(m);
      if (floor != null) {
        check(below, m, "lines", lines, floor[0]);
        check(below, m, "branches", branches, floor[1]);
      }
    }
    v.visitEnd();
    System.out.println("report: " + out.resolve("html/index.html"));
    for (String m : floors.keySet()) {
      if (!seen.contains(m)) {
        below.add(m + ": no target/classes, so no coverage to hold to its floor");
      }
    }
    if (!below.isEmpty()) {
      for (String b : below) {
        System.out.println("coverage below its floor in " + a[2] + ": " + b);
      }
      System.exit(1);
    }
    if (!floors.isEmpty()) {
      System.out.println("coverage: every module at or above its floor in " + a[2]);
    }
  }

  /** A module's floors: {@code MODULE LINES% BRANCHES%} per line, {@code #} comments, in the file's order. */
  private static java.util.Map<String, double[]> floors(Path file) throws IOException {
    java.util.Map<String, double[]> floors = new java.util.LinkedHashMap<>();
    int n = 0;
    for (String line : Files.readAllLines(file)) {
      n++;
      String t = line.replaceFirst("#.*", "").trim();
      if (t.isEmpty()) {
        continue;
      }
      String[] f = t.split("\\s+");
      try {
        if (f.length != 3) {
          throw new NumberFormatException();
        }
        floors.put(f[0], new double[] {Double.parseDouble(f[1]), Double.parseDouble(f[2])});
      } catch (NumberFormatException e) {
        System.err.println("coverage: " + file + ":" + n + ": '" + line + "': give MODULE LINES% BRANCHES%, e.g. "
            + "diffusion-api 93.0 85.0");
        System.exit(2);
      }
    }
    return floors;
  }

  /** Adds a line to {@code below} where the counter's covered percentage is under {@code floor}. */
  private static void check(java.util.List<String> below, String module, String what, ICounter c, double floor) {
    double percent = 100 * c.getCoveredRatio();
    if (percent < floor) {
      below.add(String.format(java.util.Locale.ROOT, "%s %s %.1f%% (%d of %d) under %.1f%%", module, what, percent,
          c.getCoveredCount(), c.getTotalCount(), floor));
    }
  }
}
