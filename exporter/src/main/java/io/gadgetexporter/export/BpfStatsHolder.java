package io.gadgetexporter.export;

import io.gadgetexporter.bpf.BpfException;
import io.gadgetexporter.bpf.BpfStats;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * Keeps the kernel's BPF run-time statistics on for the agent's life, so that {@code
 * gadget.program.runs} and {@code gadget.program.run_time} count. The kernel times program runs
 * only while someone asks ({@code BPF_ENABLE_STATS}), because timing costs every run a little (two
 * clock reads).
 *
 * <p>Turning them on needs CAP_SYS_ADMIN and Linux 5.8; without either, the agent still runs and
 * says why the program metrics read zero ({@link #reason()}, for the start-up log and the readiness
 * detail). {@link #tryEnable()} never throws.
 *
 * <pre>{@code
 * BpfStatsHolder stats = config.bpfStats() ? BpfStatsHolder.tryEnable() : BpfStatsHolder.off();
 * log.info(stats.reason());
 * ...
 * stats.close(); // at stop
 * }</pre>
 */
public final class BpfStatsHolder implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(BpfStatsHolder.class.getName());
  private static final Path SYSCTL = Path.of("/proc/sys/kernel/bpf_stats_enabled");
  private static final int EPERM = 1;
  private static final int EINVAL = 22;

  private final BpfStats stats; // null when not enabled by this holder
  private final String reason;

  private BpfStatsHolder(BpfStats stats, String reason) {
    this.stats = stats;
    this.reason = reason;
  }

  /**
   * Asks the kernel to keep BPF run-time statistics on until {@link #close()}. Never throws: when
   * the kernel refuses, the holder is not {@link #enabled()} and {@link #reason()} says why.
   */
  public static BpfStatsHolder tryEnable() {
    try {
      return new BpfStatsHolder(
          BpfStats.enable(), "BPF program statistics enabled (BPF_ENABLE_STATS)");
    } catch (BpfException e) {
      return failed(why(e));
    } catch (RuntimeException | LinkageError e) {
      return failed(e.toString()); // the native library did not load: the gadgets fail too
    }
  }

  /** What a refusal of {@code BPF_ENABLE_STATS} means for a user. */
  static String why(BpfException e) {
    return switch (e.errno()) {
      case EPERM -> "the agent lacks CAP_SYS_ADMIN, which BPF_ENABLE_STATS needs";
      case EINVAL -> "this kernel has no BPF_ENABLE_STATS (it needs Linux 5.8 or later)";
      default -> e.getMessage();
    };
  }

  /** A holder for when statistics are turned off in the configuration. */
  public static BpfStatsHolder off() {
    return new BpfStatsHolder(
        null,
        "BPF program statistics off in the configuration: gadget.program.runs and"
            + " gadget.program.run_time count only while kernel.bpf_stats_enabled is set"
            + collectingNote());
  }

  private static BpfStatsHolder failed(String why) {
    BpfStatsHolder h =
        new BpfStatsHolder(
            null,
            "BPF program statistics could not be enabled: "
                + why
                + "; gadget.program.runs and gadget.program.run_time stay 0 unless"
                + " kernel.bpf_stats_enabled is set"
                + collectingNote());
    logger.fine(h.reason);
    return h;
  }

  private static String collectingNote() {
    return sysctlEnabled() ? " (it is set now: they count)" : "";
  }

  /** Whether this holder keeps statistics on (until {@link #close()}). */
  public boolean enabled() {
    return stats != null && !stats.isClosed();
  }

  /** One line for the log and the readiness detail: on, or why not. */
  public String reason() {
    return reason;
  }

  /**
   * Whether the sysctl {@code kernel.bpf_stats_enabled} is set: the other way to turn statistics
   * on, for everyone. It shows only what was written to it, not holds taken with {@code
   * BPF_ENABLE_STATS} (this holder's or another tool's). False when it cannot be read.
   */
  public static boolean sysctlEnabled() {
    try {
      return Files.readString(SYSCTL, StandardCharsets.US_ASCII).trim().equals("1");
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Drops this hold; the kernel stops timing when no other holder remains. Idempotent. */
  @Override
  public void close() {
    if (stats != null) {
      stats.close();
    }
  }
}
