package io.gadgetexporter.bpf;

import io.gadgetexporter.bpf.internal.Native;

/**
 * The kernel clocks event timestamps come from. BPF programs stamp events with {@code
 * bpf_ktime_get_boot_ns()} (CLOCK_BOOTTIME: monotonic, and it keeps counting through suspend);
 * wall-clock time is {@code boottime + (realtime - boottime)}, with the offset measured here.
 */
public final class Clocks {
  private Clocks() {}

  /** CLOCK_BOOTTIME in nanoseconds: the clock of {@code bpf_ktime_get_boot_ns()}. */
  public static long boottimeNanos() {
    NativeLibrary.load();
    return Native.boottimeNanos();
  }

  /** CLOCK_REALTIME in nanoseconds since the epoch. */
  public static long realtimeNanos() {
    NativeLibrary.load();
    return Native.realtimeNanos();
  }

  /** CLOCK_MONOTONIC in nanoseconds: the clock of {@code bpf_ktime_get_ns()}. */
  public static long monotonicNanos() {
    NativeLibrary.load();
    return Native.monotonicNanos();
  }

  /**
   * {@code realtime - boottime} now, in nanoseconds: add it to a {@code bpf_ktime_get_boot_ns()}
   * stamp for nanoseconds since the epoch. Measured as the tightest of a few bracketed reads, so it
   * is good to well under a microsecond; it moves when the wall clock is set or slewed, so
   * re-measure now and then (say once a second) rather than once at start.
   */
  public static long realtimeOffsetNanos() {
    NativeLibrary.load();
    long best = 0;
    long bestWidth = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      long b1 = Native.boottimeNanos();
      long r = Native.realtimeNanos();
      long b2 = Native.boottimeNanos();
      if (b2 - b1 < bestWidth) {
        bestWidth = b2 - b1;
        best = r - (b1 + (b2 - b1) / 2);
      }
    }
    return best;
  }
}
