package io.gadgetexporter.container;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * What an event is attributed to: a container, the pod around several containers (an event matched
 * only by a network namespace that the pod's containers share), or the host. Immutable: a record is
 * replaced, never changed, so the event path reads it without locks.
 *
 * @param id the runtime's container id; empty for {@link Kind#HOST}
 * @param name the container's name: the Kubernetes container name when annotations give one, else
 *     the runtime's id (runc and ctr name containers by id)
 * @param runtime runc, crun, containerd, docker, cri-o, podman, or unknown
 * @param pid the container's first process, as the host sees it
 * @param cgroupId the cgroup v2 id ({@code bpf_get_current_cgroup_id()}), 0 when unknown
 * @param image the image name, when the runtime or annotations say
 * @param pod the Kubernetes pod, when annotations (or later the API server) say
 * @param sandbox the pod's sandbox ("pause") container, which runs nothing of the user's
 * @param source how the agent learned of it
 */
public record Container(
    Kind kind,
    String id,
    String name,
    String runtime,
    int pid,
    long mntnsId,
    long netnsId,
    long cgroupId,
    String cgroupPath,
    Optional<String> image,
    Optional<Instant> startedAt,
    Optional<Pod> pod,
    boolean sandbox,
    Source source) {

  /** What an event was matched to. */
  public enum Kind {
    CONTAINER,
    /** Matched by network namespace only, shared by several containers of one pod. */
    POD,
    HOST
  }

  /** How the container was found. */
  public enum Source {
    /** The runtime hook saw its runtime start it, before its first instruction. */
    RUNTIME_HOOK,
    /** The scan of /proc when the agent started. */
    STARTUP_SCAN,
    /** A later rescan: the hook missed it (or is off). */
    RECONCILE,
    /** Made by the agent (host, pod-level records). */
    AGENT
  }

  /**
   * @param containerName the Kubernetes container name (not the runtime's name)
   * @param labels the pod's labels, where known
   */
  public record Pod(
      String namespace, String name, String uid, String containerName, Map<String, String> labels) {
    public Pod {
      requireNonNull(namespace, "namespace");
      requireNonNull(name, "name");
      requireNonNull(uid, "uid");
      requireNonNull(containerName, "containerName");
      labels = Map.copyOf(labels);
    }
  }

  /** Host processes: processes in the host's namespaces, or in none of a container's. */
  public static final Container HOST =
      new Container(
          Kind.HOST,
          "",
          "",
          "",
          1,
          0,
          0,
          0,
          "",
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          false,
          Source.AGENT);

  public Container {
    requireNonNull(kind, "kind");
    requireNonNull(id, "id");
    requireNonNull(name, "name");
    requireNonNull(runtime, "runtime");
    requireNonNull(cgroupPath, "cgroupPath");
    requireNonNull(image, "image");
    requireNonNull(startedAt, "startedAt");
    requireNonNull(pod, "pod");
    requireNonNull(source, "source");
  }

  /** The pod-level record for containers that share a network namespace. */
  static Container podLevel(Pod pod, long netnsId) {
    return new Container(
        Kind.POD,
        "",
        "",
        "",
        0,
        0,
        netnsId,
        0,
        "",
        Optional.empty(),
        Optional.empty(),
        Optional.of(new Pod(pod.namespace(), pod.name(), pod.uid(), "", pod.labels())),
        false,
        Source.AGENT);
  }

  public boolean isHost() {
    return kind == Kind.HOST;
  }

  /** The first 12 characters of the id, as docker and crictl show it. */
  public String shortId() {
    return id.length() > 12 ? id.substring(0, 12) : id;
  }
}
