package io.gadgetexporter.bpf.internal;

import java.lang.ref.Cleaner;

/**
 * The binding's one {@link Cleaner}: a safety net that frees native resources whose owner was
 * dropped without {@code close()}. Not the way to release them: kernel objects (attached programs,
 * maps) should go away when the code that made them says so, so every class has a deterministic,
 * idempotent {@code close()}, and the cleaner only runs for what was forgotten.
 */
public final class Cleaners {
  public static final Cleaner CLEANER = Cleaner.create();

  private Cleaners() {}

  /**
   * A native handle and how to free it, shared by its owner and the owner's cleaner action. The
   * action must not reach the owner (or it would never become unreachable), so it holds this.
   */
  public abstract static class NativeHandle implements Runnable {
    private long value;

    protected NativeHandle(long value) {
      this.value = value;
    }

    /** The handle, or 0 once freed. */
    public final synchronized long get() {
      return value;
    }

    @Override
    public final synchronized void run() {
      if (value != 0) {
        long v = value;
        value = 0;
        free(v);
      }
    }

    protected abstract void free(long value);
  }
}
