package io.gadgetexporter.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.agent.Agent;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A snapshot gadget's rows through the agent's outputs: an interval's rows are events (a counter's
 * increase per interval is the number of rows), a snapshot asked for over HTTP is not (looking
 * must not add a snapshot to the counters).
 */
class SnapshotExportTest {
  @Test
  void aSnapshotOnDemandLeavesTheCountersAloneWhileAnIntervalsRowsAreCounted() throws Exception {
    String yaml =
        """
        http:
          listen: 127.0.0.1:0
        gadgets:
          - name: looked-at
            gadget: snapshot_process
            metrics:
              - name: looked.rows
                description: Process rows by state.
                unit: "{process}"
                labels: [state]
          - name: every
            gadget: snapshot_process
            params:
              interval: 100ms
            metrics:
              - name: every.rows
                description: Process rows by state.
                unit: "{process}"
                labels: [state]
        """;
    try (Agent agent =
        Agent.start(
            ConfigLoader.parse(yaml, "agent.yaml", Map.of()),
            GadgetCatalog.builtIn(),
            EventSink.NONE)) {
      int port = agent.httpPort();
      JsonObject taken =
          new JsonObject(AgentHttp.get(port, "/api/v1/gadgets/looked-at/snapshot?limit=1"));
      assertThat(taken.getLong("rows_total")).isGreaterThan(10);
      assertThat(taken.getJsonArray("rows")).hasSize(1);

      // The interval's rows reach the counter (so the config's metric works for these rows)...
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      String scrape;
      do {
        scrape = AgentHttp.get(port, "/metrics");
        Thread.sleep(20);
      } while (!(AgentHttp.sum(scrape, "every_rows_total") > 10)
          && System.nanoTime() < deadline);
      assertThat(AgentHttp.sum(scrape, "every_rows_total")).isGreaterThan(10);
      assertThat(AgentHttp.sum(scrape, "gadget_events_total", "gadget_instance=\"every\""))
          .isGreaterThan(10);
      // ... and the request's did not.
      assertThat(zeroIfAbsent(AgentHttp.sum(scrape, "looked_rows_total"))).isZero();
      assertThat(
              zeroIfAbsent(
                  AgentHttp.sum(scrape, "gadget_events_total", "gadget_instance=\"looked-at\"")))
          .isZero();
      JsonObject lookedAt = new JsonObject(AgentHttp.get(port, "/api/v1/gadgets/looked-at"));
      assertThat(lookedAt.getLong("events")).isZero();
      assertThat(lookedAt.getJsonObject("snapshot").getLong("taken")).isEqualTo(1);
    }
  }

  private static double zeroIfAbsent(double v) {
    return Double.isNaN(v) ? 0 : v;
  }
}
