package io.gadgetexporter.container;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The content of {@code /proc/<pid>/cgroup}: which cgroup a process is in, per hierarchy.
 *
 * <p>Each line is {@code hierarchy-id:controllers:path}:
 *
 * <pre>
 * 0::/kubepods.slice/.../cri-containerd-4f3c….scope          cgroup v2 (the unified hierarchy)
 * 12:memory:/docker/4f3c…                                     cgroup v1, one controller
 * 4:cpu,cpuacct:/docker/4f3c…                                 cgroup v1, co-mounted controllers
 * 1:name=systemd:/system.slice/docker-4f3c….scope             cgroup v1, a named hierarchy
 * </pre>
 *
 * A pure v2 host has only the {@code 0::} line; a v1 host only numbered lines; a hybrid host both
 * (there the {@code 0::} path is often just systemd's view, and the container id is in the v1
 * paths). Lines that do not have this shape are skipped and counted in {@link #malformedLines()}.
 *
 * @param unifiedPath the path of the {@code 0::} line (cgroup v2), when there is one
 * @param v1Paths controller → path for every cgroup v1 hierarchy, each controller of a co-mounted
 *     list under its own name ({@code cpu}, {@code cpuacct}); named hierarchies under their name
 *     ({@code name=systemd}). In the order of the file.
 * @param malformedLines lines skipped because they do not have the shape above
 */
public record ProcCgroup(
    Optional<String> unifiedPath, Map<String, String> v1Paths, int malformedLines) {

  /**
   * The v1 hierarchies searched first for a container id, in this order. systemd's own hierarchy
   * comes first because with the systemd cgroup driver it names the container's scope; the
   * others are the controllers every runtime sets up. Hierarchies not listed follow, in file
   * order.
   */
  private static final List<String> V1_PREFERENCE =
      List.of(
          "name=systemd",
          "memory",
          "cpu",
          "cpuacct",
          "pids",
          "cpuset",
          "blkio",
          "devices",
          "freezer",
          "net_cls",
          "net_prio",
          "perf_event",
          "hugetlb");

  public ProcCgroup {
    requireNonNull(unifiedPath, "unifiedPath");
    v1Paths = Collections.unmodifiableMap(new LinkedHashMap<>(v1Paths));
  }

  /**
   * Parses the content of a {@code /proc/<pid>/cgroup} file. Never fails: an empty or garbled
   * content gives a result with no paths (and the garbled lines counted).
   */
  public static ProcCgroup parse(String content) {
    requireNonNull(content, "content");
    String unified = null;
    Map<String, String> v1 = new LinkedHashMap<>();
    int malformed = 0;
    for (String raw : content.split("\n", -1)) {
      String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
      if (line.isBlank()) {
        continue;
      }
      // The path is the rest of the line: a directory name may contain ':'.
      String[] parts = line.split(":", 3);
      if (parts.length != 3
          || !isHierarchyId(parts[0])
          || !parts[2].startsWith("/")
          || hasControlCharacter(parts[2])) {
        malformed++;
        continue;
      }
      String controllers = parts[1];
      String path = parts[2];
      if (controllers.isEmpty()) {
        if (!parts[0].equals("0") || unified != null) {
          // An empty controller list is only valid on the single unified (v2) line.
          malformed++;
          continue;
        }
        unified = path;
        continue;
      }
      for (String controller : controllers.split(",")) {
        if (!controller.isEmpty()) {
          v1.putIfAbsent(controller, path);
        }
      }
    }
    return new ProcCgroup(Optional.ofNullable(unified), v1, malformed);
  }

  /**
   * The distinct paths to look for a container id in: the unified (v2) path first, then the v1
   * paths (systemd's hierarchy, then memory, cpu, pids, …, then the rest). The root cgroup
   * {@code /} is left out: no container is there.
   */
  public List<String> candidatePaths() {
    Set<String> paths = new LinkedHashSet<>();
    unifiedPath.ifPresent(paths::add);
    for (String controller : V1_PREFERENCE) {
      String path = v1Paths.get(controller);
      if (path != null) {
        paths.add(path);
      }
    }
    paths.addAll(v1Paths.values());
    paths.remove("/");
    return List.copyOf(paths);
  }

  private static boolean isHierarchyId(String s) {
    if (s.isEmpty() || s.length() > 9) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  private static boolean hasControlCharacter(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isISOControl(s.charAt(i))) {
        return true;
      }
    }
    return false;
  }
}
