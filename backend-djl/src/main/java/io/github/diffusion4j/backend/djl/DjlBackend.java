package io.github.diffusion4j.backend.djl;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.github.diffusion4j.nn.LayerBackend;
import io.github.diffusion4j.nn.PassMemory;
import io.github.diffusion4j.spi.Backend;
import io.github.diffusion4j.spi.BackendOptions;
import io.github.diffusion4j.spi.BackendUnavailableException;
import io.github.diffusion4j.tensor.ScopeStack;
import io.github.diffusion4j.tensor.Shape;
import io.github.diffusion4j.tensor.Tensor;
import io.github.diffusion4j.tensor.TensorFactory;
import io.github.diffusion4j.tensor.TensorScope;
import io.github.diffusion4j.tensor.ThreadConfinement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The DJL backend: float32 tensors on PyTorch's CPU engine, owned by the api's {@link ScopeStack}, and the
 * layer kinds ({@link DjlLayers}) that the api's model runs every network with, differentiated by libtorch's
 * autograd. Models are the api's ({@code Backend.createModel}); this class owns their parameters' memory.
 *
 * <p>Every tensor's {@code NDArray} is attached to one long-lived DJL manager, but its lifetime is the
 * scope's: a {@link DjlTensor} registers with the {@link ScopeStack} when it is created and closes its
 * {@code NDArray} when the scope releases it, so a loop that runs each step in a scope keeps a flat
 * resident size (DJL's own pattern of {@code x = f(x)} on a long-lived manager keeps every intermediate
 * until the manager closes). Operations close their own intermediates at once.
 */
final class DjlBackend implements Backend, TensorFactory {
  private static final String ENGINE = "PyTorch";
  private static final Object LOCK = new Object();
  private static Engine engine; // guarded by LOCK; loaded once per process

  private final int threads;
  private final PtNDManager root;
  private final ScopeStack scopes = new ScopeStack();
  private final Set<DjlParameters> parameters = ConcurrentHashMap.newKeySet();
  private final DjlLayers layers;
  private final ScriptOps scriptOps;
  private final InnerProduct innerProduct;
  private volatile boolean closed;

  private DjlBackend(int threads, PtNDManager root, long passMemoryBytes) {
    this.threads = threads;
    this.root = root;
    this.scriptOps = new ScriptOps(root);
    this.innerProduct = new InnerProduct(root, scriptOps);
    this.layers = new DjlLayers(this, passMemoryBytes);
  }

  /**
   * Loads the engine once per process (offline, with the requested threads) and creates a backend.
   *
   * @param options the options
   * @return the backend
   * @throws BackendUnavailableException with a one-line reason if libtorch cannot be loaded
   */
  static DjlBackend load(BackendOptions options) {
    return load(options, PtArrays::verify);
  }

