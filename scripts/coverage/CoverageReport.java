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
 * <p>Arguments: the repository's root, the report's folder (jacoco.xml, jacoco.csv, html/index.html).
 */
public class CoverageReport {
  public static void main(String[] a) throws Exception {
    Path root = Path.of(a[0]);
    Path out = Path.of(a[1]);
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
    }
    v.visitEnd();
    // per module: lines and branches covered
    try (var lines = Files.lines(out.resolve("jacoco.csv"))) {
      java.util.Map<String, long[]> sums = new java.util.LinkedHashMap<>();
      lines.skip(1).map(l -> l.split(",")).forEach(f -> {
        long[] t = sums.computeIfAbsent(f[0].substring(f[0].indexOf('/') + 1), k -> new long[4]);
        t[0] += Long.parseLong(f[8]);
        t[1] += Long.parseLong(f[7]) + Long.parseLong(f[8]);
        t[2] += Long.parseLong(f[6]);
        t[3] += Long.parseLong(f[5]) + Long.parseLong(f[6]);
      });
      sums.forEach((m, t) -> System.out.printf(java.util.Locale.ROOT, "%-18s lines %5.1f%% (%d of %d)  branches %5.1f%% (%d of %d)%n",
          m, 100.0 * t[0] / Math.max(1, t[1]), t[0], t[1], 100.0 * t[2] / Math.max(1, t[3]), t[2], t[3]));
    }
    System.out.println("report: " + out.resolve("html/index.html"));
  }
}
