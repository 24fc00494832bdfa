package io.gadgetexporter.bpf;

import io.gadgetexporter.bpf.internal.Cleaners;
import io.gadgetexporter.bpf.internal.Native;
import java.lang.ref.Cleaner;

/**
 * Keeps the kernel's BPF run-time statistics on ({@code BPF_ENABLE_STATS(BPF_STATS_RUN_TIME)})
 * while open. Timing every program run costs a few nanoseconds per run, so the kernel does it only
 * when asked; {@link BpfProgram#stats()} reads zeros otherwise. Statistics stay on while any holder
 * (this process or another, or the sysctl {@code kernel.bpf_stats_enabled}) wants them.
 */
public final class BpfStats implements AutoCloseable {
  private static final class Handle extends Cleaners.NativeHandle {
    Handle(long fd) {
      super(fd + 1); // fd 0 is valid; 0 means freed
    }

    @Override
    protected void free(long value) {
      Native.closeFd((int) (value - 1));
    }
  }

  private final Handle handle;
  private final Cleaner.Cleanable cleanable;

  private BpfStats(int fd) {
    this.handle = new Handle(fd);
    this.cleanable = Cleaners.CLEANER.register(this, handle);
  }

  /**
   * Turns statistics on until {@link #close()}.
   *
   * @throws BpfException without CAP_SYS_ADMIN (EPERM) or on kernels before 5.8 (EINVAL)
   */
  public static BpfStats enable() {
    NativeLibrary.load();
    return new BpfStats(Native.statsEnable());
  }

  public boolean isClosed() {
    return handle.get() == 0;
  }

  /** Drops this hold on the statistics. Idempotent. */
  @Override
  public void close() {
    cleanable.clean();
  }
}
