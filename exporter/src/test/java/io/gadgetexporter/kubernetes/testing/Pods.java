package io.gadgetexporter.kubernetes.testing;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Pods as the API server would hold them, for the mock server. */
public final class Pods {
  private final String namespace;
  private final String name;
  private String uid;
  private String node = "node-a";
  private final Map<String, String> labels = new LinkedHashMap<>();
  private final Map<String, String> annotations = new LinkedHashMap<>();
  private OwnerReference owner;
  private final List<ContainerStatus> statuses = new ArrayList<>();

  private Pods(String namespace, String name) {
    this.namespace = namespace;
    this.name = name;
    this.uid = "uid-" + name;
  }

  public static Pods pod(String namespace, String name) {
    return new Pods(namespace, name);
  }

  public Pods uid(String uid) {
    this.uid = uid;
    return this;
  }

  public Pods node(String node) {
    this.node = node;
    return this;
  }

  public Pods label(String key, String value) {
    labels.put(key, value);
    return this;
  }

  public Pods annotation(String key, String value) {
    annotations.put(key, value);
    return this;
  }

  /** Its controller. */
  public Pods ownedBy(String kind, String name, String uid) {
    owner = controller(kind, name, uid);
    return this;
  }

  /** A running container: {@code containerID: containerd://<id>}. */
  public Pods container(String name, String runtimeId, String image) {
    statuses.add(
        new ContainerStatusBuilder()
            .withName(name)
            .withContainerID("containerd://" + runtimeId)
            .withImage(image)
            .withReady(true)
            .withRestartCount(0)
            .build());
    return this;
  }

  public Pod build() {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withNamespace(namespace)
            .withName(name)
            .withUid(uid)
            .withLabels(labels)
            .withAnnotations(annotations)
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .addNewContainer()
            .withName(statuses.isEmpty() ? "app" : statuses.get(0).getName())
            .withImage("busybox")
            .endContainer()
            .endSpec()
            .withNewStatus()
            .withPhase("Running")
            .withContainerStatuses(statuses)
            .endStatus();
    if (owner != null) {
      b.editMetadata().withOwnerReferences(owner).endMetadata();
    }
    return b.build();
  }

  public static OwnerReference controller(String kind, String name, String uid) {
    return new OwnerReferenceBuilder()
        .withApiVersion(kind.equals("ReplicaSet") || kind.equals("Deployment") ? "apps/v1" : "batch/v1")
        .withKind(kind)
        .withName(name)
        .withUid(uid)
        .withController(true)
        .build();
  }
}
