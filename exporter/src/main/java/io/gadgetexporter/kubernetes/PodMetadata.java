package io.gadgetexporter.kubernetes;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the agent keeps of a pod from the API server: far less than the pod, and a value, so an
 * update that changes nothing kept (a status condition, a resync) is seen to change nothing.
 *
 * @param labels every label, for selectors
 * @param exportedLabels the labels the config lets out
 * @param exportedAnnotations the annotations the config lets out
 * @param controller the owner reference marked {@code controller: true}
 * @param containers the pod's containers by runtime id (from {@code containerID} without its
 *     {@code containerd://} scheme): init, app and ephemeral ones that have an id yet
 */
record PodMetadata(
    String namespace,
    String name,
    String uid,
    String nodeName,
    Map<String, String> labels,
    Map<String, String> exportedLabels,
    Map<String, String> exportedAnnotations,
    Optional<Controller> controller,
    Map<String, ContainerInfo> containers) {

  /** A controller owner reference. */
  record Controller(String kind, String name, String uid) {}

  /**
   * @param name the container's name in the pod spec
   * @param image the image as the status says it ({@code docker.io/library/nginx:1.27})
   */
  record ContainerInfo(String name, Optional<String> image) {}

  /** The label Deployments put on their ReplicaSets' pods: the pod template's hash. */
  static final String POD_TEMPLATE_HASH = "pod-template-hash";

  PodMetadata {
    requireNonNull(namespace, "namespace");
    requireNonNull(name, "name");
    requireNonNull(uid, "uid");
    requireNonNull(nodeName, "nodeName");
    labels = Map.copyOf(labels);
    exportedLabels = Map.copyOf(exportedLabels);
    exportedAnnotations = Map.copyOf(exportedAnnotations);
    requireNonNull(controller, "controller");
    containers = Map.copyOf(containers);
  }

  static PodMetadata of(Pod pod, KeyFilter labelFilter, KeyFilter annotationFilter) {
    var meta = pod.getMetadata();
    Map<String, String> labels = meta.getLabels() == null ? Map.of() : meta.getLabels();
    Optional<Controller> controller = Optional.empty();
    if (meta.getOwnerReferences() != null) {
      for (OwnerReference ref : meta.getOwnerReferences()) {
        if (Boolean.TRUE.equals(ref.getController()) && ref.getKind() != null && ref.getName() != null) {
          controller =
              Optional.of(
                  new Controller(ref.getKind(), ref.getName(), ref.getUid() == null ? "" : ref.getUid()));
          break;
        }
      }
    }
    Map<String, ContainerInfo> containers = new LinkedHashMap<>();
    if (pod.getStatus() != null) {
      addStatuses(containers, pod.getStatus().getInitContainerStatuses());
      addStatuses(containers, pod.getStatus().getContainerStatuses());
      addStatuses(containers, pod.getStatus().getEphemeralContainerStatuses());
    }
    return new PodMetadata(
        nonNull(meta.getNamespace()),
        nonNull(meta.getName()),
        nonNull(meta.getUid()),
        pod.getSpec() == null ? "" : nonNull(pod.getSpec().getNodeName()),
        labels,
        labelFilter.filter(labels),
        annotationFilter.filter(meta.getAnnotations()),
        controller,
        containers);
  }

  private static void addStatuses(Map<String, ContainerInfo> into, List<ContainerStatus> statuses) {
    if (statuses == null) {
      return;
    }
    for (ContainerStatus s : statuses) {
      String id = runtimeId(s.getContainerID());
      if (!id.isEmpty() && s.getName() != null) {
        into.put(id, new ContainerInfo(s.getName(), Optional.ofNullable(s.getImage()).filter(i -> !i.isBlank())));
      }
    }
  }

  /**
   * The runtime's id in a status {@code containerID}: {@code containerd://ID}, {@code
   * cri-o://ID}, {@code docker://ID}; empty for none.
   */
  static String runtimeId(String containerId) {
    if (containerId == null) {
      return "";
    }
    int scheme = containerId.indexOf("://");
    return scheme < 0 ? containerId.strip() : containerId.substring(scheme + 3).strip();
  }

  private static String nonNull(String s) {
    return s == null ? "" : s;
  }
}
