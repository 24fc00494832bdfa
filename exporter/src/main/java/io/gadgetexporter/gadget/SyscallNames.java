package io.gadgetexporter.gadget;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Syscall names by number, for the agent's architecture (the traced kernel's): x86_64 and arm64
 * number their syscalls differently. The tables are resources generated from the kernel's headers
 * by {@code scripts/gen-syscall-tables.sh}; the running system's headers are never read.
 */
public final class SyscallNames {
  private static final String[] NAMES = load(tableFor(System.getProperty("os.arch", "")));

  private SyscallNames() {}

  /** The syscall's name, e.g. {@code openat}; the number itself when the table has no name. */
  public static String name(long nr) {
    if (nr >= 0 && nr < NAMES.length && NAMES[(int) nr] != null) {
      return NAMES[(int) nr];
    }
    return Long.toString(nr);
  }

  static String tableFor(String osArch) {
    return osArch.toLowerCase(Locale.ROOT).matches("aarch64|arm64")
        ? "syscalls-arm64.txt"
        : "syscalls-x86_64.txt";
  }

  /** A table of "number name" lines, as an array indexed by number. */
  static String[] load(String resource) {
    try (InputStream in = SyscallNames.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("syscall table " + resource + " is missing from the jar");
      }
      String[] lines = new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n");
      int max = 0;
      for (String line : lines) {
        max = Math.max(max, Integer.parseInt(line.substring(0, line.indexOf(' '))));
      }
      String[] names = new String[max + 1];
      for (String line : lines) {
        int space = line.indexOf(' ');
        names[Integer.parseInt(line.substring(0, space))] = line.substring(space + 1).strip();
      }
      return names;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
