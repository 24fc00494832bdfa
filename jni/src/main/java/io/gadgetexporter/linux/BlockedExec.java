package io.gadgetexporter.linux;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a task stopped inside {@code execve}/{@code execveat} is about to run, read from {@code
 * /proc} while it waits (for a {@link Fanotify} answer): its new argv and its working directory.
 *
 * <p>How: {@code /proc/<pid>/syscall} shows the system call a blocked task is in and its raw
 * arguments ({@code "59 0x<filename> 0x<argv> 0x<envp> ..."} on x86_64); the argv argument points
 * into the task's own memory, still the old program's at that point, where {@code /proc/<pid>/mem}
 * reads the pointer array and then each NUL-terminated string. Needs root (ptrace read access to
 * the task). Pure Java: positional reads on a {@link FileChannel}.
 *
 * <p>When the process's main thread is not the one in {@code execve} (a multi-threaded program that
 * execs from another thread; fanotify reports the thread group id), its threads are searched for
 * the one that is.
 *
 * <p>Kernels before 5.7 took the lock an exec holds while it waits ({@code cred_guard_mutex}) to
 * read {@code /proc/<pid>/syscall} and {@code /proc/<pid>/mem}: there these reads would wait for
 * the answer they are meant to prepare. From 5.7 on they take {@code exec_update_lock}, which the
 * exec only takes after the permission check.
 *
 * <p>A pid can be reused: if the task is killed while it waits and its pid is recycled, these
 * methods read the new task, and return empty unless it too is blocked in an exec.
 */
public final class BlockedExec {
  /** Arguments read at most; a longer argv is cut (the list then ends early). */
  public static final int MAX_ARGUMENTS = 256;

  /** Bytes read at most per argument; a longer one is cut to this length. */
  public static final int MAX_ARGUMENT_BYTES = 4096;

  /** Bytes read at most over all arguments; the argument that crosses it is cut, then no more. */
  public static final int MAX_TOTAL_BYTES = 64 * 1024;

  /**
   * Reads never cross a 4 KiB boundary: a string near the end of a mapping must not fail because
   * the bytes after it are unmapped. Pages are at least this large and aligned to it.
   */
  private static final int CHUNK = 4096;

  /** System call numbers and the index of the argv argument, per architecture. */
  enum Arch {
    X86_64(59, 322),
    AARCH64(221, 281);

    final int execve;
    final int execveat;

    Arch(int execve, int execveat) {
      this.execve = execve;
      this.execveat = execveat;
    }

    /** This JVM's architecture, or null when it is neither. */
    static Arch current() {
      switch (System.getProperty("os.arch", "").toLowerCase(Locale.ROOT)) {
        case "amd64":
        case "x86_64":
          return X86_64;
        case "aarch64":
        case "arm64":
          return AARCH64;
        default:
          return null;
      }
    }
  }

  private BlockedExec() {}

  /**
   * The argv of the program task {@code pid} is exec'ing, while it is blocked in {@code execve} or
   * {@code execveat} (argv[0] as the caller passed it, not necessarily the file's name). Cut to
   * {@link #MAX_ARGUMENTS}, {@link #MAX_ARGUMENT_BYTES} each and {@link #MAX_TOTAL_BYTES} in all.
   * Strings are decoded as the JVM decodes file names ({@code sun.jnu.encoding}), so a path
   * argument becomes the same {@link Path}.
   *
   * @return empty when the task is not in an exec (running, in another system call, gone), or its
   *     memory cannot be read
   */
  public static Optional<List<String>> arguments(int pid) {
    Arch arch = Arch.current();
    if (arch == null || pid <= 0) {
      return Optional.empty();
    }
    Path proc = Path.of("/proc", Integer.toString(pid));
    OptionalLong argv = argvAddress(readSyscall(proc), arch);
    if (argv.isEmpty()) {
      argv = argvOfAnotherThread(proc, pid, arch);
    }
    if (argv.isEmpty()) {
      return Optional.empty();
    }
    try (FileChannel mem = FileChannel.open(proc.resolve("mem"), StandardOpenOption.READ)) {
      return readArgv(mem, argv.getAsLong());
    } catch (IOException | RuntimeException e) { // gone, no permission, a kernel address
      return Optional.empty();
    }
  }

