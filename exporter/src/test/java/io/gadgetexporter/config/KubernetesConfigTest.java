package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code kubernetes:} section, and how {@code enabled: auto} is settled. */
class KubernetesConfigTest {
  private static final String GADGETS = "gadgets:\n  - gadget: trace_exec\n";

  @TempDir Path tmp;

  private KubernetesConfig load(String yaml, Map<String, String> env) {
    return ConfigLoader.parse(yaml + GADGETS, tmp.resolve("agent.yaml").toString(), env).kubernetes();
  }

  private List<String> errors(String yaml, Map<String, String> env) {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class, () -> ConfigLoader.parse(yaml + GADGETS, "agent.yaml", env));
    assertThat(e).as("a configuration error").isNotNull();
    return e.problems().stream().map(ConfigException.Problem::toString).toList();
  }

  @Test
  void autoIsOffOutsideAClusterWithTheDefaults() {
    KubernetesConfig k = load("", Map.of());

    assertThat(k.mode()).isEqualTo(KubernetesConfig.Mode.AUTO);
    assertThat(k.enabled()).isFalse();
    assertThat(k.why()).contains("not a cluster (KUBERNETES_SERVICE_HOST is not set)");
    assertThat(k.syncTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(k.podLabels()).contains("app.kubernetes.io/name", "app", "k8s-app");
    assertThat(k.podAnnotations()).isEmpty();
    assertThat(k.traces()).isTrue();
    assertThat(k.traceStatusInterval()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void autoNeedsAServiceAccountTokenBesidesTheServiceHost() {
    KubernetesConfig k = load("", Map.of("KUBERNETES_SERVICE_HOST", "10.0.0.1", "NODE_NAME", "n1"));

    assertThat(k.enabled()).isEqualTo(Files.isRegularFile(KubernetesConfig.SERVICE_ACCOUNT_TOKEN));
    if (!k.enabled()) {
      assertThat(k.why()).contains("no service-account token is mounted");
    }
  }

  @Test
  void autoIsOnWithAKubeconfigAndTakesTheNodeNameFromTheResourceOrNodeName() throws Exception {
    Files.writeString(tmp.resolve("kubeconfig"), "apiVersion: v1\nkind: Config\n");

    KubernetesConfig k = load("kubernetes:\n  kubeconfig: kubeconfig\n", Map.of("NODE_NAME", "node-a"));
    assertThat(k.enabled()).isTrue();
    assertThat(k.kubeconfig()).contains(tmp.resolve("kubeconfig"));
    assertThat(k.nodeName()).contains("node-a");

    k = load("resource:\n  node_name: node-r\nkubernetes:\n  kubeconfig: kubeconfig\n", Map.of("NODE_NAME", "x"));
    assertThat(k.nodeName()).contains("node-r");
    k = load("resource:\n  node_name: node-r\nkubernetes:\n  kubeconfig: kubeconfig\n  node_name: node-k\n", Map.of());
    assertThat(k.nodeName()).contains("node-k");
  }

  @Test
  void everyKeyIsRead() {
    KubernetesConfig k =
        load(
            "kubernetes:\n  enabled: true\n  node_name: n1\n  sync_timeout: 5s\n"
                + "  pod_labels: [team, 'app.kubernetes.io/*']\n  pod_annotations: example.com/owner\n"
                + "  traces: false\n  trace_status_interval: 1m\n",
            Map.of());

    assertThat(k)
        .isEqualTo(
            new KubernetesConfig(
                KubernetesConfig.Mode.TRUE, true, "kubernetes.enabled is true", Optional.empty(),
                Optional.of("n1"), Duration.ofSeconds(5), List.of("team", "app.kubernetes.io/*"),
                List.of("example.com/owner"), false, Duration.ofMinutes(1)));
    assertThat(load("kubernetes:\n  enabled: false\n  pod_labels: []\n", Map.of()))
        .satisfies(c -> assertThat(c.enabled()).isFalse())
        .satisfies(c -> assertThat(c.podLabels()).isEmpty());
  }

  @Test
  void onWithoutANodeNameIsAnErrorThatSaysHowToSetIt() {
    assertThat(errors("kubernetes:\n  enabled: true\n", Map.of()))
        .containsExactly(
            "agent.yaml:2:12: kubernetes.node_name: is not set, nor resource.node_name, nor"
                + " $NODE_NAME: the agent watches only the pods of its node and needs its name"
                + " (kubernetes.enabled is true). In a DaemonSet, set NODE_NAME from the downward"
                + " API: env: [{name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]");
  }

  @Test
  void wrongValuesAreReportedAtTheirKey() {
    assertThat(
            errors(
                "kubernetes:\n  enabled: maybe\n  sync_timeout: 11m\n  pod_labels: ['a b']\n"
                    + "  trace_status_interval: 0s\n  kubeconfig: /nonexistent/kubeconfig\n  watch: pods\n",
                Map.of()))
        .containsExactly(
            "agent.yaml:2:12: kubernetes.enabled: 'maybe' is not auto, true or false",
            "agent.yaml:3:17: kubernetes.sync_timeout: must be from 0s to 10m",
            "agent.yaml:4:16: kubernetes.pod_labels: 'a b' holds a space; keys never do",
            "agent.yaml:5:26: kubernetes.trace_status_interval: must be from 1s to 10m",
            "agent.yaml:6:15: kubernetes.kubeconfig: '/nonexistent/kubeconfig' is not a file",
            "agent.yaml:7:3: kubernetes.watch: unknown key 'watch'; expected one of: enabled,"
                + " kubeconfig, node_name, sync_timeout, pod_labels, pod_annotations, traces,"
                + " trace_status_interval");
  }
}
