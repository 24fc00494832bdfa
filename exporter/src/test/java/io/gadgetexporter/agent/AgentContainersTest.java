package io.gadgetexporter.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.container.testing.Runc;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent as a whole: its HTTP server lists the containers and exports their metrics. */
class AgentContainersTest {
  @TempDir Path tmp;

  private static String get(int port, String path) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET " + path + ": " + r.body()).isEqualTo(200);
    return r.body();
  }

  @Test
  void apiListsTheContainersAndMetricsCountThem() throws Exception {
    try (Runc runc = Runc.open()) {
      Runc.Bundle b =
          runc.bundle(
              tmp.resolve("api"),
              List.of("sleep", "30"),
              Map.of(
                  "io.kubernetes.cri.sandbox-name", "web-1",
                  "io.kubernetes.cri.sandbox-namespace", "shop",
                  "io.kubernetes.cri.sandbox-uid", "uid-1",
                  "io.kubernetes.cri.container-name", "app"));
      String yaml =
          "http:\n  listen: 127.0.0.1:0\n"
              + "containers:\n  runtime_state_dirs: ["
              + runc.root()
              + "]\n"
              + "gadgets:\n  - name: shop-exec\n    gadget: trace_exec\n"
              + "    selector:\n      namespaces: [shop]\n";
      AgentConfig config = ConfigLoader.parse(yaml, "agent.yaml", Map.of());
      try (Agent agent = Agent.start(config, GadgetCatalog.builtIn(), EventSink.NONE)) {
        long pid = runc.create("gx-api", b);
        runc.start("gx-api");

        JsonObject body = new JsonObject(get(agent.httpPort(), "/api/v1/containers"));
        JsonObject c =
            body.getJsonArray("containers").stream()
                .map(JsonObject.class::cast)
                .filter(o -> o.getString("id").equals("gx-api"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("gx-api not listed: " + body));
        assertThat(c.getLong("pid")).isEqualTo(pid);
        assertThat(c.getString("name")).isEqualTo("app");
        assertThat(c.getString("runtime")).isEqualTo("runc");
        assertThat(c.getString("source")).isEqualTo("runtime_hook");
        assertThat(c.getLong("mntns_id")).isPositive();
        assertThat(c.getJsonObject("pod").getString("namespace")).isEqualTo("shop");
        assertThat(c.getJsonObject("pod").getString("name")).isEqualTo("web-1");
        assertThat(body.getJsonArray("exited")).isInstanceOf(JsonArray.class);

        String metrics = get(agent.httpPort(), "/metrics");
        assertThat(metrics)
            .contains("gadget_containers{state=\"running\"}")
            .contains("gadget_filter_map_entries{gadget_instance=\"shop-exec\",gadget_name=\"trace_exec\"} 1")
            .contains("gadget_events_filtered_total{gadget_instance=\"shop-exec\",gadget_name=\"trace_exec\"}")
            .contains("gadget_container_discovered_total{source=\"runtime_hook\"} 1")
            .contains("gadget_container_enrichment_misses_total{reason=\"unknown\"}");
      }
    }
  }
}
