package io.gadgetexporter.agent;

import static io.gadgetexporter.kubernetes.testing.Pods.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gadgetexporter.columns.EventJson;
import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.container.testing.Runc;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.kubernetes.testing.MockApiServer;
import io.gadgetexporter.kubernetes.testing.Pods;
import io.gadgetexporter.kubernetes.trace.Trace;
import io.gadgetexporter.kubernetes.trace.TraceNodeStatus;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent with the Kubernetes API on, against fabric8's mock API server and real runc
 * containers: events carry the pod's metadata from the API, a selector on a label the API gives
 * follows it, and an API server that is absent at start never stops tracing.
 */
class AgentKubernetesTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final List<String> LOOP =
      List.of("sh", "-c", "while true; do /bin/true; sleep 0.1; done");

  @TempDir Path tmp;

  /** Every event as its JSON line (the form of the JSON output and the live stream). */
  private static final class JsonEvents implements EventSink {
    final List<JsonObject> events = new CopyOnWriteArrayList<>();

    @Override
    public void accept(GadgetInstance instance, EventView event) {
      events.add(new JsonObject(EventJson.append(new StringBuilder(), instance, event).toString()));
    }

    JsonObject await(String what, Predicate<JsonObject> test) throws InterruptedException {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (System.nanoTime() < deadline) {
        for (JsonObject e : events) {
          if (test.test(e)) {
            return e;
          }
        }
        Thread.sleep(50);
      }
      throw new AssertionError("no event " + what + " in " + events.size() + " events; last: "
          + (events.isEmpty() ? "none" : events.get(events.size() - 1)));
    }
  }

  private static HttpResponse<String> http(int port, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static void await(String what, ThrowingCondition c) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!c.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  private interface ThrowingCondition {
    boolean holds() throws Exception;
  }

  private static void createPod(KubernetesClient client, Pod pod) {
    Pod created = client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
    pod.getMetadata().setResourceVersion(created.getMetadata().getResourceVersion());
    client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).updateStatus();
  }

  private String config(Runc runc, Path kubeconfig, String more) {
    return "http:\n  listen: 127.0.0.1:0\n"
        + "containers:\n  runtime_state_dirs: ["
        + runc.root()
        + "]\n"
        + "kubernetes:\n  enabled: true\n  kubeconfig: "
        + kubeconfig
        + "\n  node_name: node-a\n"
        + more;
  }

  /**
   * The agent's own wiring: `kubernetes.enabled` with the default `traces: true` runs the Trace
   * controller on the agent's client and node name, and a Trace created in the API becomes an
   * instance of this agent, reported in its status, /readyz and /metrics.
   */
  @Test
  void aTraceCreatedInTheApiRunsInTheAgentStartedFromItsConfig() throws Exception {
    try (MockApiServer server = MockApiServer.start()) {
      KubernetesClient client = server.client();
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .load(Path.of("../charts/gadget-exporter/crds/traces.gadgetexporter.io.yaml").toFile())
          .create();
      client
          .nodes()
          .resource(
              new NodeBuilder()
                  .withNewMetadata()
                  .withName("node-a")
                  .addToLabels("pool", "tracing")
                  .endMetadata()
                  .build())
          .create();
      String yaml =
          "http:\n  listen: 127.0.0.1:0\ncontainers:\n  enabled: false\n"
              + "kubernetes:\n  enabled: true\n  kubeconfig: "
              + server.writeKubeconfig(tmp.resolve("kubeconfig"))
              + "\n  node_name: node-a\n  trace_status_interval: 1s\n"
              + "gadgets:\n  - name: exec\n    gadget: trace_exec\n";
      AgentConfig config = ConfigLoader.parse(yaml, tmp.resolve("agent.yaml").toString(), Map.of());
      try (Agent agent = Agent.start(config, GadgetCatalog.builtIn(), EventSink.NONE)) {
        int port = agent.httpPort();
        client
            .resources(Trace.class)
            .resource(
                Serialization.unmarshal(
                    "apiVersion: gadgetexporter.io/v1alpha1\nkind: Trace\nmetadata:\n"
                        + "  name: opens\nspec:\n  nodeSelector:\n"
                        + "    matchLabels: {pool: tracing}\n  gadget: trace_open\n",
                    Trace.class))
            .create();
        await("the Trace's instance", () -> agent.instance("trace/opens").isPresent());
        assertThat(agent.instance("trace/opens").orElseThrow().state())
            .isEqualTo(GadgetInstance.State.RUNNING);
        await(
            "its status on node-a counts events",
            () -> {
              Trace t = client.resources(Trace.class).withName("opens").get();
              TraceNodeStatus s =
                  t.getStatus() == null ? null : t.getStatus().getNodes().get("node-a");
              return s != null && "Running".equals(s.getState()) && s.getEvents() > 0;
            });
        assertThat(http(port, "/readyz").body()).contains("opens=running");
        assertThat(http(port, "/metrics").body()).contains("gadget_traces{state=\"running\"} 1");

        client.resources(Trace.class).withName("opens").delete();
        await("detached", () -> agent.instance("trace/opens").isEmpty());
        assertThat(agent.instance("exec").orElseThrow().state())
            .isEqualTo(GadgetInstance.State.RUNNING);
        server.close(); // before the agent's client (see MockApiServer.close)
      }
    }
  }

  @Test
  void eventsCarryThePodsMetadataFromTheApiAndALabelSelectorFollowsIt() throws Exception {
    try (Runc runc = Runc.open();
        MockApiServer server = MockApiServer.start()) {
      KubernetesClient client = server.client();
      String rsUid =
          client
              .apps()
              .replicaSets()
              .inNamespace("shop")
              .resource(
                  new ReplicaSetBuilder()
                      .withNewMetadata()
                      .withName("web-7d9f")
                      .withNamespace("shop")
                      .withOwnerReferences(Pods.controller("Deployment", "web", "deploy-uid"))
                      .endMetadata()
                      .build())
              .create()
              .getMetadata()
              .getUid();
      String yaml =
          config(
              runc,
              server.writeKubeconfig(tmp.resolve("kubeconfig")),
              "metrics:\n  container_labels: [k8s.namespace.name, k8s.deployment.name]\n"
                  + "gadgets:\n  - name: web-exec\n    gadget: trace_exec\n"
                  + "    selector:\n      labels: {app: web}\n");
      AgentConfig config = ConfigLoader.parse(yaml, tmp.resolve("agent.yaml").toString(), Map.of());
      JsonEvents sink = new JsonEvents();
      try (Agent agent = Agent.start(config, GadgetCatalog.builtIn(), sink)) {
        int port = agent.httpPort();
        await("ready", () -> http(port, "/readyz").statusCode() == 200);
        // A container without annotations, started before its pod is in the API: the selector
        // cannot name it yet, and its id in the pod's status is all that ties them.
        runc.create("gx-k8s-web", runc.bundle(tmp.resolve("web"), LOOP, Map.of()));
        runc.start("gx-k8s-web");
        Thread.sleep(500);
        assertThat(sink.events).as("not selected before its labels are known").isEmpty();

        createPod(
            client,
            pod("shop", "web-7d9f-abcde")
                .label("app", "web")
                .label("team", "payments")
                .label("pod-template-hash", "7d9f")
                .ownedBy("ReplicaSet", "web-7d9f", rsUid)
                .container("app", "gx-k8s-web", "registry.example/web:1.0")
                .build());

        JsonObject e =
            sink.await(
                "with the pod's Deployment",
                j -> "gx-k8s-web".equals(j.getString("container.id")) && j.containsKey("k8s.deployment.name"));
        assertThat(e.getString("k8s.namespace.name")).isEqualTo("shop");
        assertThat(e.getString("k8s.pod.name")).isEqualTo("web-7d9f-abcde");
        assertThat(e.getString("k8s.pod.uid")).isNotEmpty();
        assertThat(e.getString("k8s.container.name")).isEqualTo("app");
        assertThat(e.getString("container.name")).isEqualTo("app");
        assertThat(e.getString("container.image.name")).isEqualTo("registry.example/web:1.0");
        assertThat(e.getString("k8s.node.name")).isEqualTo("node-a");
        assertThat(e.getString("k8s.replicaset.name")).isEqualTo("web-7d9f");
        assertThat(e.getString("k8s.deployment.name")).isEqualTo("web");
        assertThat(e.getString("k8s.pod.label.app")).isEqualTo("web");
        assertThat(e.fieldNames())
            .as("labels the allow-list does not name stay in")
            .doesNotContain("k8s.pod.label.team", "k8s.pod.label.pod-template-hash");
        assertThat(sink.events)
            .as("the selector lets only the web pod's container through")
            .allSatisfy(j -> assertThat(j.getString("container.id")).isEqualTo("gx-k8s-web"));

        JsonObject c =
            new JsonObject(http(port, "/api/v1/containers").body())
                .getJsonArray("containers").stream()
                .map(JsonObject.class::cast)
                .filter(o -> o.getString("id").equals("gx-k8s-web"))
                .findFirst()
                .orElseThrow();
        JsonObject p = c.getJsonObject("pod");
        assertThat(p.getString("metadata")).isEqualTo("api");
        assertThat(p.getString("node")).isEqualTo("node-a");
        assertThat(p.getJsonObject("labels").getString("team")).isEqualTo("payments");
        assertThat(p.getJsonObject("attributes").getMap())
            .containsEntry("k8s.deployment.name", "web")
            .containsEntry("k8s.pod.label.app", "web")
            .doesNotContainKey("k8s.pod.label.team");

        JsonObject ready = new JsonObject(http(port, "/readyz").body());
        assertThat(ready.getJsonObject("detail").getString("kubernetes"))
            .isEqualTo("synced (1 pods of node node-a)");
        String metrics = http(port, "/metrics").body();
        assertThat(metrics)
            .contains("gadget_kubernetes_api_up 1")
            .contains("gadget_kubernetes_pods 1")
            .contains("gadget_kubernetes_owner_lookups_total{kind=\"ReplicaSet\",outcome=\"found\"} 1")
            .contains("gadget_kubernetes_containers{metadata=\"api\"} 1")
            .containsPattern(
                "gadget_events_total\\{gadget_instance=\"web-exec\",gadget_name=\"trace_exec\","
                    + "k8s_deployment_name=\"web\",k8s_namespace_name=\"shop\"} [1-9]");
        server.close(); // before the agent's client (see MockApiServer.close)
      }
    }
  }

  @Test
  void anApiServerAbsentAtStartNeverStopsTracingAndEnrichmentComesWhenItAnswers() throws Exception {
    int port = MockApiServer.freePort();
    Path kubeconfig = MockApiServer.writeKubeconfig(tmp.resolve("kubeconfig"), port);
    try (Runc runc = Runc.open()) {
      String yaml =
          config(runc, kubeconfig, "  sync_timeout: 2s\n")
              + "gadgets:\n  - name: shop-exec\n    gadget: trace_exec\n"
              + "    selector:\n      namespaces: [shop]\n";
      AgentConfig config = ConfigLoader.parse(yaml, tmp.resolve("agent.yaml").toString(), Map.of());
      JsonEvents sink = new JsonEvents();
      try (Agent agent = Agent.start(config, GadgetCatalog.builtIn(), sink)) {
        int http = agent.httpPort();
        HttpResponse<String> r = http(http, "/readyz");
        if (r.statusCode() == 503) {
          assertThat(new JsonObject(r.body()).getJsonObject("detail").getString("kubernetes"))
              .startsWith("waiting for the first sync of node node-a's pods");
        }
        await("ready after sync_timeout", () -> http(http, "/readyz").statusCode() == 200);
        assertThat(new JsonObject(http(http, "/readyz").body()).getJsonObject("detail").getString("kubernetes"))
            .startsWith("not synced after 2s; API unreachable since")
            .endsWith("enrichment from runtime annotations only");

        runc.create(
            "gx-k8s-late",
            runc.bundle(
                tmp.resolve("late"),
                LOOP,
                Map.of(
                    "io.kubernetes.cri.sandbox-name", "web-1",
                    "io.kubernetes.cri.sandbox-namespace", "shop",
                    "io.kubernetes.cri.sandbox-uid", "uid-unknown-to-the-mock",
                    "io.kubernetes.cri.container-name", "app")));
        runc.start("gx-k8s-late");
        JsonObject before =
            sink.await("traced from annotations", j -> "gx-k8s-late".equals(j.getString("container.id")));
        assertThat(before.getString("k8s.pod.name")).isEqualTo("web-1");
        assertThat(before.containsKey("k8s.pod.label.app")).isFalse();
        assertThat(http(http, "/metrics").body()).contains("gadget_kubernetes_api_up 0");

        try (MockApiServer server = MockApiServer.start(port)) {
          createPod(
              server.client(),
              pod("shop", "web-1").label("app", "web").container("app", "gx-k8s-late", "web:1").build());
          JsonObject after =
              sink.await(
                  "enriched from the API", j -> "web".equals(j.getString("k8s.pod.label.app")));
          assertThat(after.getString("container.id")).isEqualTo("gx-k8s-late");
          assertThat(after.getString("k8s.node.name")).isEqualTo("node-a");
          await(
              "readiness says synced",
              () ->
                  new JsonObject(http(http, "/readyz").body())
                      .getJsonObject("detail")
                      .getString("kubernetes")
                      .startsWith("synced"));
          assertThat(http(http, "/metrics").body()).contains("gadget_kubernetes_api_up 1");
        }
      }
    }
  }
}
