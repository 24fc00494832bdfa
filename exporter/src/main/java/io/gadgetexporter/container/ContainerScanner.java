package io.gadgetexporter.container;

import io.gadgetexporter.config.ContainersConfig;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongPredicate;
import java.util.regex.Pattern;

/**
 * Finds the containers running now by walking /proc: processes are grouped by mount namespace;
 * a namespace other than the host's belongs to a container when a runtime's state directory names
 * one of its processes (runc/crun keep {@code state.json} per container), or when its cgroup path
 * carries a container id (docker, containerd CRI, CRI-O, podman; systemd and cgroupfs drivers;
 * cgroup v1 and v2). Any other namespace is a host process's private one (systemd services with
 * PrivateTmp, say): events in it are the host's.
 *
 * <p>Plain containerd ({@code ctr}) and runc name containers freely and put them in cgroups like
 * {@code /default/web}: only their runtime's state directory can tell such a cgroup is a container.
 * The well-known state directories ({@link RuntimeState#KNOWN_ROOTS}) are read; others are
 * configured.
 */
final class ContainerScanner {

  /**
   * Where runtimes keep a container's bundle, for containers found by cgroup path alone: each
   * parent holds {@code <id>/config.json} (containerd per namespace, dockerd's containerd), or
   * {@code <id>/userdata/config.json} (CRI-O).
   */
  static final List<Path> CONTAINERD_TASK_DIRS =
      List.of(
          Path.of("/run/containerd/io.containerd.runtime.v2.task"),
          Path.of("/run/docker/containerd/daemon/io.containerd.runtime.v2.task"));

  static final Path CRIO_CONTAINERS = Path.of("/run/containers/storage/overlay-containers");

  /** Words in a cgroup path that say a container should be there. */
  private static final Pattern CONTAINER_LIKE =
      Pattern.compile("kubepods|docker|containerd|crio|libpod|lxc");

  /** What a scan saw. */
  record Result(List<Container> containers, Set<Long> hostNamespaces) {}

  private final ContainersConfig config;
  private final Procfs procfs;
  private final ContainerInspector inspector;
  private final DiscoveryProblems problems;
  private final long hostMntnsId;
  private final Set<String> reportedPaths = new HashSet<>();

  ContainerScanner(
      ContainersConfig config,
      Procfs procfs,
      ContainerInspector inspector,
      DiscoveryProblems problems,
      long hostMntnsId) {
    this.config = config;
    this.procfs = procfs;
    this.inspector = inspector;
    this.problems = problems;
    this.hostMntnsId = hostMntnsId;
  }

  /**
   * @param known mount namespaces already in the collection: not inspected again
   */
  Result scan(Container.Source source, LongPredicate known) {
    Map<Long, List<Integer>> pidsByMntns = new LinkedHashMap<>();
    for (int pid : procfs.pids()) {
      procfs
          .namespaceId(pid, "mnt")
          .ifPresent(
              ns -> {
                if (ns != hostMntnsId) {
                  pidsByMntns.computeIfAbsent(ns, k -> new ArrayList<>()).add(pid);
                }
              });
    }
    Map<Integer, RuntimeState> states = null; // read only when something is new
    List<Container> found = new ArrayList<>();
    Set<Long> hostNamespaces = new HashSet<>();
    for (Map.Entry<Long, List<Integer>> e : pidsByMntns.entrySet()) {
      if (known.test(e.getKey())) {
        continue;
      }
      if (states == null) {
        states = statesByPid();
      }
      Optional<Container> c = identify(e.getKey(), e.getValue(), states, source);
      if (c.isPresent()) {
        found.add(c.get());
      } else {
        hostNamespaces.add(e.getKey());
      }
    }
    return new Result(found, hostNamespaces);
  }

  private Optional<Container> identify(
      long mntns, List<Integer> pids, Map<Integer, RuntimeState> states, Container.Source source) {
    for (int pid : pids) {
      RuntimeState st = states.get(pid);
      if (st != null) {
        return inspector.inspect(st.id(), st.runtime(), pid, st.bundle().map(config::onHost), source);
      }
    }
    int root = rootProcess(mntns, pids);
    Optional<String> cgroupFile = procfs.cgroupFile(root);
    if (cgroupFile.isEmpty()) {
      return Optional.empty(); // exited meanwhile
    }
    ProcCgroup cgroup = ProcCgroup.parse(cgroupFile.get());
    Optional<CgroupContainerId.Match> match = CgroupContainerId.find(cgroup);
    if (match.isPresent()) {
      String id = match.get().id();
      return inspector.inspect(id, match.get().runtime(), root, bundleOf(id), source);
    }
    String path = cgroup.candidatePaths().stream().findFirst().orElse("");
    if (CONTAINER_LIKE.matcher(path).find() && reportedPaths.size() < 1024 && reportedPaths.add(path)) {
      problems.report(
          "unrecognized_cgroup_path",
          "process "
              + root
              + " has a mount namespace of its own and the cgroup path "
              + path
              + ", which names no container id the agent knows; its events count as the host's");
    }
    return Optional.empty();
  }

  /** The namespace's first process: its parent is outside; the lowest such pid. */
  private int rootProcess(long mntns, List<Integer> pids) {
    for (int pid : pids) {
      int parent = procfs.parentPid(pid).orElse(0);
      if (parent == 0 || procfs.namespaceId(parent, "mnt").orElse(0) != mntns) {
        return pid;
      }
    }
    return pids.get(0);
  }

  /** Every runtime state directory's containers, by their first process. */
  Map<Integer, RuntimeState> statesByPid() {
    Map<Integer, RuntimeState> byPid = new HashMap<>();
    for (Path root : stateRoots()) {
      for (Path dir : RuntimeState.containerDirs(root)) {
        try {
          RuntimeState.read(dir).ifPresent(st -> byPid.put(st.pid(), st));
        } catch (ContainerMetadataException e) {
          problems.report(e.reason().label(), e.getMessage());
        }
      }
    }
    return byPid;
  }

  /** The state roots to read, as the agent sees them. */
  List<Path> stateRoots() {
    Set<Path> roots = new LinkedHashSet<>();
    for (RuntimeState.KnownRoot known : RuntimeState.KNOWN_ROOTS) {
      Path root = config.onHost(known.path());
      if (known.perNamespace()) {
        roots.addAll(subdirectories(root)); // one root per containerd/docker namespace
      } else {
        roots.add(root);
      }
    }
    config.runtimeStateDirs().forEach(p -> roots.add(config.onHost(p)));
    return new ArrayList<>(roots);
  }

  /** A container found by cgroup id: where its runtime keeps its bundle, if anywhere known. */
  Optional<Path> bundleOf(String id) {
    for (Path tasks : CONTAINERD_TASK_DIRS) {
      for (Path namespace : subdirectories(config.onHost(tasks))) {
        Path bundle = namespace.resolve(id);
        if (ContainerInspector.hasConfig(bundle)) {
          return Optional.of(bundle);
        }
      }
    }
    Path crio = config.onHost(CRIO_CONTAINERS).resolve(id).resolve("userdata");
    return ContainerInspector.hasConfig(crio) ? Optional.of(crio) : Optional.empty();
  }

  private static List<Path> subdirectories(Path dir) {
    List<Path> dirs = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return dirs;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, Files::isDirectory)) {
      s.forEach(dirs::add);
    } catch (java.io.IOException | RuntimeException e) {
      // gone or unreadable: nothing to read there
    }
    return dirs;
  }
}
