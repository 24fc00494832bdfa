package io.gadgetexporter.container;

import java.util.Map;
import java.util.Optional;

/** Container records for tests that need no real container. */
final class Containers {
  private Containers() {}

  static Container plain(String id, long mntns, long netns, long cgroup) {
    return new Container(
        Container.Kind.CONTAINER, id, id, "runc", 100, mntns, netns, cgroup, "/" + id,
        Optional.empty(), Optional.empty(), Optional.empty(), false, Container.Source.RUNTIME_HOOK);
  }

  static Container inPod(
      String id, String namespace, String pod, String name, Map<String, String> labels,
      long mntns, long netns) {
    return new Container(
        Container.Kind.CONTAINER, id, name, "containerd", 100, mntns, netns, 0, "/" + id,
        Optional.empty(), Optional.empty(),
        Optional.of(new Container.Pod(namespace, pod, pod + "-uid", name, labels)),
        false, Container.Source.RUNTIME_HOOK);
  }
}
