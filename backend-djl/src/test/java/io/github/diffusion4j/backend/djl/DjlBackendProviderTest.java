package io.github.diffusion4j.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.model.MlpSpec;
import io.github.diffusion4j.model.UNetSpec;
import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.nn.Network;
import io.github.diffusion4j.nn.Node;
import io.github.diffusion4j.nn.ParameterStore;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendProvider;
import io.github.diffusion4j.spi.BackendUnavailableException;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.testkit.ChildJvm;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The provider: discovery, laziness, and what {@code create} sets up. */
class DjlBackendProviderTest {

  /** A bad value of a strategy's property fails the backend's creation, before any work, on every CPU. */
  @ParameterizedTest
  @CsvSource({
    Convolution.PROPERTY + ", fast, direct",
    Convolution.CHANNELS_LAST_PROPERTY + ", fast, true",
    InnerProduct.PROPERTY + ", fast, onednn"
  })
  void aBadStrategyPropertyFailsTheBackendsCreation(String property, String value, String allowed) {
    String before = System.getProperty(property);
    System.setProperty(property, value);
    try {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new DjlBackendProvider().create(new BackendOptions(1)));
      assertTrue(e.getMessage().contains(property) && e.getMessage().contains("'" + value + "'")
          && e.getMessage().contains(allowed), e.getMessage());
    } finally {
      if (before == null) {
        System.clearProperty(property);
      } else {
        System.setProperty(property, before);
      }
    }
  }

  /**
   * With no writable folder to unpack libtorch into (a read-only home and java.io.tmpdir missing), the message
   * was "cannot load the PyTorch engine (/nonexistent); ... needs ... pytorch-native-cpu on the class path":
   * it names the cause and the variable that fixes it.
   */
  @Test
  void aLibraryThatCannotBeUnpackedNamesTheCacheFolderNotMissingJars() {
    RuntimeException e = new ai.djl.engine.EngineException("Failed to extract PyTorch native library",
        new java.nio.file.AccessDeniedException("/nonexistent"));
    assertTrue(DjlBackend.unpackingFailed(e));
    assertEquals("/nonexistent: permission denied", DjlBackend.reason(e));
    Error missing = new UnsatisfiedLinkError("no torch in java.library.path");
    assertFalse(DjlBackend.unpackingFailed(missing));
    assertEquals("no torch in java.library.path", DjlBackend.reason(missing));
  }

  /**
   * A home folder the user cannot write (a locked-down login node): DJL falls back to java.io.tmpdir/.djl.ai, one
   * folder for every user, owned by whoever came first; a second user's engine did not load ("cannot unpack the
   * PyTorch native library (AccessDeniedException: /tmp/.djl.ai/pytorch/tmp...)"). Each user gets their own,
   * as JavaCPP's .javacpp-USER; a DJL_CACHE_DIR given, or a writable home, is left to DJL.
   */
  @Test
  void aHomeThatCannotBeWrittenUnpacksIntoAFolderOfTheUsersOwnNotOneSharedWithOthers() {
    java.nio.file.Path tmp = java.nio.file.Path.of("/scratch");
    assertEquals(java.util.Optional.of(tmp.resolve(".djl.ai-walker")),
        DjlBackend.ownCacheDir(null, false, tmp, "walker"));
    assertEquals(java.util.Optional.of(tmp.resolve(".djl.ai-walker")),
        DjlBackend.ownCacheDir("", false, tmp, "walker"));
    assertEquals(java.util.Optional.empty(), DjlBackend.ownCacheDir(null, true, tmp, "walker"));
    assertEquals(java.util.Optional.empty(), DjlBackend.ownCacheDir("/data/djl", false, tmp, "walker"));
    // a user name that is no file name (a directory service's "DOMAIN\\user", a slash) is made one
    assertEquals(java.util.Optional.of(tmp.resolve(".djl.ai-CORP_ann_b")),
        DjlBackend.ownCacheDir(null, false, tmp, "CORP\\ann/b"));
  }

  @Test
  void serviceLoaderFindsTheProvider() {
    List<BackendProvider> found = new ArrayList<>();
    ServiceLoader.load(BackendProvider.class).forEach(found::add);
    BackendProvider djl =
        found.stream().filter(p -> p.name().equals("djl")).findFirst().orElseThrow();
    assertTrue(djl instanceof DjlBackendProvider);
    assertEquals("io.github.diffusion4j:backend-djl", djl.artifact());
    assertTrue(djl.description().startsWith("DJL 0.36.0 (PyTorch 2.7.1"), djl.description());
  }

  /** A class loader that loads this module's classes itself, so it can tell what they pulled in. */
  private static final class Isolated extends URLClassLoader {
    Isolated(URL[] urls) {
      super(urls, ClassLoader.getPlatformClassLoader());
    }

    boolean loaded(String name) {
      return findLoadedClass(name) != null;
    }
  }

  private static String testClassPath() {
    return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
  }

  @Test
  void describingTheProviderLoadsNoDjlClass() throws Exception {
    String[] entries = testClassPath().split(File.pathSeparator);
    URL[] urls = new URL[entries.length];
    for (int i = 0; i < entries.length; i++) {
      urls[i] = new File(entries[i]).toURI().toURL();
    }
    try (Isolated loader = new Isolated(urls)) {
      String name = DjlBackendProvider.class.getName();
      Class<?> c = Class.forName(name, true, loader);
      Object p = c.getConstructor().newInstance();
      assertEquals("djl", c.getMethod("name").invoke(p));
      assertNotNull(c.getMethod("description").invoke(p));
      assertNotNull(c.getMethod("artifact").invoke(p));
      assertTrue(loader.loaded(name), "the provider was loaded by the isolated loader itself");
      for (String djl :
          new String[] {
            "ai.djl.engine.Engine",
            "ai.djl.ndarray.NDManager",
            "ai.djl.pytorch.engine.PtEngine",
            "ai.djl.pytorch.jni.JniUtils",
            "ai.djl.pytorch.jni.LibUtils",
            DjlBackend.class.getName()
          }) {
        assertFalse(loader.loaded(djl), djl + " was loaded by name()/description()/artifact()");
      }
    }
  }

  /**
   * In a fresh JVM without any DJL property: {@code create} with 3 threads must give 3 intra-op and 3
   * inter-op threads (libtorch's defaults are the core count, 2 on the CI machine, and the surefire
   * JVM's properties pin 1) and set offline mode.
   */
  @Test
  void createSetsThreadsAndOfflineModeBeforeTheEngineLoads() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(List.of(java));
    command.addAll(ChildJvm.coverageAgent()); // measured under -Pcoverage, as this JVM is
    command.addAll(List.of("-cp", testClassPath(), ThreadsProbe.class.getName(), "3"));
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe finished");
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("intra=3 interop=3 offline=true"), out);
  }

  /** Prints what a backend created with {@code args[0]} threads got. */
  static final class ThreadsProbe {
    private ThreadsProbe() {}

    /**
     * Creates a backend and prints its thread counts and offline mode.
     *
     * @param args the number of threads
     */
    public static void main(String[] args) {
      try (Backend b = new DjlBackendProvider().create(new BackendOptions(Integer.parseInt(args[0])))) {
        System.out.println(
            "intra=" + JniUtils.getNumThreads() + " interop=" + JniUtils.getNumInteropThreads()
                + " offline=" + System.getProperty("ai.djl.offline"));
      }
    }
  }

  @Test
  void backendDescribesItselfAndDifferentiatesByHandOnlyNetworksOfItsHandDifferentiatedKinds() {
    try (Backend b = DjlBackends.create()) {
      assertEquals("djl", b.name());
      assertTrue(b.describe().contains("PyTorch 2.7.1"), b.describe());
      assertTrue(b.describe().contains("1 intra-op / 1 inter-op"), b.describe());
      Network network = new MlpSpec(Shape.of(1, 2, 2), 10, 8).network();
      assertEquals(LayerBackend.Differentiation.MANUAL, b.layers().differentiation(network));
      Network unet = new UNetSpec(Shape.of(1, 8, 8), 10, 8, List.of(1, 2), 1, false, 4, 0).network();
      assertEquals(LayerBackend.Differentiation.AUTOGRAD, b.layers().differentiation(unet));
      try (ParameterStore p = b.layers().parameters(network.parameterShapes())) {
        Node input = network.node(network.input());
        UnsupportedOperationException e =
            assertThrows(UnsupportedOperationException.class, () -> b.layers().kernel(network, input, p));
        assertTrue(e.getMessage().contains("no kernel for Input"), e.getMessage());
      }
    }
  }

  @Test
  void aClosedBackendRefusesWork() {
    Backend b = DjlBackends.create();
    b.close();
    assertThrows(IllegalStateException.class, () -> b.tensors().zeros(Shape.of(2)));
    b.close();
  }

  /** A root manager that fails its check at load is closed, with what the check made on it, not leaked. */
  @Test
  void aRootManagerThatFailsItsCheckIsClosed() {
    List<PtNDManager> roots = new ArrayList<>();
    List<PtNDArray> made = new ArrayList<>();
    BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
        () -> DjlBackend.load(BackendOptions.defaults(), root -> {
          roots.add(root);
          made.add(PtArrays.zeros(root, 2, 3));
          throw new IllegalStateException("djl: a check that fails");
        }));
    assertTrue(e.getMessage().contains("a check that fails"), e.getMessage());
    assertFalse(roots.get(0).isOpen(), "the root manager was closed");
    assertTrue(made.get(0).isReleased(), "and the array the check made on it");
  }
}
