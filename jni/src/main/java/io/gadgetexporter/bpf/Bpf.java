package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.bpf.internal.Native;

/** Facts about the machine and the linked libbpf that several parts of the binding need. */
public final class Bpf {
  private static volatile int possibleCpus;
  private static volatile int pageSize;

  private Bpf() {}

  /**
   * Possible CPUs ({@code /sys/devices/system/cpu/possible}), which is how many value slots a
   * per-CPU map has: more than the online CPUs when CPUs can be hot-plugged.
   */
  public static int possibleCpus() {
    int n = possibleCpus;
    if (n == 0) {
      NativeLibrary.load();
      n = Native.possibleCpus();
      if (n <= 0) {
        throw BpfException.fromErrno("reading the possible CPUs", n);
      }
      possibleCpus = n;
    }
    return n;
  }

  /** The memory page size; ring buffer sizes are multiples of it. */
  public static int pageSize() {
    int n = pageSize;
    if (n == 0) {
      NativeLibrary.load();
      pageSize = n = Native.pageSize();
    }
    return n;
  }

  /** The version of the (statically linked) libbpf, e.g. {@code "v1.1"}. */
  public static String libbpfVersion() {
    NativeLibrary.load();
    return Native.libbpfVersion();
  }

  /**
   * The file offset of function {@code function} in the ELF file {@code path} (its symbol table,
   * else its dynamic symbols): what {@link BpfProgram#attachUprobe(boolean, int, String, long)}
   * takes.
   *
   * @throws IllegalArgumentException when the file has no such function
   * @throws BpfException when the file cannot be read as ELF
   */
  public static long symbolFileOffset(String path, String function) {
    requireNonNull(path, "path");
    requireNonNull(function, "function");
    NativeLibrary.load();
    return Native.elfSymbolOffset(path, function);
  }
}
