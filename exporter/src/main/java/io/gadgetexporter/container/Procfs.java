package io.gadgetexporter.container;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What the agent reads of processes under /proc: namespace ids, cgroups, parents, start times.
 * Every read may race with the process exiting; a vanished process reads as empty, never as an
 * error.
 */
final class Procfs {
  /** USER_HZ: 100 on every Linux architecture the agent is built for. */
  private static final long CLOCK_TICKS_PER_SECOND = 100;

  private final Path proc;
  private final Cgroup2View cgroup2;
  private final long bootTimeSeconds;

  Procfs(Path proc) {
    this.proc = proc;
    this.cgroup2 = Cgroup2View.of(proc);
    this.bootTimeSeconds = readBootTime(proc.resolve("stat"));
  }

  static Procfs system() {
    return new Procfs(Path.of("/proc"));
  }

  /** The inode of /proc/PID/ns/TYPE ({@code mnt}, {@code net}): the id BPF programs see. */
  OptionalLong namespaceId(int pid, String type) {
    try {
      String link = Files.readSymbolicLink(proc.resolve(pid + "/ns/" + type)).toString();
      int open = link.indexOf('[');
      int close = link.indexOf(']');
      if (open < 0 || close < open) {
        return OptionalLong.empty();
      }
      return OptionalLong.of(Long.parseLong(link.substring(open + 1, close)));
    } catch (IOException | NumberFormatException | UnsupportedOperationException e) {
      return OptionalLong.empty();
    }
  }

  Optional<String> cgroupFile(int pid) {
    return readString(proc.resolve(pid + "/cgroup"));
  }

  /**
   * The cgroup v2 id of a unified-hierarchy path: the inode of its directory, which is what
   * {@code bpf_get_current_cgroup_id()} returns. 0 when there is no cgroup2 mount, the path cannot
   * be placed under it ({@link Cgroup2View}) or the directory is gone (the cgroup was removed).
   */
  long cgroupId(String unifiedPath) {
    Optional<Path> dir = cgroup2.directory(unifiedPath);
    if (dir.isEmpty()) {
      return 0;
    }
    try {
      return ((Number) Files.getAttribute(dir.get(), "unix:ino")).longValue();
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** Field 4 of /proc/PID/stat. */
  OptionalInt parentPid(int pid) {
    List<String> f = statFields(pid);
    return f.size() > 1 ? parseInt(f.get(1)) : OptionalInt.empty();
  }

  /** Field 22 of /proc/PID/stat: clock ticks after boot. */
  OptionalLong startTicks(int pid) {
    List<String> f = statFields(pid);
    if (f.size() <= 19) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(f.get(19)));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  Optional<Instant> startTime(int pid) {
    OptionalLong ticks = startTicks(pid);
    if (ticks.isEmpty() || bootTimeSeconds == 0) {
      return Optional.empty();
    }
    long millis = ticks.getAsLong() * 1000 / CLOCK_TICKS_PER_SECOND;
    return Optional.of(Instant.ofEpochSecond(bootTimeSeconds).plusMillis(millis));
  }

  /** Every process id, at the time of the listing. */
  List<Integer> pids() {
    List<Integer> pids = new ArrayList<>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(proc)) {
      for (Path p : dir) {
        OptionalInt pid = parseInt(p.getFileName().toString());
        pid.ifPresent(pids::add);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot list " + proc, e);
    }
    return pids;
  }

  /** The fields after the command name, which may itself hold spaces and parentheses. */
  private List<String> statFields(int pid) {
    Optional<String> stat = readString(proc.resolve(pid + "/stat"));
    if (stat.isEmpty()) {
      return List.of();
    }
    int end = stat.get().lastIndexOf(')');
    if (end < 0) {
      return List.of();
    }
    return List.of(stat.get().substring(end + 1).trim().split(" "));
  }

  private static Optional<String> readString(Path p) {
    try {
      return Optional.of(Files.readString(p));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static OptionalInt parseInt(String s) {
    if (s.isEmpty() || s.length() > 10) {
      return OptionalInt.empty();
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return OptionalInt.empty();
      }
    }
    long v = Long.parseLong(s);
    return v > Integer.MAX_VALUE ? OptionalInt.empty() : OptionalInt.of((int) v);
  }

  private static long readBootTime(Path stat) {
    try {
      for (String line : Files.readAllLines(stat)) {
        if (line.startsWith("btime ")) {
          return Long.parseLong(line.substring(6).trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return 0;
  }
}