  /**
   * The working directory of task {@code pid} ({@code /proc/<pid>/cwd}), against which the program
   * it execs resolves relative arguments (runc: {@code --bundle}, whose default is the working
   * directory itself). Named in this process's mount namespace.
   *
   * @return empty when the task is gone or the link cannot be read
   */
  public static Optional<Path> workingDirectory(int pid) {
    if (pid <= 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "cwd")));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * The line in one read(2): the kernel formats it afresh for each read, so reading in pieces could
   * join two states of a task that is running. (Files.readString also probes with a 1-byte read
   * first, which some /proc files answer with a truncated value.) The line is under 200 bytes.
   */
  private static String readSyscall(Path taskDir) {
    try (InputStream in = Files.newInputStream(taskDir.resolve("syscall"))) {
      byte[] b = new byte[512];
      int n = in.read(b);
      return n <= 0 ? "" : new String(b, 0, n, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      return "";
    }
  }

  /** The argv of a thread of {@code pid} other than the main one that is in an exec. */
  private static OptionalLong argvOfAnotherThread(Path proc, int pid, Arch arch) {
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve("task"))) {
      for (Path task : tasks) {
        if (task.getFileName().toString().equals(Integer.toString(pid))) {
          continue;
        }
        OptionalLong argv = argvAddress(readSyscall(task), arch);
        if (argv.isPresent()) {
          return argv;
        }
      }
    } catch (IOException e) {
      // gone
    }
    return OptionalLong.empty();
  }

  /**
   * The argv pointer from a {@code /proc/<pid>/syscall} line when its system call is {@code execve}
   * (argument 1) or {@code execveat} (argument 2). The line is {@code "<nr> <arg0> ... <arg5> <sp>
   * <pc>"} with hex arguments, {@code "running"}, or {@code "-1 <sp> <pc>"} for a task blocked
   * outside a system call.
   */
  static OptionalLong argvAddress(String syscallLine, Arch arch) {
    String[] f = syscallLine.trim().split("\\s+");
    if (f.length < 7) {
      return OptionalLong.empty();
    }
    int index;
    try {
      int nr = Integer.parseInt(f[0]);
      if (nr == arch.execve) {
        index = 1;
      } else if (nr == arch.execveat) {
        index = 2;
      } else {
        return OptionalLong.empty();
      }
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
    String arg = f[1 + index];
    if (!arg.startsWith("0x")) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseUnsignedLong(arg.substring(2), 16));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /**
   * Reads the NULL-terminated pointer array at {@code argv} and the strings it points to, positions
   * in {@code mem} being addresses. A NULL argv is an empty list (Linux accepts it).
   */
  static Optional<List<String>> readArgv(FileChannel mem, long argv) {
    try {
      List<Long> pointers = readPointers(mem, argv);
      List<String> args = new ArrayList<>(pointers.size());
      int total = 0;
      for (long p : pointers) {
        int limit = Math.min(MAX_ARGUMENT_BYTES, MAX_TOTAL_BYTES - total);
        byte[] s = readString(mem, p, limit);
        args.add(new String(s, FileNames.CHARSET));
        total += s.length;
        if (total >= MAX_TOTAL_BYTES) {
          break;
        }
      }
      return Optional.of(args);
    } catch (IOException | IllegalArgumentException e) { // unmapped; a negative (kernel) address
      return Optional.empty();
    }
  }

  /** Up to MAX_ARGUMENTS non-NULL pointers of the array at {@code address}. */
  private static List<Long> readPointers(FileChannel mem, long address) throws IOException {
    List<Long> pointers = new ArrayList<>();
    if (address == 0) {
      return pointers;
    }
    // One byte buffer for the whole array: a pointer may straddle two chunks if misaligned.
    ByteBuffer b = ByteBuffer.allocate(MAX_ARGUMENTS * Long.BYTES).order(ByteOrder.nativeOrder());
    while (pointers.size() < MAX_ARGUMENTS) {
      readChunk(mem, address + b.position(), b);
      while (b.position() - pointers.size() * Long.BYTES >= Long.BYTES) {
        long p = b.getLong(pointers.size() * Long.BYTES);
        if (p == 0) {
          return pointers;
        }
        pointers.add(p);
      }
    }
    return pointers;
  }

  /** The bytes of the string at {@code address} before its NUL, at most {@code limit} of them. */
  private static byte[] readString(FileChannel mem, long address, int limit) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(limit);
    int scanned = 0;
    while (b.hasRemaining()) {
      readChunk(mem, address + b.position(), b);
      for (; scanned < b.position(); scanned++) {
        if (b.get(scanned) == 0) {
          return copy(b, scanned);
        }
      }
    }
    return copy(b, limit); // no NUL within the limit: cut
  }

  private static byte[] copy(ByteBuffer b, int length) {
    byte[] out = new byte[length];
    b.get(0, out);
    return out;
  }

  /**
   * Reads into {@code dst} at {@code address} up to the next 4 KiB boundary (or dst's end).
   *
   * @throws IOException when nothing can be read there (unmapped: EIO; past the end of a file)
   */
  private static void readChunk(FileChannel mem, long address, ByteBuffer dst) throws IOException {
    int toBoundary = CHUNK - (int) Long.remainderUnsigned(address, CHUNK);
    ByteBuffer window = dst.slice(dst.position(), Math.min(toBoundary, dst.remaining()));
    int n = mem.read(window, address);
    if (n <= 0) {
      throw new IOException("nothing to read at 0x" + Long.toHexString(address));
    }
    dst.position(dst.position() + n);
  }
}
