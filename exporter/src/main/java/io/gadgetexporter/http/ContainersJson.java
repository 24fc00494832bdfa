package io.gadgetexporter.http;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The container collection as {@code /api/v1/containers} serves it: {@code {"containers": [...],
 * "exited": [...]}}, each container with its ids, namespaces, cgroup, image and pod.
 */
final class ContainersJson {
  private ContainersJson() {}

  static JsonObject list(ContainerCollection collection) {
    return new JsonObject()
        .put("containers", array(collection.containers()))
        .put("exited", array(collection.exited()));
  }

  private static JsonArray array(List<Container> containers) {
    JsonArray a = new JsonArray();
    containers.forEach(c -> a.add(of(c)));
    return a;
  }

  static JsonObject of(Container c) {
    JsonObject o =
        new JsonObject()
            .put("id", c.id())
            .put("name", c.name())
            .put("runtime", c.runtime())
            .put("pid", c.pid())
            .put("mntns_id", c.mntnsId())
            .put("netns_id", c.netnsId())
            .put("cgroup_id", c.cgroupId())
            .put("cgroup_path", c.cgroupPath())
            .put("sandbox", c.sandbox())
            .put("source", c.source().name().toLowerCase(java.util.Locale.ROOT));
    c.image().ifPresent(i -> o.put("image", i));
    c.startedAt().ifPresent(t -> o.put("started_at", t.toString()));
    c.pod().ifPresent(p -> o.put("pod", pod(p)));
    return o;
  }

  /**
   * What is known of the pod: {@code metadata} says from where ({@code api}: the API server's
   * pod; {@code annotations}: the runtime's only). {@code attributes} are the attributes events
   * carry beyond the names: the workload ({@code k8s.deployment.name}, ...) and the labels and
   * annotations the config lets out.
   */
  private static JsonObject pod(Container.Pod p) {
    JsonArray owners = new JsonArray();
    for (Container.Owner owner : p.owners()) {
      owners.add(new JsonObject().put("kind", owner.kind()).put("name", owner.name()));
    }
    Map<String, Object> attributes = new TreeMap<>();
    for (Container.Owner owner : p.owners()) {
      if (owner.attributeName() != null) {
        attributes.put(owner.attributeName(), owner.name());
      }
    }
    p.exportedLabels().forEach((k, v) -> attributes.put("k8s.pod.label." + k, v));
    p.exportedAnnotations().forEach((k, v) -> attributes.put("k8s.pod.annotation." + k, v));
    JsonObject o =
        new JsonObject()
            .put("namespace", p.namespace())
            .put("name", p.name())
            .put("uid", p.uid())
            .put("container_name", p.containerName())
            .put("metadata", p.fromApi() ? "api" : "annotations")
            .put("labels", new JsonObject(new TreeMap<String, Object>(p.labels())))
            .put("owners", owners)
            .put("attributes", new JsonObject(attributes));
    if (!p.nodeName().isEmpty()) {
      o.put("node", p.nodeName());
    }
    return o;
  }
}
