package io.gadgetexporter.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gadgetexporter.container.Container;
import io.gadgetexporter.kubernetes.testing.MockApiServer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Owner chains without the API: what the pod says, and the fallback when the API fails. */
class OwnerResolverTest {
  private static final Container.Owner RS = new Container.Owner("ReplicaSet", "web-7d9f");

  private static PodMetadata pod(String kind, String name, Map<String, String> labels) {
    return new PodMetadata(
        "shop", "web-7d9f-x", "uid", "node-a", labels, Map.of(), Map.of(),
        kind == null ? Optional.empty() : Optional.of(new PodMetadata.Controller(kind, name, "owner-uid")),
        Map.of());
  }

  @Test
  void kindsWithoutALookupAreThePodsOwnController() {
    try (OwnerResolver r = new OwnerResolver(null, () -> {}, System::nanoTime)) {
      assertThat(r.owners(pod(null, null, Map.of()))).isEmpty();
      assertThat(r.owners(pod("DaemonSet", "agent", Map.of())))
          .containsExactly(new Container.Owner("DaemonSet", "agent"));
      assertThat(r.owners(pod("Node", "node-a", Map.of())))
          .containsExactly(new Container.Owner("Node", "node-a"));
    }
  }

  @Test
  void anApiThatFailsNamesTheDeploymentFromThePodTemplateHashThenRetriesLater() throws Exception {
    Config config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl("http://127.0.0.1:" + MockApiServer.freePort())
            .build();
    AtomicInteger resolved = new AtomicInteger();
    try (KubernetesClient client = KubernetesClients.create(config);
        OwnerResolver r = new OwnerResolver(client, resolved::incrementAndGet, System::nanoTime)) {
      PodMetadata p = pod("ReplicaSet", "web-7d9f", Map.of("pod-template-hash", "7d9f"));

      assertThat(r.owners(p)).as("before the lookup answers").containsExactly(RS);
      KubernetesMetadataTest.await("the lookup", () -> resolved.get() == 1);
      assertThat(r.owners(p)).containsExactly(RS, new Container.Owner("Deployment", "web"));
      assertThat(r.outcomes()).containsEntry("ReplicaSet/failed", 1L);
      Thread.sleep(200);
      assertThat(r.outcomes()).as("not asked again before the retry time").containsEntry("ReplicaSet/failed", 1L);
    }
  }

  @Test
  void theFallbackNamesADeploymentOnlyWhenTheHashEndsTheReplicaSetsName() {
    assertThat(OwnerResolver.fallback(RS, "7d9f"))
        .containsExactly(RS, new Container.Owner("Deployment", "web"));
    assertThat(OwnerResolver.fallback(RS, "")).containsExactly(RS);
    assertThat(OwnerResolver.fallback(RS, "abc")).containsExactly(RS);
    assertThat(OwnerResolver.fallback(new Container.Owner("ReplicaSet", "-7d9f"), "7d9f"))
        .hasSize(1);
    assertThat(OwnerResolver.fallback(new Container.Owner("Job", "web-7d9f"), "7d9f")).hasSize(1);
  }
}
