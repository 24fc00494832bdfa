package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The export keys: otlp, resource, metrics, redact and an instance's logs and metrics. */
class ExportConfigTest {
  private static final String GADGETS = "gadgets:\n  - gadget: trace_exec\n";

  private static AgentConfig load(String yaml, Map<String, String> env) {
    return ConfigLoader.parse(yaml, "config.yaml", env);
  }

  private static List<String> errors(String yaml, Map<String, String> env) {
    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> load(yaml, env));
    assertThat(e).as("expected a ConfigException for:%n%s", yaml).isNotNull();
    return List.of(e.getMessage().split("\n"));
  }

  @Test
  void noEndpointMeansNoPush() {
    OtlpConfig otlp = load(GADGETS, Map.of()).otlp();

    assertThat(otlp.pushesLogs()).isFalse();
    assertThat(otlp.pushesMetrics()).isFalse();
  }

  @Test
  void theStandardEnvironmentVariablesFillWhatTheFileLeavesOut() {
    Map<String, String> env =
        Map.of(
            "OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/",
            "OTEL_EXPORTER_OTLP_HEADERS", "api-key=s%20ecret,tenant=a",
            "OTEL_EXPORTER_OTLP_TIMEOUT", "2500",
            "OTEL_EXPORTER_OTLP_COMPRESSION", "none",
            "OTEL_METRIC_EXPORT_INTERVAL", "15000",
            "OTEL_SERVICE_NAME", "node-tracer",
            "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,team=obs",
            "NODE_NAME", "node-7");
    AgentConfig c = load("otlp:\n  headers: {tenant: b}\nresource:\n  attributes: {team: sre}\n" + GADGETS, env);

    assertThat(c.otlp().logsUrl()).contains("http://collector:4318/v1/logs");
    assertThat(c.otlp().metricsUrl()).contains("http://collector:4318/v1/metrics");
    assertThat(c.otlp().headers())
        .containsExactlyInAnyOrderEntriesOf(Map.of("api-key", "s ecret", "tenant", "b"));
    assertThat(c.otlp().timeout()).isEqualTo(Duration.ofMillis(2500));
    assertThat(c.otlp().gzip()).isFalse();
    assertThat(c.otlp().metricsInterval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.resource().serviceName()).isEqualTo("node-tracer");
    assertThat(c.resource().nodeName()).contains("node-7");
    assertThat(c.resource().attributes())
        .containsEntry("deployment.environment", "prod")
        .containsEntry("team", "sre");
  }

  @Test
  void theFileWinsOverTheEnvironmentAndGrpcKeepsTheBaseUrl() {
    AgentConfig c =
        load(
            "otlp:\n  endpoint: http://local:4317\n  protocol: grpc\n" + GADGETS,
            Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://elsewhere:4318", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"));

    assertThat(c.otlp().protocol()).isEqualTo(OtlpConfig.Protocol.GRPC);
    assertThat(c.otlp().logsUrl()).contains("http://local:4317");
  }

  @Test
  void badEnvironmentValuesAreNamedByTheirVariable() {
    assertThat(errors(GADGETS, Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")))
        .containsExactly(
            "config.yaml: OTEL_EXPORTER_OTLP_PROTOCOL (environment): 'http/json' is not supported;"
                + " use http/protobuf or grpc");
  }

  @Test
  void otlpMistakesNameTheirKey() {
    assertThat(
            errors(
                "otlp:\n  endpoint: collector:4318\n  protocol: udp\n  compression: zstd\n"
                    + "  logs_queue_size: 0\n  tls:\n    ca_file: /nonexistent/ca.pem\n"
                    + GADGETS,
                Map.of()))
        .containsExactly(
            "config.yaml:2:13: otlp.endpoint: 'collector:4318' is not an http:// or https:// URL,"
                + " e.g. http://otel-collector:4318",
            "config.yaml:3:13: otlp.protocol: 'udp' is not http/protobuf or grpc",
            "config.yaml:4:16: otlp.compression: 'zstd' is not gzip or none",
            "config.yaml:5:20: otlp.logs_queue_size: must be from 1 to 1048576",
            "config.yaml:7:14: otlp.tls.ca_file: '/nonexistent/ca.pem' is not a file");
  }

  @Test
  void logsTrueOrAMapping() {
    AgentConfig c =
        load(
            "gadgets:\n  - name: a\n    gadget: trace_exec\n    logs: true\n"
                + "  - name: b\n    gadget: trace_exec\n    logs:\n      exclude: [uid]\n"
                + "      severity: warn\n      body: '{comm}'\n"
                + "  - name: c\n    gadget: trace_exec\n",
            Map.of());

    assertThat(c.gadgets().get(0).logs()).isEqualTo(LogsConfig.ON);
    LogsConfig b = c.gadgets().get(1).logs();
    assertThat(b.enabled()).isTrue();
    assertThat(b.exclude()).extracting(ConfigName::text).containsExactly("uid");
    assertThat(b.severity()).isEqualTo(LogsConfig.Severity.WARN);
    assertThat(b.body().map(ConfigName::text)).contains("{comm}");
    assertThat(c.gadgets().get(2).logs().enabled()).isFalse();
    assertThat(
            errors("gadgets:\n  - gadget: trace_exec\n    logs: yes please\n", Map.of()))
        .containsExactly(
            "config.yaml:3:11: gadgets[0].logs: expected true, false or a mapping, got 'yes please'");
    assertThat(
            errors("gadgets:\n  - gadget: trace_exec\n    logs:\n      severity: loud\n", Map.of()))
        .containsExactly(
            "config.yaml:4:17: gadgets[0].logs.severity: 'loud' is not a severity; expected trace,"
                + " debug, info, warn, error or fatal");
  }

  @Test
  void metricMistakesAreFoundBeforeAnyGadgetLoads() {
    assertThat(
            errors(
                "gadgets:\n  - gadget: trace_exec\n    metrics:\n"
                    + "      - name: execs\n        type: summary\n"
                    + "      - name: sizes\n        type: histogram\n"
                    + "      - name: 9lives\n"
                    + "      - name: gadget.mine\n"
                    + "      - name: b\n        type: histogram\n        value: args_size\n"
                    + "        buckets: [1, 10, 5]\n"
                    + "      - name: c\n        buckets: [1]\n        value: ret\n",
                Map.of()))
        .containsExactly(
            "config.yaml:5:15: gadgets[0].metrics[0].type: 'summary' is not a metric type;"
                + " expected counter, histogram or gauge",
            "config.yaml:6:9: gadgets[0].metrics[1]: a histogram needs 'value': the numeric field it"
                + " measures",
            "config.yaml:8:15: gadgets[0].metrics[2].name: '9lives' is not a metric name: a letter,"
                + " then letters, digits, '_', '.', '-' or '/', at most 255",
            "config.yaml:9:15: gadgets[0].metrics[3].name: 'gadget.mine': names starting with"
                + " gadget. or jvm. are the agent's own; choose another",
            "config.yaml:13:26: gadgets[0].metrics[4].buckets[2]: bucket boundaries must increase:"
                + " 5.0 after 10.0",
            "config.yaml:15:18: gadgets[0].metrics[5].buckets: only a histogram has buckets (this"
                + " metric is a counter)");
    assertThat(
            errors(
                "gadgets:\n  - gadget: trace_exec\n    metrics:\n"
                    + "      - name: execs\n      - name: execs\n",
                Map.of()))
        .containsExactly(
            "config.yaml:5:9: gadgets[0].metrics[1].name: duplicate metric name 'execs' (first in"
                + " gadgets[0].metrics[0])");
  }

  @Test
  void metricsSettings() {
    MetricsConfig m =
        load(
            "metrics:\n  max_series: 100\n  container_labels: [k8s.namespace.name]\n"
                + "  deleted_container_ttl: 30s\n  bpf_stats: false\n" + GADGETS,
            Map.of())
            .metrics();

    assertThat(m).isEqualTo(new MetricsConfig(100, List.of("k8s.namespace.name"), Duration.ofSeconds(30), false));
    assertThat(errors("metrics:\n  container_labels: [k8s.pod.uid]\n  max_series: 1\n" + GADGETS, Map.of()))
        .containsExactly(
            "config.yaml:2:22: metrics.container_labels: 'k8s.pod.uid' is not a container attribute;"
                + " expected some of: k8s.namespace.name, k8s.pod.name, k8s.container.name,"
                + " container.name, k8s.deployment.name, k8s.replicaset.name,"
                + " k8s.statefulset.name, k8s.daemonset.name, k8s.job.name, k8s.cronjob.name",
            "config.yaml:3:15: metrics.max_series: must be from 2 to 1000000");
  }

  @Test
  void redactionRules() {
    AgentConfig c =
        load(
            "redact:\n  - field: args\n    pattern: 'secret=\\S+'\n" + GADGETS,
            Map.of());
    assertThat(c.redact()).singleElement().satisfies(r -> {
      assertThat(r.field()).isEqualTo("args");
      assertThat(r.replacement()).isEqualTo("[REDACTED]");
      assertThat(r.pattern().matcher("secret=x").replaceAll(r.replacement())).isEqualTo("[REDACTED]");
    });
    assertThat(
            errors(
                "redact:\n  - field: args\n    pattern: '(unclosed'\n"
                    + "  - pattern: x\n"
                    + "  - field: args\n    pattern: '(a)'\n    replacement: '$2'\n" + GADGETS,
                Map.of()))
        .containsExactly(
            "config.yaml:3:14: redact[0].pattern: is not a valid regular expression: Unclosed group"
                + " near index 9",
            "config.yaml:4:5: redact[1]: missing required key 'field'",
            "config.yaml:7:18: redact[2].replacement: refers to group $2 but the pattern has 1");
    assertThat(Optional.of(c)).isPresent();
  }
}
