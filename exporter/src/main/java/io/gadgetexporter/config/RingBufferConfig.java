package io.gadgetexporter.config;

import static io.gadgetexporter.config.Units.GIB;
import static io.gadgetexporter.config.Units.KIB;
import static io.gadgetexporter.config.Units.MIB;
import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * One gadget instance's BPF ring buffer and how its reader is woken.
 *
 * <p>Waking the reader costs far more than copying an event (DESIGN §2: 4x slowdown when woken per
 * event, 1.27x when woken past 1 MiB pending). So the kernel side submits without a wake-up until
 * {@code wakeupBytes} are pending, and the reader also drains every {@code drainInterval} so that
 * light traffic is not held back.
 *
 * <p>The rules live here, next to the values, and are used both by the loader (to report a problem
 * at the value's location) and by the constructor (to refuse an invalid value made in code).
 *
 * @param sizeBytes a power of two from 4KiB (one page) to 1GiB
 * @param wakeupBytes 0 (wake on every event) up to, not including, {@code sizeBytes}
 * @param drainInterval 1ms to 10s
 */
public record RingBufferConfig(long sizeBytes, long wakeupBytes, Duration drainInterval) {

  public static final long DEFAULT_SIZE_BYTES = 8 * MIB;
  public static final long DEFAULT_WAKEUP_BYTES = 1 * MIB;
  public static final Duration DEFAULT_DRAIN_INTERVAL = Duration.ofMillis(100);

  static final long MIN_SIZE_BYTES = 4 * KIB;

  /** The kernel allows up to 2GiB; more than 1GiB of locked kernel memory is surely a typo. */
  static final long MAX_SIZE_BYTES = 1 * GIB;

  static final Duration MIN_DRAIN_INTERVAL = Duration.ofMillis(1);
  static final Duration MAX_DRAIN_INTERVAL = Duration.ofSeconds(10);

  public RingBufferConfig {
    requireNonNull(drainInterval, "drainInterval");
    Optional<String> problem =
        sizeProblem(sizeBytes)
            .or(() -> wakeupProblem(wakeupBytes, sizeBytes))
            .or(() -> drainIntervalProblem(drainInterval));
    if (problem.isPresent()) {
      throw new IllegalArgumentException(problem.get());
    }
  }

  public static RingBufferConfig defaults() {
    return new RingBufferConfig(
        DEFAULT_SIZE_BYTES, defaultWakeupBytes(DEFAULT_SIZE_BYTES), DEFAULT_DRAIN_INTERVAL);
  }

  /**
   * 1MiB, but at most a quarter of the ring, so that shrinking the ring alone gives a valid config
   * and the reader is woken well before the ring is full.
   */
  public static long defaultWakeupBytes(long sizeBytes) {
    return Math.min(DEFAULT_WAKEUP_BYTES, sizeBytes / 4);
  }

  static Optional<String> sizeProblem(long sizeBytes) {
    if (sizeBytes < MIN_SIZE_BYTES) {
      return Optional.of("must be at least " + Units.formatSize(MIN_SIZE_BYTES) + " (one page)");
    }
    if (sizeBytes > MAX_SIZE_BYTES) {
      return Optional.of("must be at most " + Units.formatSize(MAX_SIZE_BYTES));
    }
    if (Long.bitCount(sizeBytes) != 1) {
      long below = Long.highestOneBit(sizeBytes);
      return Optional.of(
          "must be a power of two (a kernel rule for BPF ring buffers), e.g. "
              + Units.formatSize(below)
              + " or "
              + Units.formatSize(below * 2));
    }
    return Optional.empty();
  }

  static Optional<String> wakeupProblem(long wakeupBytes, long sizeBytes) {
    if (wakeupBytes < 0) {
      return Optional.of("must not be negative");
    }
    if (wakeupBytes >= sizeBytes) {
      return Optional.of(
          "must be smaller than ring_buffer.size (" + Units.formatSize(sizeBytes) + ")");
    }
    return Optional.empty();
  }

  static Optional<String> drainIntervalProblem(Duration drainInterval) {
    if (drainInterval.compareTo(MIN_DRAIN_INTERVAL) < 0
        || drainInterval.compareTo(MAX_DRAIN_INTERVAL) > 0) {
      return Optional.of(
          "must be from "
              + Units.formatDuration(MIN_DRAIN_INTERVAL)
              + " to "
              + Units.formatDuration(MAX_DRAIN_INTERVAL));
    }
    return Optional.empty();
  }
}
