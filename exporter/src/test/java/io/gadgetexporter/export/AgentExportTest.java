package io.gadgetexporter.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.gadgetexporter.agent.Agent;
import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.OtlpConfig;
import io.gadgetexporter.container.testing.Runc;
import io.gadgetexporter.export.testing.OtlpReceiver;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetInstance;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The whole agent exporting to a real OTLP receiver (official protobuf classes, HTTP and gRPC):
 * what a user checks in their backend after running a program in a container.
 */
class AgentExportTest {
  private static final Map<String, String> POD = Runc.CRI_POD_ANNOTATIONS;

  @TempDir Path tmp;

  static AgentConfig config(String yaml) {
    return ConfigLoader.parse(yaml, "agent.yaml", Map.of());
  }

  @ParameterizedTest
  @EnumSource(OtlpConfig.Protocol.class)
  void anExecInARuncContainerArrivesAsALogRecordAndAsMetrics(OtlpConfig.Protocol protocol)
      throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.create();
        Runc runc = Runc.open()) {
      String endpoint =
          protocol == OtlpConfig.Protocol.GRPC ? receiver.grpcEndpoint() : receiver.httpEndpoint();
      String yaml =
          """
          http:
            listen: 127.0.0.1:0
          containers:
            runtime_state_dirs: [%s]
          otlp:
            endpoint: %s
            protocol: %s
            headers: {x-tenant: team-a}
            metrics_interval: 500ms
            logs_interval: 100ms
          resource:
            node_name: node-a
            cluster_name: lab
          gadgets:
            - name: exec
              gadget: trace_exec
              logs:
                body: "{comm} ran {args}"
              metrics:
                - name: process.execs
                  description: Programs executed, by name.
                  unit: "{exec}"
                  labels: [comm]
                - name: process.exec.args_size
                  type: histogram
                  description: Bytes of arguments per exec.
                  value: args_size
                  unit: By
                  buckets: [8, 64, 512]
          """
              .formatted(runc.root(), endpoint, protocol.text());
      Instant before = Instant.now();
      try (Agent agent = Agent.start(config(yaml), GadgetCatalog.builtIn(), EventSink.NONE)) {
        Runc.Bundle bundle =
            runc.bundle(tmp.resolve("web"), List.of("sh", "-c", "/bin/echo gx-otlp-marker"), POD);
        runc.create("gx-otlp", bundle);
        runc.start("gx-otlp");

        OtlpReceiver.ReceivedLog log =
            receiver
                .awaitLogs(
                    l ->
                        l.eventName().equals("process.exec")
                            && List.of("/bin/echo", "gx-otlp-marker")
                                .equals(l.attributes().get("process.command_args")),
                    Duration.ofSeconds(15))
                .get(0);
        Map<String, Object> a = log.attributes();
        assertThat(a)
            .containsEntry("container.id", "gx-otlp")
            .containsEntry("container.name", "app")
            .containsEntry("container.runtime", "runc")
            .containsEntry("container.image.name", "registry.local/shop/web:1.2")
            .containsEntry("k8s.namespace.name", "shop")
            .containsEntry("k8s.pod.name", "web-7f9c")
            .containsEntry("k8s.pod.uid", "6a1f0c2e-0d3b-4c1e-9a57-1b2c3d4e5f60")
            .containsEntry("k8s.container.name", "app")
            .containsEntry("gadget.instance", "exec")
            .containsEntry("gadget.name", "trace_exec")
            .containsEntry("process.executable.name", "echo")
            .containsEntry("process.executable.path", "/bin/echo")
            .containsEntry("process.exec.ret", 0L)
            .doesNotContainKey("error.type")
            .doesNotContainKey("process.exec.mntns_id"); // hidden fields stay out by default
        assertThat((Long) a.get("process.pid")).isPositive();
        assertThat(log.body()).isEqualTo("echo ran /bin/echo gx-otlp-marker");
        assertThat(log.record().getSeverityText()).isEqualTo("INFO");
        assertThat(log.record().getSeverityNumberValue()).isEqualTo(9);
        long ts = log.record().getTimeUnixNano();
        assertThat(Instant.ofEpochSecond(0, ts)).isBetween(before, Instant.now());
        assertThat(log.resource())
            .containsEntry("service.name", "gadget-exporter")
            .containsEntry("service.version", Agent.version())
            .containsEntry("k8s.node.name", "node-a")
            .containsEntry("k8s.cluster.name", "lab")
            .containsKey("host.name");
        assertThat(log.scope()).isEqualTo("io.gadgetexporter.exec");
        // The receiver records a request once it has answered it, just after keeping its data.
        receiver.awaitRequest(r -> r.signal() == OtlpReceiver.Signal.LOGS, Duration.ofSeconds(5));
        assertThat(
                receiver.requests().stream()
                    .filter(r -> r.signal() == OtlpReceiver.Signal.LOGS)
                    .map(r -> r.header("x-tenant")))
            .isNotEmpty()
            .containsOnly("team-a");

        Map<String, String> pod = Map.of("k8s.pod.name", "web-7f9c", "container.name", "app");
        // sh, then echo: both in the container, both counted against it.
        receiver.awaitMetric(
            "gadget.events",
            m -> m.total(pod).orElse(0) >= 2 && m.resource().get("k8s.node.name").equals("node-a"),
            Duration.ofSeconds(15));
        receiver.awaitMetric(
            "process.execs",
            m -> m.total(Map.of("k8s.pod.name", "web-7f9c", "process.executable.name", "echo")).orElse(0) == 1,
            Duration.ofSeconds(15));
        OtlpReceiver.ReceivedMetric sizes =
            receiver.awaitMetric(
                "process.exec.args_size",
                m -> m.histogramPoints().stream().anyMatch(p -> inPod(p) && p.getCount() >= 2),
                Duration.ofSeconds(15));
        HistogramDataPoint p =
            sizes.histogramPoints().stream().filter(AgentExportTest::inPod).findFirst().orElseThrow();
        assertThat(p.getExplicitBoundsList()).containsExactly(8.0, 64.0, 512.0);
        assertThat(p.getBucketCountsList()).hasSize(4);
        // "sh\0-c\0/bin/echo gx-otlp-marker\0" and "/bin/echo\0gx-otlp-marker\0": 31 and 25
        // bytes, both in the (8, 64] bucket.
        assertThat(p.getBucketCountsList()).containsExactly(0L, 2L, 0L, 0L);
        assertThat(sizes.metric().getUnit()).isEqualTo("By");

        String scrape = AgentHttp.get(agent.httpPort(), "/metrics");
        assertThat(scrape)
            .contains("# HELP process_execs_total Programs executed, by name.")
            .contains("# TYPE process_exec_args_size_bytes histogram")
            .containsPattern("process_exec_args_size_bytes_bucket\\{[^}]*k8s_pod_name=\"web-7f9c\"[^}]*le=\"8.0\"\\} 0")
            .containsPattern("process_exec_args_size_bytes_bucket\\{[^}]*k8s_pod_name=\"web-7f9c\"[^}]*le=\"64.0\"\\} [1-9]")
            .containsPattern("process_exec_args_size_bytes_bucket\\{[^}]*k8s_pod_name=\"web-7f9c\"[^}]*le=\"512.0\"\\} [1-9]")
            .containsPattern("process_exec_args_size_bytes_bucket\\{[^}]*k8s_pod_name=\"web-7f9c\"[^}]*le=\"\\+Inf\"\\} [1-9]");
        assertThat(
                AgentHttp.sum(scrape, "gadget_events_total", "k8s_pod_name=\"web-7f9c\"", "container_name=\"app\""))
            .isGreaterThanOrEqualTo(2);
        // The node and cluster are labels of every series (a DaemonSet's agents told apart
        // without a join), the rest of the resource only of target_info.
        assertThat(scrape.lines().filter(l -> l.startsWith("gadget_events_total{")))
            .isNotEmpty()
            .allSatisfy(
                l ->
                    assertThat(l)
                        .contains("k8s_node_name=\"node-a\"", "k8s_cluster_name=\"lab\"")
                        .doesNotContain("host_name"));
        assertThat(scrape.lines().filter(l -> l.startsWith("process_execs_total{")))
            .isNotEmpty()
            .allSatisfy(l -> assertThat(l).contains("k8s_node_name=\"node-a\""));
        assertThat(AgentHttp.sum(scrape, "gadget_export_records_total", "signal=\"logs\"", "outcome=\"success\""))
            .isPositive();
        runc.delete("gx-otlp", true);
      }
    }
  }

  private static boolean inPod(HistogramDataPoint p) {
    return "web-7f9c".equals(OtlpReceiver.attributes(p.getAttributesList()).get("k8s.pod.name"));
  }

  @Test
  void openMetricsIsServedWhenAsked() throws Exception {
    String yaml = "http:\n  listen: 127.0.0.1:0\ngadgets:\n  - gadget: trace_exec\n";
    try (Agent agent = Agent.start(config(yaml), GadgetCatalog.builtIn(), EventSink.NONE)) {
      GadgetInstance exec = agent.instances().iterator().next();
      runTrue("gx-openmetrics");
      awaitTrue(() -> exec.eventsTotal() > 0, Duration.ofSeconds(10));
      java.net.http.HttpResponse<String> r =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://127.0.0.1:" + agent.httpPort() + "/metrics"))
                      .header("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8")
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(r.headers().firstValue("Content-Type").orElseThrow())
          .startsWith("application/openmetrics-text");
      assertThat(r.body()).contains("# TYPE gadget_events counter").endsWith("# EOF\n");
      assertThat(AgentHttp.get(agent.httpPort(), "/metrics")).contains("# TYPE gadget_events_total counter");
    }
  }

  @Test
  void aCollectorThatIsDownCostsCountedDropsNotTheAgentAndDeliveryResumes() throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.create()) {
      String yaml =
          """
          http:
            listen: 127.0.0.1:0
          otlp:
            endpoint: %s
            timeout: 300ms
            logs_queue_size: 64
            logs_batch_size: 16
            logs_interval: 50ms
          gadgets:
            - name: exec
              gadget: trace_exec
              logs: true
          """
              .formatted(receiver.httpEndpoint());
      try (Agent agent = Agent.start(config(yaml), GadgetCatalog.builtIn(), EventSink.NONE)) {
        GadgetInstance exec = agent.instances().iterator().next();
        runTrue("gx-before");
        receiver.awaitLogs(l -> argsContain(l, "gx-before"), Duration.ofSeconds(10));

        receiver.stop();
        long eventsBefore = exec.eventsTotal();
        for (int i = 0; i < 300; i++) {
          runTrue("gx-down-" + i);
        }
        // The drain never waits for the collector: every exec is counted at once.
        awaitTrue(() -> exec.eventsTotal() - eventsBefore >= 300, Duration.ofSeconds(10));
        assertThat(AgentHttp.get(agent.httpPort(), "/healthz")).isEqualTo("ok\n");
        String scrape = AgentHttp.get(agent.httpPort(), "/metrics");
        double queueFull = AgentHttp.sum(scrape, "gadget_export_dropped_total", "reason=\"queue_full\"");
        double failed =
            AgentHttp.sum(scrape, "gadget_export_records_total", "signal=\"logs\"", "outcome=\"failure\"");
        assertThat(queueFull).as("records dropped on a full queue").isGreaterThan(200);
        assertThat(AgentHttp.sum(scrape, "gadget_export_queue_size", "signal=\"logs\""))
            .as("the queue stays within its bound")
            .isLessThanOrEqualTo(64);
        assertThat(queueFull + failed + AgentHttp.sum(scrape, "gadget_export_queue_size"))
            .as("every record is accounted for: queued, dropped or failed")
            .isGreaterThanOrEqualTo(300 - 16);

        receiver.start();
        // The exporter is in its retry back-off and the queue is full of the outage's records:
        // new records get in once it has drained. Keep making them until one arrives.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (receiver.logs().stream().noneMatch(l -> argsContain(l, "gx-after"))) {
          assertThat(System.nanoTime()).as("delivery resumed within 60 s").isLessThan(deadline);
          runTrue("gx-after");
          Thread.sleep(200);
        }
        assertThat(receiver.logs().stream().filter(l -> argsContain(l, "gx-down-")).count())
            .as("records from the outage that were queued when it ended are sent, the rest dropped")
            .isLessThanOrEqualTo(64 + 16);
      }
    }
  }

  @Test
  void theSeriesCapBoundsAMetricAndCountsWhatOverflows() throws Exception {
    String yaml =
        """
        http:
          listen: 127.0.0.1:0
        metrics:
          max_series: 5
        gadgets:
          - name: exec
            gadget: trace_exec
            metrics:
              - name: process.execs.by_args
                labels: [args]
        """;
    try (Agent agent = Agent.start(config(yaml), GadgetCatalog.builtIn(), EventSink.NONE)) {
      for (int i = 0; i < 20; i++) {
        runTrue("gx-card-" + i);
      }
      GadgetInstance exec = agent.instances().iterator().next();
      awaitTrue(() -> exec.eventsTotal() >= 20, Duration.ofSeconds(10));
      String scrape = AgentHttp.get(agent.httpPort(), "/metrics");
      assertThat(AgentHttp.series(scrape, "process_execs_by_args_total")).isEqualTo(5);
      assertThat(scrape).contains("process_execs_by_args_total{gadget_instance=\"exec\",gadget_name=\"trace_exec\",otel_metric_overflow=\"true\"}");
      assertThat(AgentHttp.sum(scrape, "gadget_metric_series", "metric=\"process.execs.by_args\""))
          .isEqualTo(5);
      assertThat(AgentHttp.sum(scrape, "gadget_metric_series_overflow_total", "metric=\"process.execs.by_args\""))
          .isGreaterThanOrEqualTo(16);
      // Every exec is still counted: the overflow series holds what has no series of its own.
      assertThat(AgentHttp.sum(scrape, "process_execs_by_args_total"))
          .isCloseTo(AgentHttp.sum(scrape, "gadget_events_total"), within(0.0));
    }
  }

  @Test
  void redactionRewritesArgumentsBeforeAnyOutput() throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.create()) {
      String yaml =
          """
          http:
            listen: 127.0.0.1:0
          otlp:
            endpoint: %s
            logs_interval: 50ms
          redact:
            - field: process.command_args
              pattern: '(--password=).*'
              replacement: '$1***'
          gadgets:
            - name: exec
              gadget: trace_exec
              logs: true
              metrics:
                - name: process.execs.by_args
                  labels: [args]
              redact:
                - field: exepath
                  pattern: '^/bin/'
                  replacement: '/usr/bin/'
          """
              .formatted(receiver.httpEndpoint());
      io.gadgetexporter.gadget.RecordingSink printed = new io.gadgetexporter.gadget.RecordingSink();
      try (Agent agent = Agent.start(config(yaml), GadgetCatalog.builtIn(), printed)) {
        new ProcessBuilder("/bin/true", "gx-redact", "--password=hunter2").start().waitFor();

        OtlpReceiver.ReceivedLog log =
            receiver.awaitLogs(l -> argsContain(l, "gx-redact"), Duration.ofSeconds(10)).get(0);
        assertThat(log.attributes().get("process.command_args"))
            .isEqualTo(List.of("/bin/true", "gx-redact", "--password=***"));
        assertThat(log.attributes().get("process.executable.path")).isEqualTo("/usr/bin/true");
        String scrape = AgentHttp.get(agent.httpPort(), "/metrics");
        assertThat(scrape).contains("gx-redact --password=***").doesNotContain("hunter2");
        io.gadgetexporter.gadget.RecordingSink.Recorded seen =
            printed.await(e -> e.text("args").contains("gx-redact"), Duration.ofSeconds(5));
        assertThat(seen.text("args")).isEqualTo("/bin/true gx-redact --password=***");
        assertThat(seen.text("exepath")).isEqualTo("/usr/bin/true");
      }
    }
  }

  @Test
  void aLabelThatIsNotAFieldStopsTheStartWithItsPlace() {
    String yaml =
        """
        gadgets:
          - name: exec
            gadget: trace_exec
            metrics:
              - name: process.execs
                labels: [comm, command]
              - name: process.exec.sizes
                type: histogram
                value: exepath
        """;
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Agent.start(config(yaml), GadgetCatalog.builtIn(), EventSink.NONE))
        .isInstanceOf(io.gadgetexporter.config.ConfigException.class)
        .hasMessageContaining("agent.yaml:6:24: gadgets[0].metrics[0].labels[1]: 'command' is not a field of this gadget; its fields: timestamp, comm,")
        .hasMessageContaining("agent.yaml:9:16: gadgets[0].metrics[1].value: 'exepath' is not numeric (string); a histogram measures a number.");
  }

  static boolean argsContain(OtlpReceiver.ReceivedLog l, String marker) {
    Object args = l.attributes().get("process.command_args");
    return args instanceof List<?> list && list.stream().anyMatch(a -> a.toString().startsWith(marker));
  }

  static void runTrue(String marker) throws Exception {
    new ProcessBuilder("/bin/true", marker).start().waitFor();
  }

  static void awaitTrue(java.util.function.BooleanSupplier condition, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + timeout);
      }
      Thread.sleep(20);
    }
  }
}
