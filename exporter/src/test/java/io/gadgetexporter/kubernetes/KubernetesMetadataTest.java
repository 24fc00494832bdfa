package io.gadgetexporter.kubernetes;

import static io.gadgetexporter.kubernetes.testing.Pods.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodListBuilder;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.gadgetexporter.config.KubernetesConfig;
import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.kubernetes.testing.MockApiServer;
import io.gadgetexporter.kubernetes.testing.Pods;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pod informer, index and owners against fabric8's mock API server: what the collection shows
 * follows the pods as they are added, changed and deleted.
 */
class KubernetesMetadataTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path tmp;
  private final ContainerCollection collection = new ContainerCollection(0, System::nanoTime);
  private final InMemoryMetricReader metrics = InMemoryMetricReader.create();
  private final SdkMeterProvider meters = SdkMeterProvider.builder().registerMetricReader(metrics).build();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeEach
  void host() {
    collection.setHost(1, 2);
  }

  @AfterEach
  void close() throws Exception {
    // Servers first: the mock server's watch handler blocks its event loop for seconds when a
    // client closes the watch, and then fails to shut down in time.
    for (AutoCloseable c : closing) {
      c.close();
    }
    meters.close();
  }

  private MockApiServer server() {
    MockApiServer s = MockApiServer.start();
    closing.add(s);
    return s;
  }

  private KubernetesMetadata start(
      Path kubeconfig, Duration syncTimeout, List<String> labels, List<String> annotations) {
    KubernetesConfig config =
        new KubernetesConfig(
            KubernetesConfig.Mode.TRUE,
            true,
            "kubernetes.enabled is true",
            Optional.of(kubeconfig),
            Optional.of("node-a"),
            syncTimeout,
            labels,
            annotations,
            true,
            Duration.ofSeconds(30));
    KubernetesMetadata k =
        KubernetesMetadata.start(config, collection, meters.get("test")).orElseThrow();
    closing.add(k);
    return k;
  }

  private KubernetesMetadata start(MockApiServer server) {
    return start(
        server.writeKubeconfig(tmp.resolve("kubeconfig")),
        Duration.ofSeconds(30),
        KubernetesConfig.DEFAULT_POD_LABELS,
        List.of());
  }

  /** A pod as the kubelet leaves it: created, then its status written. */
  private static Pod apply(KubernetesClient client, Pod pod) {
    var r = client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod);
    Pod created = r.createOr(existing -> existing.update());
    if (pod.getStatus() != null) {
      pod.getMetadata().setResourceVersion(created.getMetadata().getResourceVersion());
      client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).updateStatus();
    }
    return client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).get();
  }

  static Container runtimeContainer(String id, long mntns, Optional<Container.Pod> pod) {
    return new Container(
        Container.Kind.CONTAINER, id, pod.map(Container.Pod::containerName).orElse(id), "runc",
        100, mntns, 0, 0, "/" + id, Optional.empty(), Optional.empty(), pod, false,
        Container.Source.RUNTIME_HOOK);
  }

  private Container.Pod podOf(String id) {
    return collection.get(id).orElseThrow().pod().orElse(null);
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  /** The sum of a metric's points with that attribute value (all points: null), -1 if absent. */
  private long metric(String name, String attribute, String value) {
    Collection<MetricData> all = metrics.collectAllMetrics();
    for (MetricData m : all) {
      if (!m.getName().equals(name)) {
        continue;
      }
      Collection<LongPointData> points =
          m.getType() == io.opentelemetry.sdk.metrics.data.MetricDataType.LONG_SUM
              ? m.getLongSumData().getPoints()
              : m.getLongGaugeData().getPoints();
      long sum = 0;
      for (LongPointData p : points) {
        if (attribute == null
            || value.equals(p.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey(attribute)))) {
          sum += p.getValue();
        }
      }
      return sum;
    }
    return -1;
  }

  @Test
  void podsAddedUpdatedAndDeletedAreFollowedAndSelectorListenersHearTheChange() throws Exception {
    MockApiServer server = server();
    KubernetesClient client = server.client();
    collection.add(runtimeContainer("c1", 11, Optional.empty()));
    collection.add(runtimeContainer("c2", 12, Optional.empty()));
    List<String> heard = new CopyOnWriteArrayList<>();
    collection.subscribe(
        new ContainerCollection.Listener() {
          @Override
          public void added(Container c) {
            heard.add("+" + c.id());
          }

          @Override
          public void removed(Container c) {
            heard.add("-" + c.id());
          }

          @Override
          public void changed(Container before, Container after) {
            heard.add("~" + after.id() + " " + after.pod().map(p -> p.labels().get("app")).orElse("-"));
          }
        });
    String uid =
        apply(client, pod("shop", "web-1").label("app", "web").container("app", "c1", "nginx:1.27").build())
            .getMetadata()
            .getUid();
    // Another node's pod, which a real API server would not send: the agent checks spec.nodeName.
    apply(client, pod("shop", "other").node("node-b").container("app", "c2", "nginx").build());

    KubernetesMetadata k = start(server);
    await("c1 enriched", () -> podOf("c1") != null);

    Container c1 = collection.get("c1").orElseThrow();
    Container.Pod p = c1.pod().orElseThrow();
    assertThat(p.namespace()).isEqualTo("shop");
    assertThat(p.name()).isEqualTo("web-1");
    assertThat(p.uid()).isEqualTo(uid);
    assertThat(p.containerName()).isEqualTo("app");
    assertThat(p.nodeName()).isEqualTo("node-a");
    assertThat(p.fromApi()).isTrue();
    assertThat(c1.name()).as("named as in the pod spec").isEqualTo("app");
    assertThat(c1.image()).contains("nginx:1.27");
    assertThat(collection.resolve(11, 0, 0)).isSameAs(c1);
    await("synced", () -> k.readiness().ready());
    assertThat(k.readiness()).isEqualTo(new KubernetesMetadata.Readiness(true, "synced (1 pods of node node-a)"));
    assertThat(podOf("c2")).as("a pod of another node").isNull();
    assertThat(server.requests())
        .anyMatch(r -> r.startsWith("GET /api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a"))
        .allMatch(r -> !r.startsWith("GET /api/v1/pods") || r.contains("fieldSelector=spec.nodeName%3Dnode-a"));

    apply(client, pod("shop", "web-1").label("app", "web-v2").container("app", "c1", "nginx:1.27").build());
    await("new label", () -> "web-v2".equals(podOf("c1").labels().get("app")));
    assertThat(heard).containsExactly("~c1 web", "~c1 web-v2");

    client.pods().inNamespace("shop").withName("web-1").delete();
    await("c1 back to what the runtime said", () -> podOf("c1") == null);
    assertThat(heard).last().isEqualTo("~c1 -");
    assertThat(k.pods()).isZero();
    assertThat(metric("gadget.kubernetes.api.up", null, null)).isEqualTo(1);
    assertThat(metric("gadget.kubernetes.containers", "metadata", "none")).isEqualTo(2);
  }

  @Test
  void aContainerTheStatusDoesNotListYetIsMatchedByThePodUidOfItsAnnotations() throws Exception {
    MockApiServer server = server();
    // The mock server gives each object a uid of its own.
    String uid = apply(server.client(), pod("shop", "web-1").label("app", "web").build()).getMetadata().getUid();
    Container.Pod annotated = new Container.Pod("shop", "web-1", uid, "sidecar", Map.of());
    collection.add(runtimeContainer("c1", 11, Optional.of(annotated)));
    // Same name, another uid: an earlier pod's container, not this pod's.
    collection.add(
        runtimeContainer("c0", 10, Optional.of(new Container.Pod("shop", "web-1", "u-0", "app", Map.of()))));
    start(server);

    await("c1 enriched", () -> podOf("c1").fromApi());
    assertThat(podOf("c1").containerName()).isEqualTo("sidecar");
    assertThat(podOf("c1").labels()).containsEntry("app", "web");
    assertThat(podOf("c0").fromApi()).isFalse();
    assertThat(metric("gadget.kubernetes.containers", "metadata", "api")).isEqualTo(1);
    assertThat(metric("gadget.kubernetes.containers", "metadata", "annotations")).isEqualTo(1);
  }

  @Test
  void onlyTheLabelsAndAnnotationsTheConfigAllowsAreExported() throws Exception {
    MockApiServer server = server();
    apply(
        server.client(),
        pod("shop", "web-1")
            .label("app.kubernetes.io/name", "shop")
            .label("team", "payments")
            .label("pod-template-hash", "7d9f")
            .annotation("example.com/owner", "alice")
            .annotation("kubectl.kubernetes.io/last-applied-configuration", "{...}")
            .container("app", "c1", "nginx")
            .build());
    collection.add(runtimeContainer("c1", 11, Optional.empty()));
    start(
        server.writeKubeconfig(tmp.resolve("kubeconfig")),
        Duration.ofSeconds(30),
        KubernetesConfig.DEFAULT_POD_LABELS,
        List.of("example.com/*"));

    await("c1 enriched", () -> podOf("c1") != null);
    Container.Pod p = podOf("c1");
    assertThat(p.exportedLabels()).containsExactly(Map.entry("app.kubernetes.io/name", "shop"));
    assertThat(p.exportedAnnotations()).containsExactly(Map.entry("example.com/owner", "alice"));
    assertThat(p.labels()).as("every label, for selectors").containsEntry("team", "payments").hasSize(3);
  }

  @Test
  void ownersAreResolvedThroughReplicaSetToDeploymentAndJobToCronJob() throws Exception {
    MockApiServer server = server();
    KubernetesClient client = server.client();
    String rsUid = client.apps().replicaSets().inNamespace("shop").resource(
            new ReplicaSetBuilder()
                .withNewMetadata()
                .withName("web-7d9f")
                .withNamespace("shop")
                .withOwnerReferences(Pods.controller("Deployment", "web", "deploy-uid"))
                .endMetadata()
                .withNewSpec()
                .withNewSelector()
                .addToMatchLabels("app", "web")
                .endSelector()
                .endSpec()
                .build())
        .create()
        .getMetadata()
        .getUid();
    String jobUid = client.batch().v1().jobs().inNamespace("ops").resource(
            new JobBuilder()
                .withNewMetadata()
                .withName("backup-2890")
                .withNamespace("ops")
                .withOwnerReferences(Pods.controller("CronJob", "backup", "cron-uid"))
                .endMetadata()
                .build())
        .create()
        .getMetadata()
        .getUid();
    apply(client, pod("shop", "web-7d9f-abcde").ownedBy("ReplicaSet", "web-7d9f", rsUid).container("app", "c1", "nginx").build());
    apply(client, pod("ops", "backup-2890-x").ownedBy("Job", "backup-2890", jobUid).container("job", "c2", "busybox").build());
    apply(client, pod("db", "pg-0").ownedBy("StatefulSet", "pg", "sts-uid").container("pg", "c3", "postgres").build());
    apply(client, pod("shop", "orphan-x").ownedBy("ReplicaSet", "gone-1", "gone-uid").container("app", "c4", "nginx").build());
    collection.add(runtimeContainer("c1", 11, Optional.empty()));
    collection.add(runtimeContainer("c2", 12, Optional.empty()));
    collection.add(runtimeContainer("c3", 13, Optional.empty()));
    collection.add(runtimeContainer("c4", 14, Optional.empty()));
    start(server);

    await("deployment", () -> podOf("c1") != null && podOf("c1").owner("Deployment").isPresent());
    await("cronjob", () -> podOf("c2") != null && podOf("c2").owner("CronJob").isPresent());
    await("statefulset", () -> podOf("c3") != null);
    await("replicaset gone: looked up", () -> metric("gadget.kubernetes.owner.lookups", "outcome", "not_found") == 1);
    assertThat(podOf("c1").owners())
        .containsExactly(new Container.Owner("ReplicaSet", "web-7d9f"), new Container.Owner("Deployment", "web"));
    assertThat(podOf("c2").owners())
        .containsExactly(new Container.Owner("Job", "backup-2890"), new Container.Owner("CronJob", "backup"));
    assertThat(podOf("c3").owners()).containsExactly(new Container.Owner("StatefulSet", "pg"));
    assertThat(podOf("c4").owners()).containsExactly(new Container.Owner("ReplicaSet", "gone-1"));
    assertThat(metric("gadget.kubernetes.owner.lookups", "outcome", "found")).isEqualTo(2);
    long gets = server.requests().stream().filter(r -> r.startsWith("GET /apis/apps/v1/namespaces/shop/replicasets/web-7d9f")).count();
    assertThat(gets).as("one lookup, cached").isEqualTo(1);
  }

  @Test
  void theApiAbsentAtStartLeavesReadinessWaitingThenDegradedThenSyncedOnceItAnswers() throws Exception {
    int port = MockApiServer.freePort();
    Path kubeconfig = MockApiServer.writeKubeconfig(tmp.resolve("kubeconfig"), port);
    Container.Pod annotated = new Container.Pod("shop", "web-1", "uid-web-1", "app", Map.of());
    collection.add(runtimeContainer("c1", 11, Optional.of(annotated)));
    KubernetesMetadata k = start(kubeconfig, Duration.ofSeconds(2), List.of("app"), List.of());

    assertThat(k.readiness().ready()).isFalse();
    assertThat(k.readiness().detail()).startsWith("waiting for the first sync of node node-a's pods");
    await("readiness after the sync timeout", () -> k.readiness().ready());
    assertThat(k.readiness().detail())
        .startsWith("not synced after 2s; API unreachable since ")
        .endsWith(": enrichment from runtime annotations only");
    assertThat(podOf("c1")).isEqualTo(annotated);
    assertThat(metric("gadget.kubernetes.api.up", null, null)).isZero();
    assertThat(metric("gadget.kubernetes.api.errors", null, null)).isPositive();

    try (MockApiServer server = MockApiServer.start(port)) {
      apply(server.client(), pod("shop", "web-1").label("app", "web").container("app", "c1", "nginx").build());
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!podOf("c1").fromApi() && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(podOf("c1").fromApi()).as("enriched once the API answers").isTrue();
      assertThat(podOf("c1").exportedLabels()).containsEntry("app", "web");
      await("synced", () -> k.readiness().detail().startsWith("synced"));
      assertThat(metric("gadget.kubernetes.api.up", null, null)).isEqualTo(1);
    }
  }

  /**
   * The exact request the informer makes, answered by the mock server's expectations mode (its
   * CRUD mode does not evaluate field selectors): were the selector missing or different, nothing
   * would answer and no container would be enriched.
   */
  @Test
  void theInformerListsAndWatchesOnlyThisNodesPods() throws Exception {
    KubernetesMockServer server = new KubernetesMockServer(false);
    server.start(java.net.InetAddress.getLoopbackAddress(), 0);
    closing.add(server::destroy);
    Pod listed = pod("shop", "web-1").container("app", "c1", "nginx").build();
    listed.getMetadata().setResourceVersion("1");
    Pod watched = pod("shop", "web-2").container("app", "c2", "nginx").build();
    watched.getMetadata().setResourceVersion("2");
    server
        .expect()
        .get()
        .withPath("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a&resourceVersion=0")
        .andReturn(
            200,
            new PodListBuilder().withNewMetadata().withResourceVersion("1").endMetadata().withItems(listed).build())
        .once();
    server
        .expect()
        .get()
        .withPath(
            "/api/v1/pods?allowWatchBookmarks=true&fieldSelector=spec.nodeName%3Dnode-a"
                + "&resourceVersion=1&timeoutSeconds=600&watch=true")
        .andUpgradeToWebSocket()
        .open()
        .waitFor(100)
        .andEmit(new WatchEvent(watched, "ADDED"))
        .done()
        .always();
    collection.add(runtimeContainer("c1", 11, Optional.empty()));
    collection.add(runtimeContainer("c2", 12, Optional.empty()));
    start(
        MockApiServer.writeKubeconfig(tmp.resolve("kubeconfig"), server.getPort()),
        Duration.ofSeconds(30),
        List.of(),
        List.of());

    await("c1 from the list", () -> podOf("c1") != null);
    await("c2 from the watch", () -> podOf("c2") != null);
    assertThat(podOf("c2").name()).isEqualTo("web-2");
  }

  @Test
  void anApiThatGoesAwayAfterTheSyncIsShownAndFollowedAgainWhenItComesBack() throws Exception {
    int port = MockApiServer.freePort();
    Path kubeconfig = MockApiServer.writeKubeconfig(tmp.resolve("kubeconfig"), port);
    collection.add(runtimeContainer("c1", 11, Optional.empty()));
    collection.add(runtimeContainer("c2", 12, Optional.empty()));
    KubernetesMetadata k;
    try (MockApiServer first = MockApiServer.start(port)) {
      apply(first.client(), pod("shop", "web-1").container("app", "c1", "nginx").build());
      k = start(kubeconfig, Duration.ofSeconds(30), List.of(), List.of());
      await("synced", () -> k.apiUp() && podOf("c1") != null);
    }

    await("unreachable shown", () -> k.readiness().detail().startsWith("API unreachable since"));
    assertThat(k.readiness().ready()).as("tracing goes on: still ready").isTrue();
    assertThat(k.readiness().detail())
        .endsWith(": pod metadata as last synced, new pods from runtime annotations only");
    assertThat(k.apiUp()).isFalse();
    assertThat(podOf("c1")).as("kept as last synced").isNotNull();

    try (MockApiServer second = MockApiServer.start(port)) {
      apply(second.client(), pod("shop", "web-2").container("app", "c2", "nginx").build());
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (podOf("c2") == null && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(podOf("c2")).as("a pod created once the API came back").isNotNull();
      // The watch resumed where it was (a real API server keeps its pods; this one forgot
      // web-1 but sends no deletion without a relist): web-1 stays as last synced.
      assertThat(podOf("c1")).isNotNull();
      await("up again", k::apiUp);
      assertThat(k.readiness().detail()).isEqualTo("synced (2 pods of node node-a)");
    }
  }
}