  /**
   * {@link #load(BackendOptions)} with the check that the new root manager passes before the backend is made
   * (tests give one that fails, to see the manager closed).
   *
   * @param options the options
   * @param check checks the root manager; throws if it is unusable
   * @return the backend
   * @throws BackendUnavailableException with a one-line reason if libtorch cannot be loaded
   */
  static DjlBackend load(BackendOptions options, Consumer<PtNDManager> check) {
    int threads = options.threads();
    long passMemory = PassMemory.fromSystemProperty(DjlLayers.PASS_MEMORY_PROPERTY);
    // the strategies' properties: a bad value fails here, before any work (their self-checks run at first use)
    Convolution.checkProperties();
    InnerProduct.forcedRoute(System.getProperty(InnerProduct.PROPERTY));
    synchronized (LOCK) {
      try {
        if (engine == null) {
          // Before any DJL class initialises: DJL reads these in static initialisers and on load.
          if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
          }
          if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
          }
          String given = System.getProperty("DJL_CACHE_DIR", System.getenv("DJL_CACHE_DIR"));
          ownCacheDir(given, java.nio.file.Files.isWritable(java.nio.file.Path.of(System.getProperty("user.home"))),
              java.nio.file.Path.of(System.getProperty("java.io.tmpdir")), System.getProperty("user.name", "user"))
              .ifPresent(dir -> System.setProperty("DJL_CACHE_DIR", dir.toString()));
          System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
          System.setProperty("ai.djl.pytorch.num_interop_threads", Integer.toString(threads));
          engine = Engine.getEngine(ENGINE);
        }
        // intra-op threads can change after loading (inter-op threads cannot); a second backend in the
        // same process with other options gets its intra-op count here.
        if (JniUtils.getNumThreads() != threads) {
          JniUtils.setNumThreads(threads);
        }
        PtNDManager root = (PtNDManager) engine.newBaseManager(Device.cpu());
        try {
          check.accept(root);
          return new DjlBackend(threads, root, passMemory);
        } catch (RuntimeException | Error e) {
          root.close(); // what the check or the backend's parts attached to it
          throw e;
        }
      } catch (RuntimeException | LinkageError e) {
        if (unpackingFailed(e)) {
          // the library is there, but there is no writable folder to unpack it into (no writable home folder and
          // java.io.tmpdir missing or read-only, as in a container with a read-only root): adding jars is no fix
          throw new BackendUnavailableException("djl: cannot unpack the PyTorch native library (" + reason(e)
              + "); DJL unpacks it into ~/.djl.ai, or under java.io.tmpdir where the home folder cannot take it:"
              + " set the environment variable DJL_CACHE_DIR to a writable folder", e);
        }
        throw new BackendUnavailableException(
            "djl: cannot load the PyTorch engine (" + reason(e) + "); the djl backend needs Linux x86_64 "
                + "and ai.djl.pytorch:pytorch-native-cpu:linux-x86_64 on the class path",
            e);
      }
    }
  }

  /**
   * The folder DJL is to unpack libtorch into where it would otherwise take one that every user of the machine
   * shares. DJL takes {@code DJL_CACHE_DIR}, else {@code ~/.djl.ai}, else, where the home folder cannot be written
   * (a locked-down login node), {@code java.io.tmpdir/.djl.ai}: one folder for all users, owned by the first, so
   * the engine of the second failed to load ("permission denied" under {@code /tmp/.djl.ai/pytorch}). There, each
   * user gets {@code java.io.tmpdir/.djl.ai-USER}, as JavaCPP's {@code .javacpp-USER}.
   *
   * @param given {@code DJL_CACHE_DIR} (the system property, else the environment variable), or null
   * @param homeWritable whether the home folder can be written, the test DJL makes
   * @param tmp java.io.tmpdir
   * @param user the user's name
   * @return the folder to set as {@code DJL_CACHE_DIR}; empty where DJL's own choice stands
   */
  static java.util.Optional<java.nio.file.Path> ownCacheDir(String given, boolean homeWritable, java.nio.file.Path tmp,
      String user) {
    if (given != null && !given.isEmpty() || homeWritable) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(tmp.resolve(".djl.ai-" + user.replaceAll("[/\\\\]", "_")));
  }

  /** Whether loading failed while unpacking libtorch (no writable cache folder), not for want of it. */
  static boolean unpackingFailed(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getMessage() != null && t.getMessage().startsWith("Failed to extract PyTorch native library")) {
        return true;
      }
    }
    return false;
  }

  /** The innermost cause's message on one line (a file system failure as its file and what went wrong, in words). */
  static String reason(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    // the api's FileProblems says it for the api; a backend uses the spi only (the architecture rules)
    String m = t instanceof java.nio.file.FileSystemException fs && fs.getFile() != null
        ? fs.getFile() + ": " + (fs instanceof java.nio.file.AccessDeniedException ? "permission denied"
            : fs instanceof java.nio.file.NoSuchFileException ? "no such file"
            : fs.getReason() != null ? fs.getReason() : fs.getClass().getSimpleName())
        : t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    int nl = m.indexOf('\n');
    return (nl >= 0 ? m.substring(0, nl) : m).strip();
  }

  /** The manager every tensor's array is attached to. */
  PtNDManager root() {
    return root;
  }

  /** The libtorch operators reached through TorchScript modules, which live as long as {@link #root()}. */
  ScriptOps scriptOps() {
    return scriptOps;
  }

  /** The products of linear layers. */
  InnerProduct innerProduct() {
    return innerProduct;
  }

  /**
   * How this process computes convolutions (the self-check runs the first time this is asked).
   *
   * @return the choice
   */
  Convolution.Choice convolutions() {
    return Convolution.choice(root);
  }

  /** The scopes that own this backend's tensors. */
  ScopeStack scopes() {
    return scopes;
  }

  /**
   * Wraps a new array as a tensor owned by the innermost scope open on the calling thread.
   *
   * @param array a float32 array attached to {@link #root()}; if it is not contiguous, it is replaced by a
   *     contiguous copy (and closed)
   * @param shape its shape
   * @return the tensor
   */
  DjlTensor wrap(PtNDArray array, Shape shape) {
    DjlTensor t = new DjlTensor(this, array, shape);
    scopes.register(t);
    return t;
  }

  @Override
  public String name() {
    return DjlBackendProvider.NAME;
  }

  @Override
  public String describe() {
    return "DJL " + Engine.getDjlVersion() + ", PyTorch " + engine.getVersion() + " (CPU), "
        + JniUtils.getNumThreads() + " intra-op / " + JniUtils.getNumInteropThreads()
        + " inter-op threads (requested " + threads + "); " + Convolution.choice(root).describe() + "; "
        + InnerProduct.choice(root, scriptOps).describe();
  }

  @Override
  public TensorFactory tensors() {
    return this;
  }

  @Override
  public LayerBackend layers() {
    return layers;
  }

  /**
   * Remembers a model's parameters, so that closing the backend frees them.
   *
   * @param p the parameters
   * @return {@code p}
   */
  DjlParameters register(DjlParameters p) {
    checkOpen();
    parameters.add(p);
    return p;
  }

  /** Forgets closed parameters. */
  void closed(DjlParameters p) {
    parameters.remove(p);
  }

  @Override
  public Tensor zeros(Shape shape) {
    checkOpen();
    Shape.checkGiven(shape);
    return wrap(PtArrays.zeros(root, PtArrays.dims(shape)), shape);
  }

  @Override
  public Tensor fromArray(float[] data, Shape shape) {
    checkOpen();
    Shape.checkGiven(shape).checkValues(data);
    return wrap(PtArrays.fromArray(root, data, PtArrays.dims(shape)), shape);
  }

  @Override
  public TensorScope openScope() {
    return scopes.open();
  }

  @Override
  public int threads() {
    return threads;
  }

  /**
   * libtorch's intra-op threads at one for the calling thread, then back to this backend's count
   * ({@link IntraOpThreads}: per thread and nested; a thread whose first operation came meanwhile takes the
   * backend's count on its first pass).
   */
  @Override
  public ThreadConfinement confineToCallingThread() {
    checkOpen();
    if (threads == 1) {
      return ThreadConfinement.NONE;
    }
    return IntraOpThreads.confine(threads);
  }

  /**
   * Gives the calling thread this backend's intra-op count on its first pass ({@link IntraOpThreads#ensureOwnCount}).
   */
  void useOnThisThread() {
    IntraOpThreads.ensureOwnCount(threads);
  }

  /** Throws if the backend is closed. */
  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the djl backend is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    List<DjlParameters> open = new ArrayList<>(parameters);
    for (DjlParameters p : open) {
      p.close();
    }
    scopes.close("the djl backend");
    root.close();
  }
}
