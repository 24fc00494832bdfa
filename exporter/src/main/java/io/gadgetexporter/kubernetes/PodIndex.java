package io.gadgetexporter.kubernetes;

import io.gadgetexporter.container.Container;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The node's pods, indexed to find a container's: by the container's runtime id in the pod's
 * status, else by the pod uid (or namespace and name) the runtime's OCI annotations gave. The
 * second covers sandbox ("pause") containers, which no status lists, and containers that run
 * before the kubelet has reported their id. Immutable: rebuilt whole when a pod changes.
 */
final class PodIndex {
  static final PodIndex EMPTY = new PodIndex(java.util.List.of());

  /**
   * A container's pod.
   *
   * @param containerName its name in the pod spec; empty for a sandbox
   * @param image the image as the pod's status says it
   */
  record Match(PodMetadata pod, String containerName, Optional<String> image) {}

  private final Map<String, Match> byContainerId = new HashMap<>();
  private final Map<String, PodMetadata> byUid = new HashMap<>();
  private final Map<String, PodMetadata> byName = new HashMap<>();
  private final int size;

  PodIndex(Collection<PodMetadata> pods) {
    for (PodMetadata p : pods) {
      p.containers()
          .forEach((id, c) -> byContainerId.put(id, new Match(p, c.name(), c.image())));
      if (!p.uid().isEmpty()) {
        byUid.put(p.uid(), p);
      }
      byName.put(p.namespace() + "/" + p.name(), p);
    }
    size = pods.size();
  }

  int size() {
    return size;
  }

  /** The pod of a container as discovery found it; empty when none of the node's pods is its. */
  Optional<Match> match(Container c) {
    Match byId = byContainerId.get(c.id());
    if (byId != null) {
      return Optional.of(byId);
    }
    if (c.pod().isEmpty()) {
      return Optional.empty();
    }
    Container.Pod annotated = c.pod().get();
    // The uid tells a pod from an earlier one of the same name (a StatefulSet's): when the
    // annotations give one, nothing else is taken for it.
    PodMetadata p =
        annotated.uid().isEmpty()
            ? byName.get(annotated.namespace() + "/" + annotated.name())
            : byUid.get(annotated.uid());
    if (p == null) {
      return Optional.empty();
    }
    String name = annotated.containerName();
    Optional<String> image = Optional.empty();
    for (PodMetadata.ContainerInfo info : p.containers().values()) {
      if (!name.isEmpty() && info.name().equals(name)) {
        image = info.image();
      }
    }
    return Optional.of(new Match(p, name, image));
  }
}
