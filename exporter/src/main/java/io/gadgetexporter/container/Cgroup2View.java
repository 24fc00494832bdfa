package io.gadgetexporter.container;

import io.gadgetexporter.linux.MountInfo;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where the agent finds a cgroup v2 directory (whose inode is the cgroup id BPF programs see) for a
 * path read from {@code /proc/PID/cgroup}, when the agent may sit in a cgroup namespace of its own.
 *
 * <p>A pod on a cgroup v2 node gets a private cgroup namespace: {@code /proc/PID/cgroup} of any
 * other process then reads relative to the agent's own cgroup, {@code 0::/../../besteffort/pod…/…},
 * and the container's own {@code /sys/fs/cgroup} shows only the agent's subtree. The chart mounts
 * the host's cgroup fs as well; {@code /proc/self/mountinfo} shows that mount's root relative to the
 * agent's namespace too ({@code /../../..}: three levels above it), which says how far up the host
 * root is but not the names on the way. Those are found once, by looking among the directories
 * that deep under the mount for the one holding the agent's own process: then {@code /../../x}
 * becomes a path under the mount. Outside a private namespace (root {@code /}) paths are used as
 * they are.
 *
 * @param mount where the chosen cgroup2 file system is mounted, if any
 * @param levelsAbove how far above the agent's cgroup namespace root that mount's root is (0: the
 *     mount shows the namespace root itself, the usual case outside containers)
 * @param nsRoot the names from the mount's root down to the namespace root ({@code levelsAbove} of
 *     them); empty when not found, in which case only paths going up exactly {@code levelsAbove}
 *     levels resolve
 */
record Cgroup2View(Optional<Path> mount, int levelsAbove, List<String> nsRoot) {
  /** The most directories looked at to find the agent's own cgroup: a node has a few thousand. */
  private static final int MAX_DIRECTORIES_SEARCHED = 100_000;

  static final Cgroup2View NONE = new Cgroup2View(Optional.empty(), 0, List.of());

  Cgroup2View {
    nsRoot = List.copyOf(nsRoot);
  }

  /**
   * Reads the cgroup2 mounts of {@code proc/self/mountinfo} and keeps the one that sees furthest
   * up (the host's, when mounted; else the namespace's own), then places the namespace root under
   * it from {@code proc/self/cgroup}.
   */
  static Cgroup2View of(Path proc) {
    Path chosen = null;
    int levels = -1;
    for (MountInfo.Mount m : MountInfo.read(proc.resolve("self/mountinfo"))) {
      int up = m.fsType().equals("cgroup2") ? levelsUp(m.root()) : -1;
      if (up > levels) { // -1 (a subtree, or not cgroup2) is never chosen
        levels = up;
        chosen = m.mountPoint();
      }
    }
    if (chosen == null) {
      return NONE;
    }
    List<String> nsRoot = levels == 0 ? List.of() : findNamespaceRoot(proc, chosen, levels);
    return new Cgroup2View(Optional.of(chosen), levels, nsRoot);
  }

  /**
   * The directory of a {@code /proc/PID/cgroup} unified path under the mount, or empty when it
   * cannot be placed (no mount, a path above what the mount shows, names of the way up unknown).
   */
  Optional<Path> directory(String unifiedPath) {
    if (mount.isEmpty() || !unifiedPath.startsWith("/")) {
      return Optional.empty();
    }
    List<String> segments = new ArrayList<>();
    int up = 0;
    for (String s : unifiedPath.substring(1).split("/")) {
      if (s.isEmpty() || s.equals(".")) {
        continue;
      }
      if (s.equals("..")) {
        if (!segments.isEmpty()) {
          segments.remove(segments.size() - 1);
        } else {
          up++;
        }
      } else {
        segments.add(s);
      }
    }
    if (up > levelsAbove) {
      return Optional.empty();
    }
    List<String> underMount = new ArrayList<>();
    if (up < levelsAbove) {
      if (nsRoot.size() != levelsAbove) {
        return Optional.empty(); // the names between the mount and this path are unknown
      }
      underMount.addAll(nsRoot.subList(0, levelsAbove - up));
    }
    underMount.addAll(segments);
    Path dir = mount.get();
    for (String s : underMount) {
      dir = dir.resolve(s);
    }
    return Optional.of(dir);
  }

  /**
   * {@code /} → 0, {@code /../..} → 2; -1 for a root that names a directory ({@code /a},
   * {@code /../a}): a bind of a subtree, which cannot show every container.
   */
  static int levelsUp(String root) {
    int up = 0;
    for (String s : root.split("/")) {
      if (s.equals("..")) {
        up++;
      } else if (!s.isEmpty()) {
        return -1;
      }
    }
    return up;
  }

  /**
   * The names from the mount's root to the agent's namespace root: the directory {@code levels}
   * deep (plus the agent's own path within its namespace) whose {@code cgroup.procs} lists the
   * agent's pid. Empty when not found.
   */
  private static List<String> findNamespaceRoot(Path proc, Path mount, int levels) {
    String self;
    String pid;
    try {
      pid = Files.readSymbolicLink(proc.resolve("self")).getFileName().toString();
      self =
          ProcCgroup.parse(Files.readString(proc.resolve("self/cgroup")))
              .unifiedPath()
              .orElse("");
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
    if (!self.startsWith("/") || self.contains("/..")) {
      return List.of();
    }
    String within = self.substring(1);
    List<Path> level = List.of(mount);
    int searched = 0;
    for (int depth = 0; depth < levels; depth++) {
      List<Path> next = new ArrayList<>();
      for (Path dir : level) {
        try (DirectoryStream<Path> children = Files.newDirectoryStream(dir, Files::isDirectory)) {
          for (Path child : children) {
            if (++searched > MAX_DIRECTORIES_SEARCHED) {
              return List.of();
            }
            next.add(child);
          }
        } catch (IOException | RuntimeException e) {
          // A cgroup removed while listed: its subtree holds no live agent.
        }
      }
      level = next;
    }
    for (Path candidate : level) {
      Path procs = (within.isEmpty() ? candidate : candidate.resolve(within)).resolve("cgroup.procs");
      try {
        if (Files.readAllLines(procs).contains(pid)) {
          List<String> names = new ArrayList<>();
          for (Path p : mount.relativize(candidate)) {
            names.add(p.toString());
          }
          return names;
        }
      } catch (IOException | RuntimeException e) {
        // Gone, or not a cgroup directory.
      }
    }
    return List.of();
  }

}
