package io.gadgetexporter.http;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

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
    c.pod()
        .ifPresent(
            p ->
                o.put(
                    "pod",
                    new JsonObject()
                        .put("namespace", p.namespace())
                        .put("name", p.name())
                        .put("uid", p.uid())
                        .put("container_name", p.containerName())
                        .put("labels", new JsonObject(new java.util.TreeMap<>(p.labels())))));
    return o;
  }
}
