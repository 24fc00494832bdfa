package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.Clocks;
import java.time.Instant;

/**
 * Turns {@code bpf_ktime_get_boot_ns()} timestamps into wall-clock time. The offset between the
 * boot-time and real-time clocks is read once; it moves only when the wall clock is stepped, which
 * {@link #refresh()} follows (the drain threads call it every ten seconds).
 */
public final class BootClock {
  private volatile long realMinusBootNanos;

  private BootClock(long realMinusBootNanos) {
    this.realMinusBootNanos = realMinusBootNanos;
  }

  public static BootClock system() {
    BootClock c = new BootClock(0);
    c.refresh();
    return c;
  }

  /** A clock with a fixed offset, for decoding recorded events in tests and benchmarks. */
  public static BootClock fixed(long realMinusBootNanos) {
    return new BootClock(realMinusBootNanos);
  }

  /**
   * Reads the offset again. The two clocks cannot be read at once: the real-time reading is
   * bracketed by two boot-time readings, and of a few tries the one with the narrowest bracket
   * wins, so a thread preempted between the reads (a loaded node) does not shift every timestamp
   * by the time it waited. Shared by every instance and called from several threads.
   */
  public void refresh() {
    long bestGap = Long.MAX_VALUE;
    long best = realMinusBootNanos;
    for (int attempt = 0; attempt < 5; attempt++) {
      long before = Clocks.boottimeNanos();
      long real = Clocks.realtimeNanos();
      long after = Clocks.boottimeNanos();
      long gap = after - before;
      if (gap < bestGap) {
        bestGap = gap;
        best = real - (before + gap / 2);
      }
      if (gap < GOOD_ENOUGH_NANOS) {
        break;
      }
    }
    realMinusBootNanos = best;
  }

  /** A bracket this narrow is as good as the clocks' own resolution in practice. */
  private static final long GOOD_ENOUGH_NANOS = 20_000;

  public long toEpochNanos(long bootNanos) {
    return bootNanos + realMinusBootNanos;
  }

  public Instant toInstant(long bootNanos) {
    long epoch = toEpochNanos(bootNanos);
    return Instant.ofEpochSecond(Math.floorDiv(epoch, 1_000_000_000L), Math.floorMod(epoch, 1_000_000_000L));
  }
}
