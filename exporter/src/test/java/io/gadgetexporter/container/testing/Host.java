package io.gadgetexporter.container.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the fixtures and their tests read from, and clean up on, the host: /proc, the mount table,
 * the cgroup hierarchies.
 */
final class Host {
  private static final Path PROC = Path.of("/proc");

  private Host() {}

  /** Fails with a message saying why if this JVM is not running as root. */
  static void requireRoot(String what) {
    long uid = uid();
    if (uid != 0) {
      throw new AssertionError(
          what
              + " starts real containers and needs root (uid 0), this JVM runs as uid "
              + uid
              + ": run the tests as root");
    }
  }

  /** The real uid of this JVM, from /proc/self/status. */
  static long uid() {
    for (String line : readLines(PROC.resolve("self/status"))) {
      if (line.startsWith("Uid:")) {
        return Long.parseLong(line.substring(4).strip().split("\\s+")[0]);
      }
    }
    throw new IllegalStateException("no Uid: line in /proc/self/status");
  }

  /**
   * True if the process exists and is not a zombie (an exited process its parent has not reaped).
   */
  static boolean isAlive(long pid) {
    String stat;
    try {
      stat = Files.readString(PROC.resolve(pid + "/stat"));
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
    char state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state != 'Z' && state != 'X';
  }

  /**
   * Polls until the process is gone (or a zombie); false if it still runs after {@code timeout}.
   */
  static boolean awaitExit(long pid, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (isAlive(pid)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      sleep(Duration.ofMillis(1));
    }
    return true;
  }

  /** /proc/[pid]/cgroup, verbatim. */
  static String cgroup(long pid) {
    try {
      return Files.readString(PROC.resolve(pid + "/cgroup"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The process's mount namespace as the kernel names it, e.g. {@code mnt:[4026531841]}. */
  static String mountNamespace(long pid) {
    try {
      return Files.readSymbolicLink(PROC.resolve(pid + "/ns/mnt")).toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Live processes (not this JVM) whose command line contains {@code text}, e.g. a temp dir. */
  static List<Long> processesMentioning(String text) {
    long self = ProcessHandle.current().pid();
    List<Long> pids = new ArrayList<>();
    try (Stream<Path> entries = Files.list(PROC)) {
      for (Path entry : (Iterable<Path>) entries::iterator) {
        String name = entry.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit) || Long.parseLong(name) == self) {
          continue;
        }
        byte[] cmdline;
        try {
          cmdline = Files.readAllBytes(entry.resolve("cmdline"));
        } catch (IOException e) {
          continue; // exited meanwhile
        }
        String args = new String(cmdline, StandardCharsets.UTF_8).replace('\0', ' ');
        if (args.contains(text) && isAlive(Long.parseLong(name))) {
          pids.add(Long.parseLong(name));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return pids;
  }

  /** Mount points at or below {@code dir} in this JVM's mount namespace, deepest last. */
  static List<Path> mountsUnder(Path dir) {
    List<Path> mounts = new ArrayList<>();
    for (MountInfo m : mountTable()) {
      if (m.mountPoint().startsWith(dir)) {
        mounts.add(m.mountPoint());
      }
    }
    return mounts;
  }

  /** Unmounts everything at or below {@code dir}, deepest first; lazily if a plain umount fails. */
  static void unmountUnder(Path dir) {
    List<Path> mounts = mountsUnder(dir);
    mounts.sort(Comparator.comparingInt(Path::getNameCount).reversed());
    for (Path mount : mounts) {
      Path out = tempFile();
      try {
        if (HostCommand.run(List.of("umount", mount.toString()), out, out, HostCommand.TIMEOUT)
                .exitCode()
            != 0) {
          HostCommand.run(List.of("umount", "-l", mount.toString()), out, out, HostCommand.TIMEOUT);
        }
      } finally {
        deleteQuietly(out);
      }
    }
  }

  /**
   * The directories of cgroup {@code path} (e.g. {@code /gx-test-runc-123/c1}) that exist, one per
   * mounted hierarchy: /sys/fs/cgroup/memory/gx-test-runc-123/c1, /sys/fs/cgroup/unified/..., ...
   */
  static List<Path> cgroupDirectories(String path) {
    List<Path> dirs = new ArrayList<>();
    for (MountInfo m : mountTable()) {
      if (m.fsType().equals("cgroup") || m.fsType().equals("cgroup2")) {
        Path dir = m.mountPoint().resolve(path.substring(1));
        if (Files.isDirectory(dir)) {
          dirs.add(dir);
        }
      }
    }
    return dirs;
  }

  /**
   * Kills (SIGKILL, by pid) every process still in cgroup {@code path} or below it, then removes
   * its directories in every hierarchy, children first. Best effort: what remains shows in {@link
   * #cgroupDirectories}.
   */
  static void removeCgroup(String path) {
    for (Path dir : cgroupDirectories(path)) {
      for (Path sub : subdirectoriesDeepestFirst(dir)) {
        for (String pid : readLines(sub.resolve("cgroup.procs"))) {
          if (!pid.isBlank()) {
            ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
          }
        }
      }
    }
    for (int attempt = 0; attempt < 50 && !cgroupDirectories(path).isEmpty(); attempt++) {
      for (Path dir : cgroupDirectories(path)) {
        for (Path sub : subdirectoriesDeepestFirst(dir)) {
          try {
            Files.delete(sub); // rmdir(2): the control files inside do not count
          } catch (IOException e) {
            // busy (a killed process not gone yet): the next attempt
          }
        }
      }
      if (!cgroupDirectories(path).isEmpty()) {
        sleep(Duration.ofMillis(10));
      }
    }
  }

  /**
   * Deletes {@code dir} and everything below it, refusing (and saying so) if something is still
   * mounted there: deleting through a mount would delete what it shows.
   */
  static void deleteRecursively(Path dir) {
    List<Path> mounts = mountsUnder(dir);
    if (!mounts.isEmpty()) {
      throw new IllegalStateException("not deleting " + dir + ", still mounted: " + mounts);
    }
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static List<Path> subdirectoriesDeepestFirst(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      return all.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList();
    } catch (IOException e) {
      return List.of(dir); // removed meanwhile
    }
  }

  private record MountInfo(Path mountPoint, String fsType) {}

  /**
   * /proc/self/mountinfo: field 5 is the mount point (octal escapes), the fs type follows " - ".
   */
  private static List<MountInfo> mountTable() {
    List<MountInfo> table = new ArrayList<>();
    for (String line : readLines(PROC.resolve("self/mountinfo"))) {
      String[] fields = line.split(" ");
      int dash = List.of(fields).indexOf("-");
      table.add(new MountInfo(Path.of(unescape(fields[4])), fields[dash + 1]));
    }
    return table;
  }

  private static String unescape(String field) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && i + 3 < field.length()) {
        s.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        s.append(c);
      }
    }
    return s.toString();
  }

  private static List<String> readLines(Path file) {
    try {
      return Files.readAllLines(file);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path tempFile() {
    try {
      return Files.createTempFile("gx-umount", ".out");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // a stray temp file is no reason to fail a cleanup
    }
  }
}
