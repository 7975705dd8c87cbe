package io.github.diffusion4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import io.github.diffusion4j.testkit.ChildJvm;
import io.github.diffusion4j.testkit.ReferenceBackendProvider;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class Nd4jBackendProviderTest {

  /** Records every class name it is asked for. */
  private static final class RecordingLoader extends URLClassLoader {
    final Set<String> requested = ConcurrentHashMap.newKeySet();

    RecordingLoader(URL[] urls) {
      super(urls, ClassLoader.getPlatformClassLoader());
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      requested.add(name);
      return super.loadClass(name, resolve);
    }
  }

  private static URL[] testClassPath() throws Exception {
    List<URL> urls = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      urls.add(new File(entry).toURI().toURL());
    }
    return urls.toArray(URL[]::new);
  }

  @Test
  void describingTheProviderLoadsNoNd4jOrNativeClass() throws Exception {
    try (RecordingLoader loader = new RecordingLoader(testClassPath())) {
      Class<?> spi = loader.loadClass(BackendProvider.class.getName());
      List<String> names = new ArrayList<>();
      for (Object p : ServiceLoader.load(spi, loader)) {
        for (String m : List.of("name", "description", "artifact")) {
          Method method = spi.getMethod(m);
          names.add((String) method.invoke(p));
        }
      }
      assertTrue(names.contains("nd4j"), "ServiceLoader finds the provider: " + names);
      assertTrue(names.contains("io.github.diffusion4j:backend-nd4j"), names.toString());
      Set<String> engine =
          loader.requested.stream()
              .filter(n -> n.startsWith("org.nd4j.") || n.startsWith("org.bytedeco.") || n.startsWith("com.sun.jna."))
              .collect(Collectors.toSet());
      assertTrue(engine.isEmpty(), "classes loaded before create(): " + engine);
      assertTrue(loader.requested.contains(Nd4jBackendProvider.class.getName()));
    }
  }

  /**
   * The testkit is on this module's test class path (the contract suites come from it) but registers no
   * backend: ServiceLoader finds ND4J's provider and nothing else, in particular not the reference backend,
   * which a test asks for explicitly.
   */
  @Test
  void theTestkitPutsNoBackendOnAConsumersClassPath() {
    assertEquals("reference", new ReferenceBackendProvider().name(), "the testkit is on the test class path");
    List<String> found = new ArrayList<>();
    for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
      found.add(p.name());
    }
    assertEquals(List.of("nd4j"), found);
  }

  @Test
  void describesItselfAndCreatesABackendWithTheRequestedThreads() {
    Nd4jBackendProvider p = new Nd4jBackendProvider();
    assertEquals("nd4j", p.name());
    assertEquals("io.github.diffusion4j:backend-nd4j", p.artifact());
    assertTrue(p.description().startsWith("ND4J 1.0.0-M2.1"));
    try (Backend b = p.create(new BackendOptions(2))) {
      assertEquals("nd4j", b.name());
      assertTrue(b.describe().endsWith("2 threads"), b.describe());
    }
    try (Backend b = p.create(BackendOptions.defaults())) {
      assertTrue(b.describe().endsWith("1 thread"), b.describe());
      assertFalse(b.describe().contains("\n"));
    }
  }

  @Test
  void thePassMemoryIsASystemPropertyInMibCheckedBeforeTheBackendIsCreated() {
    Nd4jBackendProvider p = new Nd4jBackendProvider();
    String before = System.getProperty(Nd4jLayers.PASS_MEMORY_PROPERTY);
    try {
      System.clearProperty(Nd4jLayers.PASS_MEMORY_PROPERTY);
      try (Backend b = p.create(BackendOptions.defaults())) {
        assertEquals(2048L << 20, b.layers().passMemoryBytes());
      }
      System.setProperty(Nd4jLayers.PASS_MEMORY_PROPERTY, " 64 ");
      try (Backend b = p.create(BackendOptions.defaults())) {
        assertEquals(64L << 20, b.layers().passMemoryBytes());
      }
      System.setProperty(Nd4jLayers.PASS_MEMORY_PROPERTY, "1g");
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> p.create(BackendOptions.defaults()));
      assertEquals("system property diffusion4j.nd4j.passMemoryMb: '1g' is not a whole number of MiB from 1 "
          + "(the activation memory of one pass; default 2048)", e.getMessage());
    } finally {
      if (before == null) {
        System.clearProperty(Nd4jLayers.PASS_MEMORY_PROPERTY);
      } else {
        System.setProperty(Nd4jLayers.PASS_MEMORY_PROPERTY, before);
      }
    }
  }

  @Test
  void theVectorAndWinogradSwitchesAreBooleansCheckedBeforeTheBackendIsCreated() {
    Nd4jBackendProvider p = new Nd4jBackendProvider();
    for (String property : new String[] {VectorApi.PROPERTY, WinogradConv.PROPERTY, Winograd4Conv.PROPERTY}) {
      String before = System.getProperty(property);
      try {
        System.setProperty(property, "ture");
        IllegalArgumentException e =
            assertThrows(IllegalArgumentException.class, () -> p.create(BackendOptions.defaults()));
        assertEquals("system property " + property + ": 'ture' is not a boolean (allowed: true, false)",
            e.getMessage());
        // the loaders, called from static initialisers, never throw: they keep the default
        assertTrue(VectorApi.load(DirectConv.Simd.class, DirectConv.class.getName() + "Simd") != null);
        System.setProperty(property, " TRUE ");
        try (Backend b = p.create(BackendOptions.defaults())) {
          assertTrue(b.describe().contains("direct"), b.describe());
        }
      } finally {
        if (before == null) {
          System.clearProperty(property);
        } else {
          System.setProperty(property, before);
        }
      }
    }
  }

  @Test
  void withoutTheNativeJarCreateThrowsBackendUnavailableWithOneLine() throws Exception {
    String classPath =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(e -> !(e.contains("nd4j-native") && e.endsWith("-linux-x86_64.jar")))
            .collect(Collectors.joining(File.pathSeparator));
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(List.of(java));
    command.addAll(ChildJvm.coverageAgent()); // measured under -Pcoverage, as this JVM is
    command.addAll(List.of("-cp", classPath, Nd4jLoadProbe.class.getName()));
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .start();
    List<String> lines;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      lines = r.lines().filter(l -> l.startsWith("loaded: ") || l.startsWith("unavailable: ")).toList();
    }
    assertEquals(0, p.waitFor());
    assertEquals(2, lines.size(), lines.toString());
    for (String line : lines) {
      assertTrue(line.startsWith("unavailable: backend 'nd4j': ND4J's native libraries could not be loaded"), line);
      assertTrue(line.contains("org.nd4j:nd4j-native"), line);
    }
    assertEquals(lines.get(0), lines.get(1), "a second attempt fails the same way");
  }

  @Test
  void aLoadFailureBecomesOneLineNamingTheCauseAndTheFix() {
    Throwable e =
        new RuntimeException(
            "ND4J is probably missing dependencies.",
            new UnsatisfiedLinkError("no jnind4jcpu in java.library.path: /usr/lib\nsecond line"));
    String reason = NativeRuntime.reason(e);
    assertFalse(reason.contains("\n"), reason);
    assertTrue(reason.contains("UnsatisfiedLinkError: no jnind4jcpu in java.library.path"), reason);
    assertTrue(reason.contains("org.nd4j:nd4j-native"), reason);
    assertTrue(reason.contains("classifier"), reason);
    String bare = NativeRuntime.reason(new ExceptionInInitializerError(new UnsatisfiedLinkError()));
    assertTrue(bare.contains("(UnsatisfiedLinkError); add org.nd4j:nd4j-native"), "a cause without a message: " + bare);
  }

  /** No writable folder to unpack into (read-only home, java.io.tmpdir missing) is named as such, not as missing jars. */
  @Test
  void aCacheThatCannotBeCreatedIsNamedNotMissingJars() {
    Throwable e = new RuntimeException("ND4J is probably missing dependencies.", new java.io.IOException(
        "Could not create the cache: Set the \"org.bytedeco.javacpp.cachedir\" system property."));
    String reason = NativeRuntime.reason(e);
    assertTrue(reason.startsWith("backend 'nd4j': ND4J's native libraries could not be unpacked"), reason);
    assertTrue(reason.contains("-Dorg.bytedeco.javacpp.cachedir=DIR"), reason);
    assertFalse(reason.contains("classifier"), reason);
    assertFalse(NativeRuntime.unpackingFailed(new UnsatisfiedLinkError("no jnind4jcpu in java.library.path")));
    assertTrue(NativeRuntime.unpackingFailed(
        new RuntimeException(new java.nio.file.AccessDeniedException("/home/u/.javacpp/cache"))), "a file system error");
    assertTrue(NativeRuntime.unpackingFailed(new IllegalStateException("set org.bytedeco.javacpp.cachedir")),
        "a message that names the property");
  }

  /**
   * Memory that ran out while ND4J loads (its environment's allocations, JavaCPP's limits) is named as memory, not as
   * missing jars: adding jars is no fix.
   */
  @Test
  void memoryThatRanOutWhileLoadingIsNamedNotMissingJars() {
    Throwable e = new ExceptionInInitializerError(new OutOfMemoryError(
        "Physical memory usage is too high: physicalBytes (600M) > maxPhysicalBytes (512M)\nsecond line"));
    String reason = NativeRuntime.reason(e);
    assertTrue(reason.startsWith("backend 'nd4j': ND4J ran out of memory while loading (OutOfMemoryError: Physical "
        + "memory usage is too high: physicalBytes (600M) > maxPhysicalBytes (512M)) with a heap of at most "), reason);
    assertTrue(reason.contains("-Xmx") && reason.contains("maxPhysicalBytes"), reason);
    assertFalse(reason.contains("classifier") || reason.contains("\n"), reason);
    assertFalse(NativeRuntime.outOfMemory(new UnsatisfiedLinkError("no jnind4jcpu in java.library.path")));
  }

  @Test
  void openBlasKernelsFollowTheCpuFlags() {
    Set<String> avx512 = Set.of("sse3", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");
    assertEquals(Optional.of("SkylakeX"), OpenBlasCoreType.choose(avx512));
    assertEquals(Optional.of("Haswell"), OpenBlasCoreType.choose(Set.of("sse3", "avx", "avx2", "fma")));
    assertEquals(Optional.of("Haswell"), OpenBlasCoreType.choose(Set.of("avx2", "fma", "avx512f")));
    assertEquals(Optional.empty(), OpenBlasCoreType.choose(Set.of("sse3", "avx")));
    assertEquals(Optional.empty(), OpenBlasCoreType.choose(Set.of("avx", "avx2")), "AVX2 without FMA");
    assertEquals(Optional.empty(), OpenBlasCoreType.choose(Set.of("avx", "fma")), "FMA without AVX2");
    assertEquals(Optional.empty(), OpenBlasCoreType.choose(Set.of()));
  }

  /**
   * The flags come from the first processor's {@code flags} line of {@code /proc/cpuinfo} (checked on its text, as
   * the file of this machine is one CPU's): the words after its colon, not the {@code vmx flags} or {@code bugs}
   * lines nor a later processor's; none where the file has no such line (an ARM CPU's lists {@code Features}).
   */
  @Test
  void theCpuFlagsAreTheFirstProcessorsFlagsLine() {
    String cpuinfo = """
        processor\t: 0
        model name\t: AMD Ryzen 9 9950X 16-Core Processor
        flags\t\t: fpu sse3 avx2 fma avx512f  avx512cd
        vmx flags\t: vnmi preemption_timer
        bugs\t\t: sysret_ss_attrs
        
        processor\t: 1
        flags\t\t: fpu sse3
        """;
    assertEquals(Set.of("fpu", "sse3", "avx2", "fma", "avx512f", "avx512cd"),
        OpenBlasCoreType.flags(cpuinfo.lines()));
    assertEquals(Set.of(), OpenBlasCoreType.flags("processor\t: 0\nFeatures\t: fp asimd evtstrm\n".lines()));
  }

  /**
   * The system property {@value OpenBlasCoreType#PROPERTY}: {@code auto}, in any case and with spaces, leaves
   * OpenBLAS's detection alone; another value is the core type whatever the CPU; unset, the CPU's flags choose (and
   * are read only then).
   */
  @Test
  void theCoreTypePropertyOverridesTheFlags() {
    Set<String> haswell = Set.of("avx2", "fma");
    assertEquals(Optional.empty(), OpenBlasCoreType.choice(" Auto ", () -> haswell));
    assertEquals(Optional.of("Zen"), OpenBlasCoreType.choice(" Zen", () -> haswell));
    assertEquals(Optional.of("Haswell"), OpenBlasCoreType.choice("", () -> haswell));
    assertEquals(Optional.empty(), OpenBlasCoreType.choice("  ", Set::of));
    assertEquals(Optional.of("Zen"), OpenBlasCoreType.choice("Zen", () -> {
      throw new AssertionError("the flags are read only without a value");
    }));
  }
}
