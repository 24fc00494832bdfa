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

  public void refresh() {
    long boot = Clocks.boottimeNanos();
    long real = Clocks.realtimeNanos();
    realMinusBootNanos = real - boot;
  }

  public long toEpochNanos(long bootNanos) {
    return bootNanos + realMinusBootNanos;
  }

  public Instant toInstant(long bootNanos) {
    long epoch = toEpochNanos(bootNanos);
    return Instant.ofEpochSecond(Math.floorDiv(epoch, 1_000_000_000L), Math.floorMod(epoch, 1_000_000_000L));
  }
}
