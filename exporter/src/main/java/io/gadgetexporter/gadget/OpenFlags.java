package io.gadgetexporter.gadget;

import java.util.Locale;

/**
 * Symbolic {@code open(2)} flags. Four flags have other values on arm64 than on x86_64
 * (O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE), so the table follows the agent's architecture,
 * which is the traced kernel's.
 */
public final class OpenFlags {
  private static final boolean ARM64 =
      System.getProperty("os.arch", "").toLowerCase(Locale.ROOT).matches("aarch64|arm64");

  private static final String[] NAMES = {
    "O_CREAT", "O_EXCL", "O_NOCTTY", "O_TRUNC", "O_APPEND", "O_NONBLOCK", "O_DSYNC", "O_ASYNC",
    "O_DIRECT", "O_LARGEFILE", "O_DIRECTORY", "O_NOFOLLOW", "O_NOATIME", "O_CLOEXEC", "O_SYNC",
    "O_PATH", "O_TMPFILE"
  };
  // O_SYNC and O_TMPFILE include another flag's bit (O_DSYNC, O_DIRECTORY): they are tested first
  // by mask and those bits removed, see format().
  private static final int[] VALUES = {
    0100, 0200, 0400, 01000, 02000, 04000, 010000, 020000,
    ARM64 ? 0200000 : 040000,
    ARM64 ? 0400000 : 0100000,
    ARM64 ? 040000 : 0200000,
    ARM64 ? 0100000 : 0400000,
    01000000, 02000000, 04010000, 010000000,
    020000000 | (ARM64 ? 040000 : 0200000)
  };

  private OpenFlags() {}

  /** For example {@code O_WRONLY|O_CREAT|O_TRUNC}; unknown bits are kept as an octal number. */
  public static String format(long flags) {
    StringBuilder out = new StringBuilder();
    out.append(
        switch ((int) (flags & 3)) {
          case 0 -> "O_RDONLY";
          case 1 -> "O_WRONLY";
          case 2 -> "O_RDWR";
          default -> "O_ACCMODE";
        });
    long rest = flags & ~3L;
    for (int i = NAMES.length - 1; i >= 0; i--) {
      if (Integer.bitCount(VALUES[i]) > 1 && (rest & VALUES[i]) == VALUES[i]) {
        out.append('|').append(NAMES[i]);
        rest &= ~VALUES[i];
      }
    }
    for (int i = 0; i < NAMES.length; i++) {
      if (Integer.bitCount(VALUES[i]) == 1 && (rest & VALUES[i]) != 0) {
        out.append('|').append(NAMES[i]);
        rest &= ~VALUES[i];
      }
    }
    if (rest != 0) {
      out.append("|0").append(Long.toOctalString(rest));
    }
    return out.toString();
  }
}
