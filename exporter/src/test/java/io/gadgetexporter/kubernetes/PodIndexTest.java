package io.gadgetexporter.kubernetes;

import static io.gadgetexporter.kubernetes.testing.Pods.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.gadgetexporter.container.Container;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What is kept of a pod, and how a container finds its pod. */
class PodIndexTest {
  private static final KeyFilter APP = new KeyFilter(List.of("app", "app.kubernetes.io/*"));

  @Test
  void containerIdsComeFromEveryKindOfStatusWithoutTheirScheme() {
    Pod p = pod("shop", "web-1").container("app", "aaa", "nginx:1.27").build();
    p.getStatus()
        .setInitContainerStatuses(
            List.of(new ContainerStatusBuilder().withName("init").withContainerID("cri-o://bbb").build()));
    p.getStatus()
        .setEphemeralContainerStatuses(
            List.of(
                new ContainerStatusBuilder().withName("debug").withContainerID("docker://ccc").build(),
                new ContainerStatusBuilder().withName("waiting").build()));

    PodMetadata m = PodMetadata.of(p, APP, KeyFilter.NONE);

    assertThat(m.containers().keySet()).containsExactlyInAnyOrder("aaa", "bbb", "ccc");
    assertThat(m.containers().get("aaa"))
        .isEqualTo(new PodMetadata.ContainerInfo("app", Optional.of("nginx:1.27")));
    assertThat(m.containers().get("bbb").name()).isEqualTo("init");
    assertThat(PodMetadata.runtimeId("containerd://0123")).isEqualTo("0123");
    assertThat(PodMetadata.runtimeId(null)).isEmpty();
  }

  @Test
  void labelsAndAnnotationsAreFilteredByKeyOrPattern() {
    Pod p =
        pod("shop", "web-1")
            .label("app", "web")
            .label("app.kubernetes.io/name", "shop")
            .label("team", "x")
            .annotation("a", "1")
            .build();

    PodMetadata m = PodMetadata.of(p, APP, new KeyFilter(List.of("*")));

    assertThat(m.exportedLabels()).containsOnlyKeys("app", "app.kubernetes.io/name");
    assertThat(m.labels()).containsOnlyKeys("app", "app.kubernetes.io/name", "team");
    assertThat(m.exportedAnnotations()).containsExactly(Map.entry("a", "1"));
    assertThat(PodMetadata.of(p, KeyFilter.NONE, KeyFilter.NONE).exportedLabels()).isEmpty();
  }

  @Test
  void theControllerIsTheOwnerReferenceMarkedController() {
    Pod p = pod("shop", "web-1").ownedBy("ReplicaSet", "web-7d9f", "rs").build();
    assertThat(PodMetadata.of(p, APP, KeyFilter.NONE).controller())
        .contains(new PodMetadata.Controller("ReplicaSet", "web-7d9f", "rs"));
    p.getMetadata().getOwnerReferences().get(0).setController(false);
    assertThat(PodMetadata.of(p, APP, KeyFilter.NONE).controller()).isEmpty();
  }

  @Test
  void aContainerIsMatchedByIdThenByPodUidThenByNameWhenItHasNoUid() {
    PodMetadata web =
        PodMetadata.of(pod("shop", "web-1").uid("u1").container("app", "c1", "nginx").build(), APP, KeyFilter.NONE);
    PodIndex index = new PodIndex(List.of(web));

    assertThat(index.match(container("c1", Optional.empty())))
        .contains(new PodIndex.Match(web, "app", Optional.of("nginx")));
    assertThat(index.match(container("sandbox", Optional.of(new Container.Pod("shop", "web-1", "u1", "", Map.of())))))
        .contains(new PodIndex.Match(web, "", Optional.empty()));
    assertThat(index.match(container("c9", Optional.of(new Container.Pod("shop", "web-1", "", "app", Map.of())))))
        .contains(new PodIndex.Match(web, "app", Optional.of("nginx")));
    assertThat(index.match(container("c9", Optional.of(new Container.Pod("shop", "web-1", "u0", "app", Map.of())))))
        .as("another pod of the same name")
        .isEmpty();
    assertThat(index.match(container("c9", Optional.empty()))).isEmpty();
  }

  private static Container container(String id, Optional<Container.Pod> pod) {
    return KubernetesMetadataTest.runtimeContainer(id, 11, pod);
  }
}
