package io.gadgetexporter.container;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the container id in a cgroup path, and the runtime and Kubernetes pod that the path's shape
 * tells.
 *
 * <p>Runtimes name a container's cgroup after its id, a 64-character lowercase hex string, in a
 * few shapes (each with cgroup v1 and v2, and below it sub-cgroups such as {@code init.scope}):
 *
 * <pre>
 * docker      cgroupfs  /docker/ID
 * docker      systemd   /system.slice/docker-ID.scope
 * containerd  systemd   /kubepods.slice/kubepods-burstable.slice/
 *                         kubepods-burstable-pod0f5c2f4e_8a1b_….slice/cri-containerd-ID.scope
 * containerd  systemd   /system.slice/nerdctl-ID.scope                        (nerdctl)
 * cri-o       systemd   /kubepods.slice/…/kubepods-besteffort-pod….slice/crio-ID.scope
 * cri-o       cgroupfs  /kubepods/besteffort/pod0f5c2f4e-8a1b-…/crio-ID
 * podman      systemd   /machine.slice/libpod-ID.scope, also …/libpod-ID.scope/container
 * podman      cgroupfs  /libpod_parent/libpod-ID
 * unknown     cgroupfs  /kubepods/burstable/pod0f5c2f4e-8a1b-…/ID, /kubepods/pod…/ID
 * </pre>
 *
 * <p>The last is a bare id: containerd's CRI plugin (also in k3s and rke2) and cri-dockerd both use
 * that layout, so the path alone does not tell which runtime it is.
 *
 * <p>Nesting (kind, Docker-in-Docker: {@code /docker/<node>/kubepods/.../<id>}) is resolved by the
 * innermost id: the process belongs to the inner container. The monitor processes CRI-O and podman
 * put next to a container ({@code crio-conmon-<id>.scope}, {@code libpod-conmon-<id>.scope}) are
 * not in the container: their segment is skipped, so such a path matches only an outer container,
 * if any.
 *
 * <p>Not recognisable from the path: containerd without Kubernetes ({@code ctr run}) puts a
 * container in {@code /<namespace>/<id>} with an id the user chose ({@code /default/redis}). A
 * caller that finds nothing here matches such paths against the ids in the runtimes' state
 * directories ({@link RuntimeState#containerDirs}) instead. (A user-chosen id that happens to be
 * 64 hex characters is found here, with runtime {@code "unknown"}.)
 */
public final class CgroupContainerId {

  public static final String DOCKER = "docker";
  public static final String CONTAINERD = "containerd";
  public static final String CRI_O = "cri-o";
  public static final String PODMAN = "podman";
  /** Only a bare 64-hex id said "container"; no prefix or parent named the runtime. */
  public static final String UNKNOWN = "unknown";

  private static final String ID = "([0-9a-f]{64})";

  /** A systemd scope or slice, or a cgroupfs directory, named {@code <prefix>-<id>}. */
  private static final Pattern PREFIXED =
      Pattern.compile("(docker|cri-containerd|nerdctl|crio|libpod)-" + ID + "(\\.scope)?");

  /** The monitor processes beside a container: never the container itself. */
  private static final Pattern CONMON =
      Pattern.compile("(crio|libpod)-conmon-[0-9a-f]{64}(\\.scope)?");

  private static final Pattern BARE = Pattern.compile(ID);

  /**
   * A pod's cgroup: {@code pod<uid>} (cgroupfs) or {@code ...-pod<uid_with_underscores>.slice}
   * (systemd). A uid is a UUID, or 32 hex characters for a static pod (kubelet's hash of the
   * manifest).
   */
  private static final Pattern POD =
      Pattern.compile(
          "(?:|.*-)pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}"
              + "|[0-9a-f]{32})(?:\\.slice)?");

  /**
   * A container found in a cgroup path.
   *
   * @param runtime {@value #DOCKER}, {@value #CONTAINERD}, {@value #CRI_O}, {@value #PODMAN}, or
   *     {@value #UNKNOWN} when only a bare id said it
   * @param id the container id, 64 lowercase hex characters
   * @param podUid the Kubernetes pod the path names, with dashes ({@code
   *     0f5c2f4e-8a1b-4c1d-9e2f-3a4b5c6d7e8f}), or a static pod's 32-hex uid as it is
   * @param cgroupPath the path the container was found in, as given
   */
  public record Match(String runtime, String id, Optional<String> podUid, String cgroupPath) {
    public Match {
      requireNonNull(runtime, "runtime");
      requireNonNull(id, "id");
      requireNonNull(podUid, "podUid");
      requireNonNull(cgroupPath, "cgroupPath");
    }
  }

  private CgroupContainerId() {}

  /**
   * The innermost container in a cgroup path, or empty when the path names none (the root, a
   * system service, a pod's own slice, a conmon scope, a {@code ctr} container with a chosen id).
   */
  public static Optional<Match> find(String cgroupPath) {
    requireNonNull(cgroupPath, "cgroupPath");
    String[] segments = cgroupPath.split("/");
    for (int i = segments.length - 1; i >= 0; i--) {
      String segment = segments[i];
      if (segment.isEmpty() || CONMON.matcher(segment).matches()) {
        continue;
      }
      String runtime;
      String id;
      Matcher prefixed = PREFIXED.matcher(segment);
      Matcher bare = BARE.matcher(segment);
      if (prefixed.matches()) {
        runtime = runtimeOfPrefix(prefixed.group(1));
        id = prefixed.group(2);
      } else if (bare.matches()) {
        id = bare.group(1);
        runtime = i > 0 && segments[i - 1].equals("docker") ? DOCKER : UNKNOWN;
      } else {
        continue;
      }
      return Optional.of(new Match(runtime, id, podUid(segments, i), cgroupPath));
    }
    return Optional.empty();
  }

  /**
   * The first container found in a process's cgroup paths, in {@link ProcCgroup#candidatePaths()}
   * order (cgroup v2 first).
   */
  public static Optional<Match> find(ProcCgroup cgroup) {
    for (String path : cgroup.candidatePaths()) {
      Optional<Match> match = find(path);
      if (match.isPresent()) {
        return match;
      }
    }
    return Optional.empty();
  }

  private static String runtimeOfPrefix(String prefix) {
    return switch (prefix) {
      case "docker" -> DOCKER;
      case "cri-containerd", "nerdctl" -> CONTAINERD;
      case "crio" -> CRI_O;
      case "libpod" -> PODMAN;
      default -> throw new IllegalStateException("prefix not in the pattern: " + prefix);
    };
  }

  /**
   * The nearest pod segment above the container's, not looking past an outer container (whose
   * pod, if any, is not this container's).
   */
  private static Optional<String> podUid(String[] segments, int containerIndex) {
    for (int i = containerIndex - 1; i >= 0; i--) {
      String segment = segments[i];
      Matcher pod = POD.matcher(segment);
      if (pod.matches()) {
        return Optional.of(pod.group(1).replace('_', '-'));
      }
      if (PREFIXED.matcher(segment).matches() || BARE.matcher(segment).matches()) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }
}
