package io.github.diffusion4j.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Scope bookkeeping for backend implementers: one instance per backend keeps, per thread, the stack of
 * open {@link TensorScope}s, and a root scope for tensors created outside any scope. A backend calls
 * {@link #register} for every tensor it creates and implements {@link Resource#release()} to free it.
 *
 * <p>Releasing is idempotent and a released resource stays listed until its scope closes or compacts;
 * lists compact themselves when more than half their entries are released, so a long loop that keeps
 * one tensor per step and closes the one before holds a bounded list.
 */
public final class ScopeStack {

  /** A native allocation owned by a scope. */
  public interface Resource {
    /** Frees the allocation; called at most once by the scope stack, possibly after an explicit close. */
    void release();

    /**
     * Whether {@link #release()} has run.
     *
     * @return true once released
     */
    boolean isReleased();
  }

  private final ThreadLocal<ArrayDeque<Scope>> stacks = ThreadLocal.withInitial(ArrayDeque::new);
  private final Scope root = new Scope(null, null);
  private volatile String closedOwner;

  /** Creates an empty stack. */
  public ScopeStack() {}

  /**
   * Opens a scope on the calling thread.
   *
   * @return the scope, now the innermost on this thread
   */
  public TensorScope open() {
    checkOpen();
    ArrayDeque<Scope> stack = stacks.get();
    Scope s = new Scope(stack.peek(), stack);
    stack.push(s);
    return s;
  }

  /**
   * Gives a new resource to the innermost scope open on the calling thread, or to the root.
   *
   * @param resource the new allocation
   */
  public void register(Resource resource) {
    checkOpen();
    Scope s = stacks.get().peek();
    (s == null ? root : s).add(resource);
  }

  /**
   * The number of scopes open on the calling thread.
   *
   * @return the depth, 0 outside any scope
   */
  public int depth() {
    return stacks.get().size();
  }

  /**
   * The number of live (unreleased) resources owned by the root scope, for leak tests.
   *
   * @return the count
   */
  public int rootLiveCount() {
    return root.liveCount();
  }

  /**
   * Releases everything the root scope owns and refuses new scopes and resources from then on (when the backend
   * closes): a tensor made after that would belong to no one and never be freed.
   *
   * @param owner the owner as named in the refusals, e.g. {@code "the nd4j backend"}
   */
  public void close(String owner) {
    closedOwner = owner;
    root.releaseAll();
  }

  private void checkOpen() {
    if (closedOwner != null) {
      throw new IllegalStateException(closedOwner + " is closed");
    }
  }

  private final class Scope implements TensorScope {
    private final Scope parent;
    private final ArrayDeque<Scope> stack;
    private final Thread thread;
    private List<Resource> owned = new ArrayList<>();
    private int compactAt = 64;
    private boolean closed;

    Scope(Scope parent, ArrayDeque<Scope> stack) {
      this.parent = parent;
      this.stack = stack;
      this.thread = stack == null ? null : Thread.currentThread();
    }

    synchronized void add(Resource r) {
      owned.add(r);
      if (owned.size() >= compactAt) {
        List<Resource> live = new ArrayList<>(owned.size());
        for (Resource o : owned) {
          if (!o.isReleased()) {
            live.add(o);
          }
        }
        owned = live;
        compactAt = Math.max(64, live.size() * 2);
      }
    }

    synchronized boolean remove(Resource r) {
      for (int i = owned.size() - 1; i >= 0; i--) {
        if (owned.get(i) == r) {
          owned.remove(i);
          return true;
        }
      }
      return false;
    }

    synchronized int liveCount() {
      int n = 0;
      for (Resource o : owned) {
        if (!o.isReleased()) {
          n++;
        }
      }
      return n;
    }

    synchronized void releaseAll() {
      for (Resource o : owned) {
        if (!o.isReleased()) {
          o.release();
        }
      }
      owned = new ArrayList<>();
    }

    @Override
    public <T extends Tensor> T keep(T tensor) {
      if (closed) {
        throw new IllegalStateException("keep() on a closed scope");
      }
      if (tensor instanceof Resource r && remove(r)) {
        (parent == null ? root : parent).add(r);
      }
      return tensor;
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      if (Thread.currentThread() != thread) {
        throw new IllegalStateException("a tensor scope must be closed on the thread that opened it");
      }
      if (stack.peek() != this) {
        throw new IllegalStateException(
            "tensor scopes must be closed innermost first; an inner scope is still open");
      }
      stack.pop();
      closed = true;
      releaseAll();
    }
  }
}
