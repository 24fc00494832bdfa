package io.gadgetexporter.gadget;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Kernel addresses to function names, from {@code /proc/kallsyms}: the addresses sorted once,
 * each lookup a binary search for the last symbol at or below the address.
 *
 * <p>Names are kept as one byte array (about 120k symbols: ~2.5 MB instead of ~7 MB of Strings)
 * and decoded when a frame is formatted, which happens per row and interval, not per sample.
 *
 * <p>{@code kptr_restrict}: a reader without CAP_SYSLOG (or any reader when the sysctl is 2) sees
 * every address as 0. Such a table resolves nothing ({@link #usable()} is false) and frames stay
 * hexadecimal addresses; the addresses in stacks themselves come from the kernel and are real.
 */
public final class KernelSymbols {
  private static final Logger logger = Logger.getLogger(KernelSymbols.class.getName());
  private static final Path KALLSYMS = Path.of("/proc/kallsyms");
  private static final Path MODULES = Path.of("/proc/modules");
  /** How often {@link #system()} looks whether modules were loaded or unloaded. */
  private static final long RECHECK_NANOS = 10_000_000_000L;
  /**
   * An address this far past the last symbol below it is not in that symbol (a gap between
   * modules, memory freed by an unloaded module): no kernel function is this large.
   */
  private static final long MAX_OFFSET = 1 << 20;

  private static final Object SYSTEM_LOCK = new Object();
  private static KernelSymbols system;
  private static String systemModules;
  private static long systemCheckedAt;

  private final long[] addresses;
  private final int[] nameStart;
  private final byte[] names;
  /** Index into {@link #modules}, -1 for the kernel image. */
  private final int[] module;
  private final String[] modules;

  /** A resolved address: {@code function+0x1a}, the module in brackets when not the kernel's. */
  public record Symbol(String name, long offset, String module) {
    /** {@code vfs_read+0x9d} or {@code loop_queue_rq+0x1f [loop]}. */
    public String withOffset() {
      return name + "+0x" + Long.toHexString(offset) + (module == null ? "" : " [" + module + "]");
    }
  }

  private KernelSymbols(
      long[] addresses, int[] nameStart, byte[] names, int[] module, String[] modules) {
    this.addresses = addresses;
    this.nameStart = nameStart;
    this.names = names;
    this.module = module;
    this.modules = modules;
  }

  /**
   * The running kernel's symbols, read once and shared; read again when the list of loaded
   * modules has changed since (looked at most every 10 s), so module functions keep resolving
   * after a module is loaded. Never throws: an unreadable kallsyms gives an empty table (and a
   * warning), and frames stay addresses.
   */
  public static KernelSymbols system() {
    synchronized (SYSTEM_LOCK) {
      long now = System.nanoTime();
      if (system != null && now - systemCheckedAt < RECHECK_NANOS) {
        return system;
      }
      systemCheckedAt = now;
      String modulesNow = readOrEmpty(MODULES);
      if (system == null || !modulesNow.equals(systemModules)) {
        systemModules = modulesNow;
        try {
          system = parse(Files.readAllBytes(KALLSYMS));
        } catch (IOException e) {
          logger.warning("cannot read " + KALLSYMS + ": kernel frames stay addresses: " + e);
          system = parse(new byte[0]);
        }
        if (!system.usable()) {
          logger.warning(
              KALLSYMS
                  + " shows no addresses (kernel.kptr_restrict, or no CAP_SYSLOG):"
                  + " kernel frames stay addresses");
        }
      }
      return system;
    }
  }

  private static String readOrEmpty(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * Parses {@code /proc/kallsyms} text: {@code address type name [module]} per line. Keeps code
   * symbols (types t, T, w, W: functions and weak functions); data symbols never appear in
   * stacks and would only shadow functions at equal addresses.
   */
  public static KernelSymbols parse(byte[] text) {
    int capacity = 1024;
    long[] addr = new long[capacity];
    int[] start = new int[capacity];
    int[] mod = new int[capacity];
    byte[] nameBytes = new byte[Math.max(16, text.length / 3)];
    int nameLength = 0;
    Map<String, Integer> moduleIndex = new LinkedHashMap<>();
    int n = 0;
    int pos = 0;
    while (pos < text.length) {
      int end = pos;
      while (end < text.length && text[end] != '\n') {
        end++;
      }
      // "ffffffff81000000 T _text" or "ffffffffc0a01000 t loop_queue_rq\t[loop]"
      int sp1 = indexOf(text, pos, end, (byte) ' ');
      int sp2 = sp1 < 0 ? -1 : indexOf(text, sp1 + 1, end, (byte) ' ');
      if (sp2 == sp1 + 2) {
        byte type = text[sp1 + 1];
        if (type == 't' || type == 'T' || type == 'w' || type == 'W') {
          long address = parseHex(text, pos, sp1);
          int nameEnd = end;
          int tab = indexOf(text, sp2 + 1, end, (byte) '\t');
          int moduleId = -1;
          if (tab >= 0) {
            nameEnd = tab;
            int open = indexOf(text, tab, end, (byte) '[');
            int close = indexOf(text, tab, end, (byte) ']');
            if (open >= 0 && close > open) {
              String m = new String(text, open + 1, close - open - 1, StandardCharsets.UTF_8);
              moduleId = moduleIndex.computeIfAbsent(m, k -> moduleIndex.size());
            }
          }
          if (n == capacity) {
            capacity *= 2;
            addr = Arrays.copyOf(addr, capacity);
            start = Arrays.copyOf(start, capacity);
            mod = Arrays.copyOf(mod, capacity);
          }
          int length = nameEnd - (sp2 + 1);
          if (nameLength + length > nameBytes.length) {
            nameBytes = Arrays.copyOf(nameBytes, Math.max(nameBytes.length * 2, nameLength + length));
          }
          System.arraycopy(text, sp2 + 1, nameBytes, nameLength, length);
          addr[n] = address;
          start[n] = nameLength;
          mod[n] = moduleId;
          nameLength += length;
          n++;
        }
      }
      pos = end + 1;
    }
    // Sort by address (modules are listed after the kernel, not in address order), keeping the
    // first-listed symbol first among equal addresses.
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    final long[] unsorted = addr;
    Arrays.sort(order, (a, b) -> Long.compareUnsigned(unsorted[a], unsorted[b]));
    long[] addresses = new long[n];
    int[] nameStart = new int[n + 1];
    int[] module = new int[n];
    byte[] names = new byte[nameLength];
    int at = 0;
    for (int i = 0; i < n; i++) {
      int j = order[i];
      int length = (j + 1 < n ? start[j + 1] : nameLength) - start[j];
      addresses[i] = addr[j];
      module[i] = mod[j];
      nameStart[i] = at;
      System.arraycopy(nameBytes, start[j], names, at, length);
      at += length;
    }
    nameStart[n] = at;
    return new KernelSymbols(
        addresses, nameStart, names, module, moduleIndex.keySet().toArray(String[]::new));
  }

  private static int indexOf(byte[] b, int from, int to, byte c) {
    for (int i = from; i < to; i++) {
      if (b[i] == c) {
        return i;
      }
    }
    return -1;
  }

  private static long parseHex(byte[] b, int from, int to) {
    long v = 0;
    for (int i = from; i < to; i++) {
      v = (v << 4) | Character.digit(b[i], 16);
    }
    return v;
  }

  /** Symbols held. */
  public int size() {
    return addresses.length;
  }

  /** Whether addresses were visible: false when kallsyms shows zeros (kptr_restrict). */
  public boolean usable() {
    return addresses.length > 0 && addresses[addresses.length - 1] != 0;
  }

  /** The function containing {@code address}, or null when no symbol covers it. */
  public Symbol lookup(long address) {
    int i = floor(address);
    if (i < 0 || addresses[i] == 0) {
      return null;
    }
    long offset = address - addresses[i];
    if (Long.compareUnsigned(offset, MAX_OFFSET) >= 0) {
      return null;
    }
    String name =
        new String(names, nameStart[i], nameStart[i + 1] - nameStart[i], StandardCharsets.UTF_8);
    return new Symbol(name, offset, module[i] < 0 ? null : modules[module[i]]);
  }

  /** Index of the last symbol at or below {@code address} (unsigned), or -1. */
  private int floor(long address) {
    int lo = 0;
    int hi = addresses.length - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(addresses[mid], address) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    while (found > 0 && addresses[found - 1] == addresses[found]) {
      found--; // aliases (one address, several names): the first listed
    }
    return found;
  }
}
