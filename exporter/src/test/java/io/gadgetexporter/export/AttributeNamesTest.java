package io.gadgetexporter.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.Container;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A container's attributes on log records and metric labels, with the API's pod metadata. */
class AttributeNamesTest {
  private static final Container.Pod POD =
      new Container.Pod(
          "shop",
          "web-7d9f-abcde",
          "uid-1",
          "app",
          Map.of("app", "web", "team", "payments"),
          List.of(
              new Container.Owner("ReplicaSet", "web-7d9f"),
              new Container.Owner("Deployment", "web"),
              new Container.Owner("Rollout", "not-a-convention")),
          Map.of("app", "web"),
          Map.of("example.com/owner", "alice"),
          "node-a",
          true);

  private static Container container(Optional<Container.Pod> pod) {
    return new Container(
        Container.Kind.CONTAINER, "c1", "app", "containerd", 100, 11, 12, 13, "/c1",
        Optional.empty(), Optional.empty(), pod, false, Container.Source.RUNTIME_HOOK);
  }

  @Test
  void logRecordsCarryTheWorkloadNodeAndTheAllowedLabelsAndAnnotations() {
    Attributes a = AttributeNames.ofContainer(container(Optional.of(POD)));

    assertThat(a.asMap())
        .containsEntry(AttributeKey.stringKey("k8s.namespace.name"), "shop")
        .containsEntry(AttributeKey.stringKey("k8s.pod.name"), "web-7d9f-abcde")
        .containsEntry(AttributeKey.stringKey("k8s.pod.uid"), "uid-1")
        .containsEntry(AttributeKey.stringKey("k8s.container.name"), "app")
        .containsEntry(AttributeKey.stringKey("k8s.node.name"), "node-a")
        .containsEntry(AttributeKey.stringKey("k8s.replicaset.name"), "web-7d9f")
        .containsEntry(AttributeKey.stringKey("k8s.deployment.name"), "web")
        .containsEntry(AttributeKey.stringKey("k8s.pod.label.app"), "web")
        .containsEntry(AttributeKey.stringKey("k8s.pod.annotation.example.com/owner"), "alice")
        .doesNotContainKey(AttributeKey.stringKey("k8s.pod.label.team"));
    assertThat(a.asMap().keySet())
        .extracting(AttributeKey::getKey)
        .noneMatch(k -> k.contains("rollout") || k.contains("not-a-convention"));
  }

  @Test
  void annotationsOnlyGiveTheNames() {
    Container.Pod annotated = new Container.Pod("shop", "web-1", "uid-1", "app", Map.of("app", "web"));
    Attributes a = AttributeNames.ofContainer(container(Optional.of(annotated)));

    assertThat(a.asMap().keySet())
        .extracting(AttributeKey::getKey)
        .containsExactlyInAnyOrder(
            "container.id", "container.name", "container.runtime", "k8s.namespace.name",
            "k8s.pod.name", "k8s.pod.uid", "k8s.container.name");
  }

  @Test
  void metricLabelsNameTheWorkloadWhenAskedAndAreEmptyWithoutIt() {
    Container c = container(Optional.of(POD));
    assertThat(AttributeNames.containerLabel(c, "k8s.deployment.name")).isEqualTo("web");
    assertThat(AttributeNames.containerLabel(c, "k8s.replicaset.name")).isEqualTo("web-7d9f");
    assertThat(AttributeNames.containerLabel(c, "k8s.statefulset.name")).isEmpty();
    assertThat(AttributeNames.containerLabel(container(Optional.empty()), "k8s.job.name")).isEmpty();
    assertThat(AttributeNames.containerLabel(Container.HOST, "k8s.cronjob.name")).isEmpty();
  }
}
