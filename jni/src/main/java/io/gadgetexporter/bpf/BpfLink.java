package io.gadgetexporter.bpf;

import io.gadgetexporter.bpf.internal.Cleaners;
import io.gadgetexporter.bpf.internal.Native;
import java.lang.ref.Cleaner;

/**
 * Keeps a program attached. {@link #close()} detaches it; it is idempotent, and {@link
 * BpfObject#close()} closes every link of its programs. A detach that fails (the socket of a socket
 * filter was already closed) is not reported: there is nothing left to undo.
 */
public sealed class BpfLink implements AutoCloseable permits BpfIterator {
  private static final class Handle extends Cleaners.NativeHandle {
    Handle(long value) {
      super(value);
    }

    @Override
    protected void free(long value) {
      Native.linkClose(value);
    }
  }

  final BpfObject owner;
  private final BpfProgram program;
  private final String target;
  final Handle handle;
  private final Cleaner.Cleanable cleanable;

  BpfLink(BpfObject owner, BpfProgram program, long handle, String target) {
    this.owner = owner;
    this.program = program;
    this.target = target;
    this.handle = new Handle(handle);
    this.cleanable = Cleaners.CLEANER.register(this, this.handle);
  }

  public BpfProgram program() {
    return program;
  }

  /** Where the program is attached, for messages: {@code "tracepoint syscalls/sys_enter_x"}. */
  public String target() {
    return target;
  }

  /** The kernel's link fd, or -1 for a socket filter (which has none) and once closed. */
  public int fd() {
    synchronized (owner) {
      long h = handle.get();
      return h == 0 ? -1 : Native.linkFd(h);
    }
  }

  public boolean isClosed() {
    return handle.get() == 0;
  }

  @Override
  public void close() {
    synchronized (owner) {
      closeLocked();
      owner.unregister(this);
    }
  }

  /** With the owner's lock held. */
  void closeLocked() {
    cleanable.clean();
  }

  /** The live handle, with the owner's lock held. */
  long liveHandle() {
    long h = handle.get();
    if (h == 0) {
      throw new IllegalStateException("link of program '" + program.name() + "' is closed");
    }
    return h;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName()
        + "["
        + program.name()
        + " -> "
        + target
        + (isClosed() ? ", closed" : "")
        + "]";
  }
}
