package io.gadgetexporter.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.agent.Agent;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.container.testing.Runc;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thousand short-lived containers, each its own pod, each with its own series: the series of the
 * ones that are gone are removed, so the count stays bounded by the containers of the last moments,
 * not by all that ever ran.
 */
class SeriesChurnTest {
  static final int CONTAINERS = 1000;
  /** Scrapes during the churn: a gone container's series is marked at one and removed at the next. */
  static final int SCRAPE_EVERY = 25;

  @TempDir Path tmp;

  @Test
  void aChurnOfAThousandContainersLeavesTheSeriesCountBounded() throws Exception {
    try (Runc runc = Runc.open()) {
      String yaml =
          """
          http:
            listen: 127.0.0.1:0
          containers:
            runtime_state_dirs: [%s]
            reconcile_interval: 500ms
            exited_grace_period: 0s
          metrics:
            deleted_container_ttl: 0s
          gadgets:
            - name: exec
              gadget: trace_exec
              selector:
                namespaces: [churn]
              metrics:
                - name: process.execs
                  labels: [comm]
          """
              .formatted(runc.root());
      try (Agent agent =
          Agent.start(
              ConfigLoader.parse(yaml, "agent.yaml", Map.of()),
              GadgetCatalog.builtIn(),
              EventSink.NONE)) {
        long maxSeries = 0;
        long seenAnySeries = 0;
        for (int i = 0; i < CONTAINERS; i++) {
          runc.runShortLived("gx-series-" + i, tmp.resolve("b" + i), Runc.SHORT_LIVED_ARGS, pod(i));
          if (i % SCRAPE_EVERY == SCRAPE_EVERY - 1) {
            String scrape = AgentHttp.get(agent.httpPort(), "/metrics");
            long series = AgentHttp.series(scrape, "gadget_events_total");
            maxSeries = Math.max(maxSeries, series);
            seenAnySeries += series;
            assertThat(AgentHttp.series(scrape, "process_execs_total"))
                .as("series of a labelled metric after %d containers", i + 1)
                .isLessThanOrEqualTo(4L * SCRAPE_EVERY);
          }
        }
        assertThat(seenAnySeries).as("the containers' series existed while they ran").isPositive();
        // Two scrapes apart, with every container gone: a series is marked, then removed.
        assertThat(maxSeries)
            .as("the most series gadget_events_total held during the churn")
            .isLessThanOrEqualTo(2L * SCRAPE_EVERY + 5);
        Thread.sleep(1500); // a reconcile expires the last exited containers
        AgentHttp.get(agent.httpPort(), "/metrics");
        String after = AgentHttp.get(agent.httpPort(), "/metrics");
        // Every container's series is gone. What can stay is the one series without container
        // labels: events that arrived after their container was forgotten (grace period 0 here)
        // — there is no container to forget them with.
        List<String> events =
            after.lines().filter(l -> l.startsWith("gadget_events_total{")).toList();
        assertThat(events).noneMatch(l -> l.contains("k8s_pod_name")).hasSizeLessThanOrEqualTo(1);
        assertThat(after.lines().filter(l -> l.startsWith("process_execs_total{")))
            .noneMatch(l -> l.contains("k8s_pod_name"))
            .hasSizeLessThanOrEqualTo(2); // sh and exe (busybox's applets), without a container
        assertThat(AgentHttp.sum(after, "gadget_metric_series", "metric=\"gadget.events\""))
            .isLessThanOrEqualTo(1);
        assertThat(AgentHttp.sum(after, "gadget_metric_series_overflow_total"))
            .as("the cap was never needed")
            .isZero();
      }
    }
  }

  private static Map<String, String> pod(int i) {
    return Map.of(
        "io.kubernetes.cri.container-type", "container",
        "io.kubernetes.cri.container-name", "job",
        "io.kubernetes.cri.sandbox-name", "batch-" + i,
        "io.kubernetes.cri.sandbox-namespace", "churn",
        "io.kubernetes.cri.sandbox-uid", "uid-" + i);
  }
}
