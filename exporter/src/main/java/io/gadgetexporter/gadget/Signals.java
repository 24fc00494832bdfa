package io.gadgetexporter.gadget;

/**
 * Signal names, siginfo codes and the kernel's signal outcomes. The numbers of the standard signals
 * are the same on x86_64 and arm64 (both use the generic layout); 32 to 64 are the real-time
 * signals, named as strace names them from the kernel's numbering ({@code SIGRTMIN} = 32, then
 * {@code SIGRT_1} ...): glibc's {@code SIGRTMIN} is 34 because it keeps the first two for itself.
 */
public final class Signals {
  private static final String[] NAMES = {
    null, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
    "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
    "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
    "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"
  };
  private static final int SIGRTMIN = 32;
  private static final int SIGRTMAX = 64;

  /** TRACE_SIGNAL_* of include/trace/events/signal.h, in value order. */
  private static final String[] RESULTS = {
    "delivered", "ignored", "already_pending", "overflow_fail", "lose_info"
  };

  private Signals() {}

  /** {@code SIGKILL} for 9; empty for 0 (no signal); {@code signal 99} when out of range. */
  public static String name(long signal) {
    if (signal == 0) {
      return "";
    }
    if (signal > 0 && signal < NAMES.length) {
      return NAMES[(int) signal];
    }
    if (signal == SIGRTMIN) {
      return "SIGRTMIN";
    }
    if (signal > SIGRTMIN && signal <= SIGRTMAX) {
      return "SIGRT_" + (signal - SIGRTMIN);
    }
    return "signal " + signal;
  }

  /**
   * A siginfo {@code si_code} by name where it means the same for every signal ({@code SI_USER},
   * {@code SI_KERNEL}, {@code SI_TKILL}, ...); a positive code's meaning depends on the signal
   * ({@code SEGV_MAPERR} and {@code CLD_EXITED} are both 1), so it is shown as a number.
   */
  public static String code(long code) {
    return switch ((int) code) {
      case 0 -> "SI_USER";
      case 0x80 -> "SI_KERNEL";
      case -1 -> "SI_QUEUE";
      case -2 -> "SI_TIMER";
      case -3 -> "SI_MESGQ";
      case -4 -> "SI_ASYNCIO";
      case -5 -> "SI_SIGIO";
      case -6 -> "SI_TKILL";
      case -7 -> "SI_DETHREAD";
      case -60 -> "SI_ASYNCNL";
      default -> Long.toString(code);
    };
  }

  /**
   * What became of a signal: the kernel's outcome for one that was generated ({@code delivered},
   * {@code ignored}, {@code already_pending}, {@code overflow_fail}, {@code lose_info}), or the
   * errno name of a call that failed before generating one ({@code ESRCH} for -3).
   */
  public static String result(long result) {
    if (result < 0) {
      return Errno.name(-result);
    }
    return result < RESULTS.length ? RESULTS[(int) result] : "result " + result;
  }
}
