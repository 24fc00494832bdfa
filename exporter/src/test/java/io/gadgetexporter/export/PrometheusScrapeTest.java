package io.gadgetexporter.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.agent.Agent;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.container.testing.Runc;
import io.gadgetexporter.export.testing.PrometheusServer;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus server (Debian's) scrapes the agent while a runc container runs a known number
 * of programs: the PromQL a user would write for that container returns that number.
 */
class PrometheusScrapeTest {
  @TempDir Path tmp;

  @Test
  void promqlByContainerCountsItsExecs() throws Exception {
    try (Runc runc = Runc.open()) {
      String yaml =
          """
          http:
            listen: 127.0.0.1:0
          containers:
            runtime_state_dirs: [%s]
          gadgets:
            - name: exec
              gadget: trace_exec
              metrics:
                - name: process.execs
                  description: Programs executed, by name.
                  labels: [comm]
          """
              .formatted(runc.root());
      try (Agent agent =
              Agent.start(
                  ConfigLoader.parse(yaml, "agent.yaml", Map.of()),
                  GadgetCatalog.builtIn(),
                  EventSink.NONE);
          PrometheusServer prometheus =
              PrometheusServer.scraping("127.0.0.1:" + agent.httpPort()).start()) {
        // The container's own exec of sh, then five of /bin/true: six programs. Created, then
        // started, as containerd does: the runtime hook holds `runc start` until the container is
        // known, so every exec is attributed. (`runc run` is not held; a container this short
        // could be gone before the agent has seen it.)
        runc.runShortLived(
            "gx-prom",
            tmp.resolve("prom"),
            List.of("sh", "-c", "for i in 1 2 3 4 5; do /bin/true; done"));

        List<PrometheusServer.Sample> events =
            prometheus.awaitQuery(
                "sum(gadget_events_total{container_name=\"gx-prom\"})",
                r -> !r.isEmpty() && r.get(0).value() == 6,
                Duration.ofSeconds(60));
        assertThat(events.get(0).value()).isEqualTo(6);
        List<PrometheusServer.Sample> byProgram =
            prometheus.awaitQuery(
                "sum by (process_executable_name) (process_execs_total{container_name=\"gx-prom\"})",
                r -> r.size() == 2,
                Duration.ofSeconds(30));
        assertThat(byProgram)
            .extracting(s -> s.labels().get("process_executable_name") + "=" + (long) s.value())
            .containsExactlyInAnyOrder("sh=1", "true=5");
        // What Prometheus stores about the agent itself: its resource as target_info.
        assertThat(prometheus.query("target_info{service_name=\"gadget-exporter\"}")).hasSize(1);
      }
    }
  }
}
