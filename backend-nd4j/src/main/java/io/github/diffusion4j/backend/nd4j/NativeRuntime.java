package io.github.diffusion4j.backend.nd4j;

import io.github.diffusion4j.spi.BackendUnavailableException;
import java.util.Locale;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Loads ND4J's native libraries once per process and sets the native thread counts.
 *
 * <p>Threads are set in every place this ND4J build reads them: ND4J's environment (its own thread pool
 * and the number of threads a single op may use), OpenMP ({@code omp_set_num_threads}, which binds the
 * calling thread; other threads follow {@code OMP_NUM_THREADS}). OpenBLAS ({@code openblas_set_num_threads},
 * process-wide) always runs on one thread: the kernels share their products over their own lanes
 * ({@link KernelPool}).
 *
 * <p>These native counts are process-wide (there is one runtime per process): each backend made applies its
 * own, the last one made wins, and they govern only ND4J's own ops. A backend's thread count is its own
 * ({@link Nd4jBackend#threads}: its kernels' lanes), whatever backend was made after it.
 */
final class NativeRuntime {
  private static NativeRuntime instance;
  private static BackendUnavailableException failure;

  private final String coreType;

  private NativeRuntime(String coreType) {
    this.coreType = coreType;
  }

  /**
   * Loads the natives (the first time) and applies the thread count.
   *
   * @param threads native threads, at least 1
   * @return the runtime
   * @throws BackendUnavailableException if the natives cannot be loaded (also on every later call)
   */
  static synchronized NativeRuntime load(int threads) {
    if (failure != null) {
      throw failure;
    }
    if (instance == null) {
      try {
        String coreType = OpenBlasCoreType.configure();
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        Loader.load(openblas_nolapack.class);
        instance = new NativeRuntime(coreType);
      } catch (Throwable e) { // UnsatisfiedLinkError, ExceptionInInitializerError, RuntimeException
        if (e instanceof VirtualMachineError && !(e instanceof OutOfMemoryError)) {
          throw (VirtualMachineError) e;
        }
        failure = new BackendUnavailableException(reason(e), e);
        throw failure;
      }
    }
    instance.setThreads(threads);
    return instance;
  }

  /**
   * The one-line reason for a load failure: the deepest cause's type and first message line, and what to
   * check.
   *
   * @param e the failure
   * @return the message
   */
  static String reason(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String msg = root.getMessage() == null ? "" : root.getMessage().strip();
    int nl = msg.indexOf('\n');
    if (nl >= 0) {
      msg = msg.substring(0, nl).strip();
    }
    String platform =
        System.getProperty("os.name", "?").toLowerCase(Locale.ROOT) + "-" + System.getProperty("os.arch", "?");
    if (outOfMemory(e)) {
      // ND4J's start allocates its environment and JavaCPP's pointers: the libraries are there, the memory is not
      return "backend 'nd4j': ND4J ran out of memory while loading (" + root.getClass().getSimpleName()
          + (msg.isEmpty() ? "" : ": " + msg) + ") with a heap of at most " + (Runtime.getRuntime().maxMemory() >> 20)
          + " MB; give the JVM more memory (-Xmx, and JavaCPP's -Dorg.bytedeco.javacpp.maxPhysicalBytes where it is "
          + "set) or load the backend before the rest fills it";
    }
    if (unpackingFailed(e)) {
      // the libraries are there, but JavaCPP found no folder to unpack them into (no writable home folder and
      // java.io.tmpdir missing or read-only, as in a container with a read-only root): adding jars is no fix
      return "backend 'nd4j': ND4J's native libraries could not be unpacked on " + platform + " ("
          + root.getClass().getSimpleName() + (msg.isEmpty() ? "" : ": " + msg) + "); JavaCPP unpacks them into"
          + " ~/.javacpp/cache, or under java.io.tmpdir where the home folder cannot take them: give a writable"
          + " folder with -Dorg.bytedeco.javacpp.cachedir=DIR (for the diffusion command, in DIFFUSION_JAVA_OPTS)";
    }
    return "backend 'nd4j': ND4J's native libraries could not be loaded on " + platform + " ("
        + root.getClass().getSimpleName() + (msg.isEmpty() ? "" : ": " + msg)
        + "); add org.nd4j:nd4j-native and org.bytedeco:openblas with this platform's classifier"
        + " (e.g. linux-x86_64), or choose another backend";
  }

  /** Whether a load failed for want of memory (the heap's, or JavaCPP's native limits), not of the libraries. */
  static boolean outOfMemory(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof OutOfMemoryError) {
        return true;
      }
    }
    return false;
  }

  /** Whether a load failed for want of a writable folder to unpack into (JavaCPP's cache), not of the libraries. */
  static boolean unpackingFailed(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage();
      if (t instanceof java.nio.file.FileSystemException
          || m != null && (m.contains("Could not create the cache") || m.contains("org.bytedeco.javacpp.cachedir"))) {
        return true;
      }
    }
    return false;
  }

  private void setThreads(int n) {
    Nd4j.getEnvironment().setMaxThreads(n);
    Nd4j.getEnvironment().setMaxMasterThreads(n);
    NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(n);
    // OpenBLAS stays on one thread: the kernels cut their products into fixed pieces and share them over
    // their own lanes (Conv2dKernel, NativePass#pieces), which is faster on few cores than OpenBLAS's
    // threads (they spin between the many small products and take the core the kernels' lanes need) and
    // keeps the results the same whatever the thread count
    Nd4j.factory().blas().setMaxThreads(1);
  }

  /**
   * A one-line description of the loaded engine.
   *
   * @param convolutions how the backend computes its convolutions ({@link DirectConv.Use#describe})
   * @param threads the backend's thread count
   * @return versions, BLAS kernel, convolutions and threads
   */
  String describe(String convolutions, int threads) {
    return "ND4J 1.0.0-M2.1 (nd4j-native, OpenBLAS 0.3.19, kernels " + coreType + "; convolutions: " + convolutions
        + "), CPU, " + threads + (threads == 1 ? " thread" : " threads");
  }
}
