package io.gadgetexporter.export;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.gadget.EventField;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;

/**
 * How events and containers are named in what leaves the agent: OpenTelemetry semantic-convention
 * attribute names, so a backend joins the agent's data with everything else it holds about the same
 * pod or process.
 */
public final class AttributeNames {
  public static final AttributeKey<String> INSTANCE = AttributeKey.stringKey("gadget.instance");
  public static final AttributeKey<String> GADGET = AttributeKey.stringKey("gadget.name");

  public static final AttributeKey<String> CONTAINER_ID = AttributeKey.stringKey("container.id");
  public static final AttributeKey<String> CONTAINER_NAME = AttributeKey.stringKey("container.name");
  public static final AttributeKey<String> CONTAINER_RUNTIME =
      AttributeKey.stringKey("container.runtime");
  public static final AttributeKey<String> CONTAINER_IMAGE =
      AttributeKey.stringKey("container.image.name");
  public static final AttributeKey<String> K8S_NAMESPACE =
      AttributeKey.stringKey("k8s.namespace.name");
  public static final AttributeKey<String> K8S_POD = AttributeKey.stringKey("k8s.pod.name");
  public static final AttributeKey<String> K8S_POD_UID = AttributeKey.stringKey("k8s.pod.uid");
  public static final AttributeKey<String> K8S_CONTAINER =
      AttributeKey.stringKey("k8s.container.name");
  public static final AttributeKey<String> K8S_NODE = AttributeKey.stringKey("k8s.node.name");
  /** {@code k8s.pod.label.<key>}: a pod label the config lets out. */
  public static final String K8S_POD_LABEL_PREFIX = "k8s.pod.label.";
  /** {@code k8s.pod.annotation.<key>}: a pod annotation the config lets out. */
  public static final String K8S_POD_ANNOTATION_PREFIX = "k8s.pod.annotation.";

  /** Semantic conventions have no "host process" marker; this says the event is not a container's. */
  public static final AttributeKey<Boolean> HOST = AttributeKey.booleanKey("gadget.host");

  private AttributeNames() {}

  /**
   * A field's attribute name: its semantic-convention name from {@code gadget.yaml}, else the
   * field under the gadget's event name ({@code file.open.flags}), so names never collide with
   * another meaning.
   */
  public static String of(EventField f, String eventName) {
    String semantic = f.semantic();
    return semantic.contains(".") ? semantic : eventName + "." + f.name();
  }

  /** Every attribute of a container, for log records. */
  public static Attributes ofContainer(Container c) {
    AttributesBuilder b = Attributes.builder();
    if (c == null) {
      return b.build();
    }
    if (c.isHost()) {
      return b.put(HOST, true).build();
    }
    if (!c.id().isEmpty()) {
      b.put(CONTAINER_ID, c.id()).put(CONTAINER_NAME, c.name()).put(CONTAINER_RUNTIME, c.runtime());
    }
    c.image().ifPresent(i -> b.put(CONTAINER_IMAGE, i));
    c.pod()
        .ifPresent(
            p -> {
              b.put(K8S_NAMESPACE, p.namespace()).put(K8S_POD, p.name()).put(K8S_POD_UID, p.uid());
              if (!p.containerName().isEmpty()) {
                b.put(K8S_CONTAINER, p.containerName());
              }
              if (!p.nodeName().isEmpty()) {
                b.put(K8S_NODE, p.nodeName());
              }
              for (Container.Owner o : p.owners()) {
                if (o.attributeName() != null) {
                  b.put(o.attributeName(), o.name());
                }
              }
              p.exportedLabels().forEach((k, v) -> b.put(K8S_POD_LABEL_PREFIX + k, v));
              p.exportedAnnotations().forEach((k, v) -> b.put(K8S_POD_ANNOTATION_PREFIX + k, v));
            });
    return b.build();
  }

  /**
   * One container attribute's value for metric labels ({@code k8s.namespace.name}, {@code
   * k8s.pod.name}, {@code k8s.container.name}, {@code container.name}, or a workload's name such
   * as {@code k8s.deployment.name}); empty when it has none.
   */
  public static String containerLabel(Container c, String attribute) {
    if (c == null || c.isHost()) {
      return "";
    }
    return switch (attribute) {
      case "k8s.namespace.name" -> c.pod().map(Container.Pod::namespace).orElse("");
      case "k8s.pod.name" -> c.pod().map(Container.Pod::name).orElse("");
      case "k8s.container.name" -> c.pod().map(Container.Pod::containerName).orElse("");
      case "container.name" -> c.name();
      case "k8s.deployment.name" -> owner(c, "Deployment");
      case "k8s.replicaset.name" -> owner(c, "ReplicaSet");
      case "k8s.statefulset.name" -> owner(c, "StatefulSet");
      case "k8s.daemonset.name" -> owner(c, "DaemonSet");
      case "k8s.job.name" -> owner(c, "Job");
      case "k8s.cronjob.name" -> owner(c, "CronJob");
      default -> throw new IllegalArgumentException("not a container attribute: " + attribute);
    };
  }

  private static String owner(Container c, String kind) {
    return c.pod().flatMap(p -> p.owner(kind)).orElse("");
  }
}
