package io.gadgetexporter.container;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

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
 * @param pod the Kubernetes pod, when annotations or the API server say
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
   * A pod's controller, one link of the chain from the pod up: {@code ReplicaSet web-7d9f4},
   * then {@code Deployment web}.
   *
   * @param kind the owner's kind as the API names it ({@code ReplicaSet}, {@code StatefulSet},
   *     {@code DaemonSet}, {@code Job}, {@code CronJob}, {@code Deployment}, or any other)
   */
  public record Owner(String kind, String name) {
    public Owner {
      requireNonNull(kind, "kind");
      requireNonNull(name, "name");
    }

    /**
     * The semantic-convention attribute that names this owner ({@code k8s.deployment.name}), or
     * null for a kind the conventions do not name. Allocation-free.
     */
    public String attributeName() {
      return switch (kind) {
        case "Deployment" -> "k8s.deployment.name";
        case "ReplicaSet" -> "k8s.replicaset.name";
        case "StatefulSet" -> "k8s.statefulset.name";
        case "DaemonSet" -> "k8s.daemonset.name";
        case "Job" -> "k8s.job.name";
        case "CronJob" -> "k8s.cronjob.name";
        default -> null;
      };
    }
  }

  /**
   * What is known of a container's pod: from the runtime's annotations (names and uid, and with
   * CRI-O the labels), and, with the Kubernetes API on, from the pod itself.
   *
   * @param containerName the Kubernetes container name (not the runtime's name)
   * @param labels the pod's labels, where known: all of them, for selectors
   * @param owners the controller chain, nearest first ({@code ReplicaSet}, then {@code
   *     Deployment}); empty when unknown or the pod has no controller
   * @param exportedLabels the labels the config lets out as {@code k8s.pod.label.<key>}, sorted
   * @param exportedAnnotations the annotations the config lets out as {@code
   *     k8s.pod.annotation.<key>}, sorted
   * @param nodeName the pod's node ({@code spec.nodeName}); empty when unknown
   * @param fromApi the API server's pod was matched; false: the runtime's annotations only
   */
  public record Pod(
      String namespace,
      String name,
      String uid,
      String containerName,
      Map<String, String> labels,
      List<Owner> owners,
      Map<String, String> exportedLabels,
      Map<String, String> exportedAnnotations,
      String nodeName,
      boolean fromApi) {
    public Pod {
      requireNonNull(namespace, "namespace");
      requireNonNull(name, "name");
      requireNonNull(uid, "uid");
      requireNonNull(containerName, "containerName");
      labels = Map.copyOf(labels);
      owners = List.copyOf(owners);
      exportedLabels = Collections.unmodifiableSortedMap(new TreeMap<>(exportedLabels));
      exportedAnnotations = Collections.unmodifiableSortedMap(new TreeMap<>(exportedAnnotations));
      requireNonNull(nodeName, "nodeName");
    }

    /** What the runtime's annotations tell: names, uid and labels, nothing of the API's. */
    public Pod(
        String namespace, String name, String uid, String containerName, Map<String, String> labels) {
      this(namespace, name, uid, containerName, labels, List.of(), Map.of(), Map.of(), "", false);
    }

    /** The name of the owner of that kind in the chain ({@code Deployment}), if there is one. */
    public Optional<String> owner(String kind) {
      for (Owner o : owners) {
        if (o.kind().equals(kind)) {
          return Optional.of(o.name());
        }
      }
      return Optional.empty();
    }

    /** The same pod seen from another of its containers (empty: the pod itself). */
    public Pod withContainerName(String containerName) {
      return new Pod(
          namespace,
          name,
          uid,
          containerName,
          labels,
          owners,
          exportedLabels,
          exportedAnnotations,
          nodeName,
          fromApi);
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
        Optional.of(pod.withContainerName("")),
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
