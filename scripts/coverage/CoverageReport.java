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
    }
    v.visitEnd();
    System.out.println("report: " + out.resolve("html/index.html"));
  }
}
