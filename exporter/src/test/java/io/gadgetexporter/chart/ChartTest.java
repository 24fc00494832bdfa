package io.gadgetexporter.chart;

import static io.gadgetexporter.chart.HelmChart.CHART;
import static io.gadgetexporter.chart.HelmChart.REPOSITORY;
import static io.gadgetexporter.chart.HelmChart.render;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.gadgetexporter.cli.Main;
import io.gadgetexporter.config.AgentAcceptance;
import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.container.RuntimeState;
import io.gadgetexporter.export.testing.TestCertificates;
import io.gadgetexporter.gadget.Gadget;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import picocli.CommandLine;

/**
 * The Helm chart (charts/gadget-exporter) and the image (Containerfile), through Helm itself
 * ({@link HelmChart}): the chart lints strictly; it renders with its defaults and with each
 * optional feature into objects fabric8's model knows field by field; its DaemonSet keeps least
 * privilege; its ConfigMap is a config file the agent accepts; its schema refuses bad values; its
 * RBAC is the one docs/kubernetes.md documents; the image's entry point runs the chart's arguments.
 */
class ChartTest {

  /** Every agent has these (docs/deployment.md#security-model). */
  private static final Set<String> BASE_CAPABILITIES =
      Set.of("BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE", "DAC_READ_SEARCH");

  /** Added when the configuration needs them (capabilities.sysAdmin, netRaw, syslog). */
  private static final Set<String> CONDITIONAL_CAPABILITIES =
      Set.of("SYS_ADMIN", "NET_RAW", "SYSLOG");

  private static final Map<String, String> NODE_ENV = Map.of("NODE_NAME", "node-a");

  private static final String CUSTOM_CONFIG =
      """
      config:
        otlp:
          endpoint: http://otel-collector.observability:4318
        resource:
          cluster_name: prod-eu-1
          attributes:
            deployment.environment: prod
        kubernetes:
          pod_labels: [app.kubernetes.io/name, team]
          trace_status_interval: 1m
        metrics:
          max_series: 500
          container_labels: [k8s.namespace.name, k8s.deployment.name]
        redact:
          - field: process.command_args
            pattern: '(--password=|--token=).*'
            replacement: '$1***'
        gadgets:
          - name: shop-exec
            gadget: trace_exec
            params:
              max_args: 32
            selector:
              namespaces: [shop]
              pods: ["!canary-*"]
            logs:
              exclude: [ppid]
              body: "{comm} ran {args}"
            metrics:
              - name: process.execs
                labels: [comm]
          - name: open
            gadget: trace_open
            ring_buffer:
              size: 16MiB
              wakeup_bytes: 2MiB
              drain_interval: 250ms
            metrics:
              - name: file.opens
                unit: "{open}"
                labels: [comm, ret]
      """;

  private static final String TLS_AND_TOKEN =
      """
      tls:
        secretName: agent-tls
      bearerToken:
        secretName: agent-token
      config:
        http:
          tls:
            cert_file: /etc/gadget-exporter/tls/tls.crt
            key_file: /etc/gadget-exporter/tls/tls.key
          bearer_token_file: /etc/gadget-exporter/token/token
      serviceMonitor:
        enabled: true
        tlsConfig:
          serverName: gadget-exporter.gadget-exporter.svc
          ca:
            secret:
              name: agent-tls
              key: ca.crt
      """;

  /** Each optional feature alone, and all of them together. */
  static Stream<Arguments> variants() {
    return Stream.of(
        Arguments.of("defaults", ""),
        Arguments.of(
            "serviceMonitor",
            """
            serviceMonitor:
              enabled: true
              labels: {release: kube-prometheus-stack}
              interval: 15s
              scrapeTimeout: 10s
              metricRelabelings:
                - sourceLabels: [__name__]
                  regex: jvm_.*
                  action: drop
            """),
        Arguments.of("podMonitor", "podMonitor: {enabled: true, honorLabels: true}"),
        Arguments.of("dashboards (none yet)", "dashboards: {enabled: true}"),
        Arguments.of("custom config", CUSTOM_CONFIG),
        Arguments.of("TLS and bearer token", TLS_AND_TOKEN),
        Arguments.of(
            "runtime hook, BPF statistics and trace_dns off",
            "config: {containers: {runtime_hook: false}, metrics: {bpf_stats: false},"
                + " gadgets: [{gadget: trace_exec}, {gadget: trace_open}]}"),
        Arguments.of(
            "gadgets needing more capabilities",
            "config: {gadgets: [{gadget: trace_dns}, {gadget: profile_cpu}]}"),
        Arguments.of("Kubernetes API off", "config: {kubernetes: {enabled: false}}"),
        Arguments.of("Traces off", "config: {kubernetes: {traces: false}}"),
        Arguments.of(
            "scheduling and extras",
            """
priorityClassName: system-node-critical
rollOnConfigChange: true
hostNetwork: true
podAnnotations: {example.com/owner: observability}
podLabels: {team: observability}
imagePullSecrets: [{name: registry}]
image: {digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
jvmOptions: -Xlog:gc
env: [{name: OTEL_EXPORTER_OTLP_ENDPOINT, value: "http://collector:4318"}]
envFrom: [{secretRef: {name: otlp-headers}}]
extraVolumes: [{name: gadgets, configMap: {name: my-gadgets}}]
extraVolumeMounts: [{name: gadgets, mountPath: /etc/gadget-exporter/gadgets, readOnly: true}]
hostPaths: {extra: [/run/k3s/containerd/io.containerd.runtime.v2.task]}
seLinuxOptions: {type: spc_t}
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]
service: {annotations: {example.com/scrape: "false"}, labels: {tier: node}}
serviceAccount: {annotations: {example.com/role: agent}}
"""),
        Arguments.of(
            "everything",
            TLS_AND_TOKEN
                + """
                  podMonitor: {enabled: true}
                  dashboards: {enabled: true, namespace: grafana}
                  priorityClassName: system-node-critical
                  rollOnConfigChange: true
                  """));
  }

  @Test
  void lintStrictPasses() {
    LintResult lint = HelmChart.lintStrict(CHART);
    assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
  }

  @Test
  void defaultsRenderTheAgentAndWhatItNeedsOnly() {
    HelmChart.Rendered r = render("");
    assertThat(r.kinds())
        .containsExactlyInAnyOrder(
            "ServiceAccount",
            "ConfigMap",
            "ClusterRole",
            "ClusterRoleBinding",
            "Service",
            "DaemonSet");
    DaemonSet ds = r.one(DaemonSet.class);
    assertThat(ds.getMetadata().getName()).isEqualTo("gadget-exporter");
    assertThat(agent(ds).getImage())
        .isEqualTo("localhost/gadget-exporter:" + chartYaml().get("appVersion"));
    PodSpec pod = ds.getSpec().getTemplate().getSpec();
    assertThat(pod.getTolerations())
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.getOperator()).isEqualTo("Exists");
              assertThat(t.getKey()).isNull();
              assertThat(t.getEffect()).isNull();
            });
    assertThat(ds.getSpec().getUpdateStrategy().getType()).isEqualTo("RollingUpdate");
    assertThat(ds.getSpec().getUpdateStrategy().getRollingUpdate().getMaxUnavailable().getIntVal())
        .isEqualTo(1);
    assertThat(agent(ds).getResources().getLimits()).containsOnlyKeys("memory");
    assertThat(r.one(Service.class).getSpec().getClusterIP()).isEqualTo("None");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void everyDocumentIsATypedObjectWithStandardLabels(String name, String values) {
    HelmChart.Rendered r = render(values);
    for (HasMetadata o : r.objects()) {
      assertThat(HelmChart.unknownFields(o)).as("fields the model does not know").isEmpty();
      assertThat(o.getMetadata().getLabels())
          .as(o.getKind() + " labels")
          .containsEntry("app.kubernetes.io/name", "gadget-exporter")
          .containsEntry("app.kubernetes.io/instance", HelmChart.RELEASE)
          .containsEntry("app.kubernetes.io/managed-by", "Helm")
          .containsKeys(
              "app.kubernetes.io/version", "helm.sh/chart", "app.kubernetes.io/component");
    }
    assertThat(r.all(GenericKubernetesResource.class))
        .as("only custom resources stay untyped")
        .allSatisfy(g -> assertThat(g.getApiVersion()).isEqualTo("monitoring.coreos.com/v1"));
    assertLeastPrivilege(r.one(DaemonSet.class), Set.of());
  }

  @Test
  void serviceMonitorScrapesEveryAgentThroughTheService() {
    HelmChart.Rendered r = render(variant("serviceMonitor"));
    GenericKubernetesResource sm = single(r.generic("ServiceMonitor"));
    Service service = r.one(Service.class);
    assertThat(sm.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
    Map<String, Object> spec = map(sm.getAdditionalProperties().get("spec"));
    assertThat(service.getMetadata().getLabels())
        .containsAllEntriesOf(stringMap(map(spec.get("selector")).get("matchLabels")));
    Map<String, Object> endpoint = map(list(spec.get("endpoints")).get(0));
    assertThat(endpoint)
        .containsEntry("port", service.getSpec().getPorts().get(0).getName())
        .containsEntry("path", "/metrics")
        .containsEntry("scheme", "http")
        .containsEntry("interval", "15s")
        .containsEntry("scrapeTimeout", "10s");
    assertThat(list(endpoint.get("metricRelabelings"))).hasSize(1);
    assertThat(list(endpoint.get("relabelings")))
        .contains(
            Map.of(
                "sourceLabels", List.of("__meta_kubernetes_pod_node_name"), "targetLabel", "node"));
  }

  @Test
  void podMonitorScrapesTheAgentsPort() {
    HelmChart.Rendered r = render(variant("podMonitor"));
    assertThat(r.generic("ServiceMonitor")).isEmpty();
    GenericKubernetesResource pm = single(r.generic("PodMonitor"));
    DaemonSet ds = r.one(DaemonSet.class);
    Map<String, Object> spec = map(pm.getAdditionalProperties().get("spec"));
    assertThat(ds.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(stringMap(map(spec.get("selector")).get("matchLabels")));
    Map<String, Object> endpoint = map(list(spec.get("podMetricsEndpoints")).get(0));
    assertThat(endpoint).containsEntry("path", "/metrics").containsEntry("honorLabels", true);
    assertThat(agent(ds).getPorts())
        .extracting(ContainerPort::getName)
        .contains((String) endpoint.get("port"));
  }

  @Test
  void dashboardsBecomeOneConfigMapEachForTheGrafanaSidecar(@TempDir Path copy) throws IOException {
    String dashboard = "{\"title\": \"Gadget Exporter: agent health\", \"panels\": []}\n";
    Path chart =
        HelmChart.copyWith(
            copy,
            Map.of("dashboards/agent_health.json", dashboard, "dashboards/overview.json", "{}"));
    HelmChart.Rendered off = HelmChart.render(chart, "", HelmChart.KUBERNETES);
    assertThat(off.all(ConfigMap.class)).hasSize(1); // the config only
    HelmChart.Rendered on =
        HelmChart.render(
            chart,
            "dashboards: {enabled: true, annotations: {grafana_folder: Gadget Exporter}}",
            HelmChart.KUBERNETES);
    List<ConfigMap> dashboards =
        on.all(ConfigMap.class).stream()
            .filter(c -> "1".equals(c.getMetadata().getLabels().get("grafana_dashboard")))
            .toList();
    assertThat(dashboards)
        .extracting(c -> c.getMetadata().getName())
        .containsExactlyInAnyOrder(
            "gadget-exporter-dashboard-agent-health", "gadget-exporter-dashboard-overview");
    ConfigMap health =
        dashboards.stream()
            .filter(c -> c.getData().containsKey("agent_health.json"))
            .findFirst()
            .orElseThrow();
    assertThat(health.getData().get("agent_health.json")).isEqualTo(dashboard.strip());
    assertThat(health.getMetadata().getAnnotations())
        .containsEntry("grafana_folder", "Gadget Exporter");
  }

  @Test
  void theChartShipsTheDashboardsOfTheRepository() throws IOException {
    // dashboards/ (what users import as files) is a link to the chart's own directory, which Helm
    // packages: one set of files, so the two cannot drift apart.
    Path shared = REPOSITORY.resolve("dashboards");
    assertThat(Files.isSymbolicLink(shared)).isTrue();
    assertThat(shared.toRealPath()).isEqualTo(CHART.resolve("dashboards").toRealPath());
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> s = Files.list(shared)) {
      for (Path p : s.filter(p -> p.toString().endsWith(".json")).toList()) {
        files.put(p.getFileName().toString(), Files.readString(p).strip());
      }
    }
    assertThat(files).containsOnlyKeys("overview.json", "agent_health.json");
    assertThat(render("").all(ConfigMap.class)).hasSize(1); // off by default
    Map<String, String> rendered = new TreeMap<>();
    for (ConfigMap c : render("dashboards: {enabled: true}").all(ConfigMap.class)) {
      if ("1".equals(c.getMetadata().getLabels().get("grafana_dashboard"))) {
        rendered.putAll(c.getData());
      }
    }
    assertThat(rendered).isEqualTo(files);
  }

  @Test
  void theConfigMapIsTheValuesConfigVerbatimAndTheAgentAcceptsIt() {
    for (String values : List.of("", CUSTOM_CONFIG)) {
      HelmChart.Rendered r = render(values);
      String configYaml = configFile(r);
      Map<String, Object> expected =
          deepMerge(
              map(chartValues().get("config")), map(yaml(values).getOrDefault("config", Map.of())));
      assertThat(yaml(configYaml)).isEqualTo(expected);
      AgentConfig config = acceptedByTheAgent(configYaml);
      assertThat(config.containers().hostRoot()).hasToString("/host");
    }
    AgentConfig custom = acceptedByTheAgent(configFile(render(CUSTOM_CONFIG)));
    assertThat(custom.gadgets())
        .extracting(InstanceConfig::name)
        .containsExactly("shop-exec", "open");
    assertThat(custom.otlp().endpoint()).isPresent();
  }

  @Test
  void tlsAndBearerTokenAreMountedAndUsedByProbesAndMonitors(@TempDir Path mounted)
      throws IOException {
    HelmChart.Rendered r = render(TLS_AND_TOKEN);
    DaemonSet ds = r.one(DaemonSet.class);
    Container agent = agent(ds);
    for (HTTPGetAction probe :
        List.of(
            agent.getStartupProbe().getHttpGet(),
            agent.getLivenessProbe().getHttpGet(),
            agent.getReadinessProbe().getHttpGet())) {
      assertThat(probe.getScheme()).isEqualTo("HTTPS");
    }
    assertThat(mountOf(ds, "tls").getMountPath()).isEqualTo("/etc/gadget-exporter/tls");
    assertThat(volume(ds, "tls").getSecret().getSecretName()).isEqualTo("agent-tls");
    assertThat(mountOf(ds, "token").getMountPath()).isEqualTo("/etc/gadget-exporter/token");
    assertThat(volume(ds, "token").getSecret().getSecretName()).isEqualTo("agent-token");

    Map<String, Object> endpoint =
        map(
            list(map(single(r.generic("ServiceMonitor")).getAdditionalProperties().get("spec"))
                    .get("endpoints"))
                .get(0));
    assertThat(endpoint).containsEntry("scheme", "https");
    assertThat(map(endpoint.get("tlsConfig")))
        .containsEntry("serverName", "gadget-exporter.gadget-exporter.svc");
    assertThat(endpoint.get("authorization"))
        .isEqualTo(
            Map.of("type", "Bearer", "credentials", Map.of("name", "agent-token", "key", "token")));

    // The files where the Secrets are mounted, as the agent will read them at load.
    TestCertificates certs = TestCertificates.generate(mounted.resolve("generated"));
    Files.createDirectories(mounted.resolve("tls"));
    Files.createDirectories(mounted.resolve("token"));
    Files.copy(certs.serverCertificate(), mounted.resolve("tls/tls.crt"));
    Files.copy(certs.serverKey(), mounted.resolve("tls/tls.key"));
    Files.writeString(mounted.resolve("token/token"), "s3cret\n");
    String config = configFile(r);
    assertThat(config)
        .contains("/etc/gadget-exporter/tls/tls.crt", "/etc/gadget-exporter/token/token");
    AgentConfig accepted =
        acceptedByTheAgent(config.replace("/etc/gadget-exporter/", mounted + "/"));
    assertThat(accepted.http().tls()).isPresent();
  }

  @Test
  void capabilitiesFollowTheConfiguration() {
    // The defaults: the runtime hook, BPF statistics and trace_dns (which enters each network
    // namespace and opens a packet socket there).
    Set<String> defaults = new TreeSet<>(BASE_CAPABILITIES);
    defaults.addAll(List.of("SYS_ADMIN", "NET_RAW"));
    assertThat(added(render(""))).isEqualTo(defaults);
    assertThat(securityContext(render("")).getAllowPrivilegeEscalation())
        .as("Kubernetes refuses allowPrivilegeEscalation: false with CAP_SYS_ADMIN")
        .isNull();

    // The runtime hook alone, or BPF statistics alone, still need CAP_SYS_ADMIN.
    String noDns = " gadgets: [{gadget: trace_exec}]}";
    assertThat(added(render("config: {containers: {runtime_hook: false}," + noDns)))
        .contains("SYS_ADMIN")
        .doesNotContain("NET_RAW");
    assertThat(added(render("config: {metrics: {bpf_stats: false}," + noDns))).contains("SYS_ADMIN");
    assertThat(
            added(
                render(
                    "config: {containers: {enabled: false}, metrics: {bpf_stats: false}," + noDns)))
        .doesNotContain("SYS_ADMIN");
    // snapshot_socket enters the network namespaces whose sockets it lists.
    assertThat(
            added(
                render(
                    "config: {containers: {enabled: false}, metrics: {bpf_stats: false},"
                        + " gadgets: [{gadget: snapshot_socket}]}")))
        .contains("SYS_ADMIN");

    HelmChart.Rendered minimal = render(variant("runtime hook, BPF statistics and trace_dns off"));
    assertThat(added(minimal)).isEqualTo(new TreeSet<>(BASE_CAPABILITIES));
    assertThat(securityContext(minimal).getAllowPrivilegeEscalation()).isFalse();

    assertThat(added(render(variant("gadgets needing more capabilities"))))
        .containsAll(BASE_CAPABILITIES)
        .contains("SYS_ADMIN", "NET_RAW", "SYSLOG");

    HelmChart.Rendered forced =
        render("capabilities: {sysAdmin: false, netRaw: true, syslog: false, add: [CAP_IPC_LOCK]}");
    Set<String> expected = new TreeSet<>(BASE_CAPABILITIES);
    expected.addAll(List.of("NET_RAW", "IPC_LOCK"));
    assertThat(added(forced)).isEqualTo(expected);
    assertLeastPrivilege(forced.one(DaemonSet.class), Set.of("IPC_LOCK"));
  }

  @Test
  void installNotesSayWhyTheAgentHasEachCapability() throws IOException {
    String notes = HelmChart.installNotes("");
    assertThat(notes)
        .contains("BPF: load BPF programs")
        .contains("SYS_ADMIN: config containers.runtime_hook: fanotify permission events")
        .contains("config metrics.bpf_stats: BPF_ENABLE_STATS")
        .doesNotContain("WARNING");
    assertThat(HelmChart.installNotes("capabilities: {sysAdmin: false}"))
        .doesNotContain("SYS_ADMIN:")
        .contains("WARNING: without SYS_ADMIN the runtime hook cannot start");
    assertThat(HelmChart.installNotes(variant("gadgets needing more capabilities")))
        .contains(
            "NET_RAW: gadget trace_dns", "SYSLOG: gadget profile_cpu", "gadget trace_dns: setns");
  }

  @Test
  void installNotesSayWhereTheDashboardsAre() throws IOException {
    assertThat(HelmChart.installNotes("")).contains("--set dashboards.enabled=true");
    assertThat(HelmChart.installNotes("dashboards: {enabled: true, namespace: grafana}"))
        .contains("\"Gadget Exporter / Overview\"", "in the namespace grafana")
        .doesNotContain("--set dashboards.enabled=true");
  }

  @Test
  void everyCapabilityAndHostMountIsExplainedInTheDeploymentGuide() throws IOException {
    String guide =
        section(Files.readString(REPOSITORY.resolve("docs/deployment.md")), "## Security model");
    Set<String> all = new TreeSet<>(BASE_CAPABILITIES);
    all.addAll(CONDITIONAL_CAPABILITIES);
    for (String cap : all) {
      assertThat(guide).as("docs/deployment.md explains CAP_" + cap).contains("`CAP_" + cap + "`");
    }
    DaemonSet ds = render(variant("everything")).one(DaemonSet.class);
    for (Volume v : ds.getSpec().getTemplate().getSpec().getVolumes()) {
      if (v.getHostPath() != null) {
        assertThat(guide)
            .as("docs/deployment.md explains the host path " + v.getHostPath().getPath())
            .contains("`" + v.getHostPath().getPath() + "`");
      }
    }
  }

  @Test
  void rbacIsExactlyWhatTheKubernetesGuideDocuments() throws IOException {
    List<HasMetadata> documented = documentedRbac();
    ClusterRole docRole =
        (ClusterRole)
            documented.stream().filter(ClusterRole.class::isInstance).findFirst().orElseThrow();
    ClusterRoleBinding docBinding =
        (ClusterRoleBinding)
            documented.stream()
                .filter(ClusterRoleBinding.class::isInstance)
                .findFirst()
                .orElseThrow();

    HelmChart.Rendered r = render("");
    ClusterRole role = r.one(ClusterRole.class);
    ClusterRoleBinding binding = r.one(ClusterRoleBinding.class);
    assertThat(role.getRules()).isEqualTo(docRole.getRules());
    assertThat(role.getMetadata().getName()).isEqualTo(docRole.getMetadata().getName());
    assertThat(binding.getMetadata().getName()).isEqualTo(docBinding.getMetadata().getName());
    assertThat(binding.getRoleRef()).isEqualTo(docBinding.getRoleRef());
    assertThat(binding.getSubjects()).isEqualTo(docBinding.getSubjects());
    assertThat(r.one(ServiceAccount.class).getMetadata().getName())
        .isEqualTo(docBinding.getSubjects().get(0).getName());
    assertThat(r.one(DaemonSet.class).getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo(docBinding.getSubjects().get(0).getName());

    // "leave these out with traces: false"
    List<PolicyRule> withoutTraces =
        docRole.getRules().stream()
            .filter(
                rule ->
                    !rule.getApiGroups().contains("gadgetexporter.io")
                        && !rule.getResources().contains("nodes"))
            .toList();
    assertThat(withoutTraces).hasSize(3);
    assertThat(render(variant("Traces off")).one(ClusterRole.class).getRules())
        .isEqualTo(withoutTraces);

    HelmChart.Rendered off = render(variant("Kubernetes API off"));
    assertThat(off.all(ClusterRole.class)).isEmpty();
    assertThat(off.all(ClusterRoleBinding.class)).isEmpty();
    assertThat(
            off.one(DaemonSet.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getAutomountServiceAccountToken())
        .isFalse();
    assertThat(
            render("")
                .one(DaemonSet.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getAutomountServiceAccountToken())
        .isTrue();
  }

  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of("config: {http: {lisen: 0.0.0.0:9464}}", "lisen"),
        Arguments.of("config: {tracing: {}}", "tracing"),
        Arguments.of("config: {gadgets: [{name: exec}]}", "gadget"),
        Arguments.of("config: {gadgets: []}", "gadgets"),
        Arguments.of(
            "config: {gadgets: [{gadget: trace_exec, selectr: {namespaces: [shop]}}]}", "selectr"),
        Arguments.of("config: {http: {listen: 0.0.0.0}}", "listen"),
        Arguments.of("config: {http: {listen: '0.0.0.0:0'}}", "listen"),
        Arguments.of("config: {containers: {host_root: /}}", "host_root"),
        Arguments.of("capabilities: {sysAdmin: maybe}", "sysAdmin"),
        Arguments.of("image: {pullPolicy: Sometimes}", "pullPolicy"),
        Arguments.of("hostPaths: {extra: [run/k3s]}", "extra"),
        Arguments.of("updateStrategy: {type: Recreate}", "type"),
        Arguments.of("serviceMonitor: {enabled: true, interval: 30}", "interval"),
        Arguments.of("tolerance: []", "tolerance"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badValues")
  void theSchemaRejectsABadValue(String values, String naming) {
    assertThatThrownBy(() -> render(values))
        .hasMessageContaining("schema")
        .hasMessageContaining(naming);
  }

  @Test
  void theSchemasConfigHasExactlyTheKeysOfTheConfigurationReference() throws IOException {
    Set<String> documented = new TreeSet<>();
    Pattern row = Pattern.compile("^\\| `([^`]+)` \\|", Pattern.MULTILINE);
    Matcher m =
        row.matcher(
            section(Files.readString(REPOSITORY.resolve("docs/configuration.md")), "## Keys"));
    while (m.find()) {
      documented.add(m.group(1));
    }
    assertThat(documented).contains("http.listen", "gadgets[].metrics[].buckets");
    Set<String> inSchema = new TreeSet<>();
    schemaKeys(schema().getJsonObject("properties").getJsonObject("config"), "", inSchema);
    assertThat(inSchema).isEqualTo(documented);
  }

  @Test
  void everyValueIsInValuesYamlTheSchemaAndTheDeploymentGuide() throws IOException {
    Set<String> inValues = new TreeSet<>();
    valuePaths(chartValues(), schema(), "", inValues);
    Set<String> inSchema = new TreeSet<>();
    schemaValuePaths(schema(), "", inSchema);
    assertThat(inSchema).as("the schema knows every value of values.yaml").containsAll(inValues);
    Set<String> topLevel = new TreeSet<>(schema().getJsonObject("properties").fieldNames());
    topLevel.remove("global"); // what a parent chart passes down
    assertThat(chartValues().keySet())
        .as("values.yaml has every value of the schema")
        .isEqualTo(topLevel);
    String table = section(Files.readString(REPOSITORY.resolve("docs/deployment.md")), "## Values");
    for (String path : inValues) {
      assertThat(table)
          .as("docs/deployment.md's values table lists " + path)
          .contains("`" + path + "`");
    }
  }

  @Test
  void theHostMountsCoverEveryPathTheAgentReads() throws Exception {
    DaemonSet ds = render("").one(DaemonSet.class);
    String hostRoot =
        (String) map(map(chartValues().get("config")).get("containers")).get("host_root");
    Map<String, String> hostPathByMount = new LinkedHashMap<>();
    for (VolumeMount vm : agent(ds).getVolumeMounts()) {
      Volume v = volume(ds, vm.getName());
      if (v.getHostPath() != null) {
        hostPathByMount.put(vm.getMountPath(), v.getHostPath().getPath());
      }
    }
    // Mounted where the agent looks: a host path P at host_root + P, tracefs where Preflight looks.
    hostPathByMount.forEach(
        (mount, host) -> {
          if (!host.equals(values("hostPaths", "tracefs"))) {
            assertThat(mount).isEqualTo(hostRoot + host);
          }
        });
    assertThat(hostPathByMount).containsEntry("/sys/kernel/tracing", "/sys/kernel/tracing");

    List<Path> stateDirs = new ArrayList<>();
    RuntimeState.KNOWN_ROOTS.forEach(r -> stateDirs.add(r.path()));
    stateDirs.addAll(
        staticPaths("io.gadgetexporter.container.ContainerScanner", "CONTAINERD_TASK_DIRS"));
    stateDirs.add(
        (Path) staticField("io.gadgetexporter.container.ContainerScanner", "CRIO_CONTAINERS"));
    for (Path dir : stateDirs) {
      assertThat(hostPathByMount.values())
          .as("a mount holding " + dir)
          .anyMatch(h -> dir.startsWith(h));
    }
    String guide = Files.readString(REPOSITORY.resolve("docs/deployment.md"));
    for (Path binary :
        staticPaths("io.gadgetexporter.container.RuntimeHook", "WELL_KNOWN_RUNTIME_PATHS")) {
      boolean mounted = hostPathByMount.values().stream().anyMatch(h -> binary.startsWith(h));
      if (!mounted) {
        assertThat(guide)
            .as(binary + " is not mounted by default: docs/deployment.md says what to mount for it")
            .contains("`" + binary + "`");
      }
    }
  }

  @Test
  void theImagesEntryPointRunsTheChartsArguments() throws IOException {
    Containerfile file = Containerfile.parse(Files.readString(REPOSITORY.resolve("Containerfile")));
    Containerfile.Stage runtime = file.runtime();
    List<String> entrypoint =
        new JsonArray(runtime.last("ENTRYPOINT").orElseThrow())
            .stream().map(String::valueOf).toList();
    assertThat(entrypoint.get(0)).isEqualTo("java");
    int jar = entrypoint.indexOf("-jar");
    assertThat(jar).as("java ... -jar JAR").isPositive();
    String jarPath = entrypoint.get(jar + 1);
    assertThat(entrypoint).hasSize(jar + 2);

    // The jar is the agent's shaded jar, built in the build stage and copied to that path.
    String copy =
        runtime.all("COPY").stream().filter(c -> c.startsWith("--from=")).findFirst().orElseThrow();
    String[] words = copy.split("\\s+");
    assertThat(words[words.length - 1]).isEqualTo(jarPath);
    Containerfile.Stage build = file.stage(words[0].substring("--from=".length()));
    String built = words[words.length - 2];
    assertThat(build.all("RUN"))
        .anySatisfy(
            run ->
                assertThat(run)
                    .contains("mvn ", " package", "exporter/target/gadget-exporter.jar " + built));
    assertThat(Files.readString(REPOSITORY.resolve("exporter/pom.xml")))
        .contains("<finalName>gadget-exporter</finalName>");

    // The chart leaves the command to the image and gives arguments the agent's CLI accepts.
    HelmChart.Rendered r = render("");
    DaemonSet ds = r.one(DaemonSet.class);
    Container agent = agent(ds);
    assertThat(agent.getCommand()).as("command: the image's ENTRYPOINT").isEmpty();
    List<String> args = agent.getArgs();
    CommandLine.ParseResult parsed =
        new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
    assertThat(parsed.subcommand().commandSpec().name()).isEqualTo("run");
    String configPath = parsed.subcommand().matchedOptionValue("--config", null).toString();
    VolumeMount config = mountOf(ds, "config");
    assertThat(Path.of(configPath).getParent()).hasToString(config.getMountPath());
    assertThat(config.getSubPath()).as("a subPath mount never sees ConfigMap updates").isNull();
    assertThat(r.one(ConfigMap.class).getData())
        .containsKey(Path.of(configPath).getFileName().toString());

    assertThat(runtime.all("EXPOSE"))
        .containsExactly(Integer.toString(agent.getPorts().get(0).getContainerPort()));
    assertThat(Files.readString(REPOSITORY.resolve("Containerfile")))
        .contains("podman build -f Containerfile", "docker build -f Containerfile");
  }

  @Test
  void theRuntimeImageHoldsOnlyAJreLibelfAndZlib() throws IOException {
    Containerfile file = Containerfile.parse(Files.readString(REPOSITORY.resolve("Containerfile")));
    Set<String> packages = new TreeSet<>();
    Pattern install = Pattern.compile("apt-get install((?:\\s+[-\\w.+]+)+)");
    for (String run : file.runtime().all("RUN")) {
      Matcher m = install.matcher(run);
      while (m.find()) {
        for (String word : m.group(1).trim().split("\\s+")) {
          if (!word.startsWith("-")) {
            packages.add(word);
          }
        }
      }
    }
    assertThat(packages).containsExactlyInAnyOrder("openjdk-17-jre-headless", "libelf1", "zlib1g");
    assertThat(file.stages()).hasSize(2);
  }

  @Test
  void aConfigChangeReachesTheRunningAgentsWithoutARestart() {
    DaemonSet ds = render("").one(DaemonSet.class);
    assertThat(ds.getSpec().getTemplate().getMetadata().getAnnotations()).isNullOrEmpty();
    assertThat(mountOf(ds, "config").getSubPath()).isNull();
    DaemonSet rolling = render("rollOnConfigChange: true").one(DaemonSet.class);
    assertThat(rolling.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsKey("checksum/config");
  }

  @Test
  void kubernetesBefore130GetsTheAppArmorAnnotation() {
    DaemonSet current = render("").one(DaemonSet.class);
    assertThat(securityContextOf(current).getAppArmorProfile().getType()).isEqualTo("Unconfined");
    DaemonSet old = HelmChart.render(CHART, "", "1.29.4").one(DaemonSet.class);
    assertThat(securityContextOf(old).getAppArmorProfile()).isNull();
    assertThat(old.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("container.apparmor.security.beta.kubernetes.io/agent", "unconfined");
  }

  @Test
  void theChartsAppVersionIsTheAgentsVersion() throws IOException {
    Matcher m =
        Pattern.compile(
                "<artifactId>gadget-exporter-parent</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(Files.readString(REPOSITORY.resolve("pom.xml")));
    assertThat(m.find()).isTrue();
    assertThat(chartYaml().get("appVersion")).isEqualTo(m.group(1).replace("-SNAPSHOT", ""));
  }

  // ---- the DaemonSet's invariants

  /**
   * Least privilege, whatever the values: not privileged, every capability dropped and only known
   * ones added, read-only root, every host path read-only, the native library's directory a
   * writable emptyDir, the node's name from the downward API, probes on /healthz and /readyz.
   */
  private static void assertLeastPrivilege(DaemonSet ds, Set<String> extraCapabilities) {
    PodSpec pod = ds.getSpec().getTemplate().getSpec();
    Container agent = agent(ds);
    SecurityContext sc = agent.getSecurityContext();
    assertThat(sc.getPrivileged()).isFalse();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    Set<String> allowed = new TreeSet<>(BASE_CAPABILITIES);
    allowed.addAll(CONDITIONAL_CAPABILITIES);
    allowed.addAll(extraCapabilities);
    assertThat(sc.getCapabilities().getAdd())
        .containsAll(BASE_CAPABILITIES)
        .isSubsetOf(allowed)
        .doesNotHaveDuplicates();
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(pod.getHostPID()).isTrue();
    assertThat(pod.getHostIPC()).isNotEqualTo(Boolean.TRUE);

    for (VolumeMount vm : agent.getVolumeMounts()) {
      Volume v = volume(ds, vm.getName());
      if (v.getHostPath() != null) {
        assertThat(vm.getReadOnly())
            .as("host path " + v.getHostPath().getPath() + " read-only")
            .isTrue();
        assertThat(v.getHostPath().getPath())
            .isNotIn("/", "/proc", "/sys", "/etc", "/var", "/run", "/var/lib/kubelet");
      }
    }
    String nativeDir = env(agent, "GADGET_EXPORTER_NATIVE_DIR").getValue();
    VolumeMount nativeMount =
        agent.getVolumeMounts().stream()
            .filter(vm -> Path.of(nativeDir).startsWith(vm.getMountPath()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no volume at " + nativeDir));
    assertThat(volume(ds, nativeMount.getName()).getEmptyDir()).isNotNull();
    assertThat(nativeMount.getReadOnly()).isNotEqualTo(Boolean.TRUE);
    assertThat(env(agent, "NODE_NAME").getValueFrom().getFieldRef().getFieldPath())
        .isEqualTo("spec.nodeName");

    String port = agent.getPorts().get(0).getName();
    assertThat(agent.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(agent.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(agent.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(
            List.of(agent.getStartupProbe(), agent.getLivenessProbe(), agent.getReadinessProbe()))
        .allSatisfy(p -> assertThat(p.getHttpGet().getPort().getStrVal()).isEqualTo(port));
    assertThat(agent.getCommand()).isEmpty();
  }

  // ---- the agent's own checks

  private static AgentConfig acceptedByTheAgent(String configYaml) {
    return AgentAcceptance.check(configYaml, "config.yaml", NODE_ENV);
  }

  // ---- helpers

  private static String variant(String name) {
    return variants()
        .filter(a -> a.get()[0].equals(name))
        .map(a -> (String) a.get()[1])
        .findFirst()
        .orElseThrow();
  }

  private static Container agent(DaemonSet ds) {
    List<Container> containers = ds.getSpec().getTemplate().getSpec().getContainers();
    assertThat(containers).extracting(Container::getName).containsExactly("agent");
    return containers.get(0);
  }

  private static SecurityContext securityContextOf(DaemonSet ds) {
    return agent(ds).getSecurityContext();
  }

  private static SecurityContext securityContext(HelmChart.Rendered r) {
    return securityContextOf(r.one(DaemonSet.class));
  }

  private static Set<String> added(HelmChart.Rendered r) {
    return new TreeSet<>(securityContext(r).getCapabilities().getAdd());
  }

  private static Volume volume(DaemonSet ds, String name) {
    return ds.getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  private static VolumeMount mountOf(DaemonSet ds, String volume) {
    return agent(ds).getVolumeMounts().stream()
        .filter(m -> m.getName().equals(volume))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no mount of " + volume));
  }

  private static EnvVar env(Container c, String name) {
    return c.getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no variable " + name));
  }

  private static String configFile(HelmChart.Rendered r) {
    return r.one(ConfigMap.class).getData().get("config.yaml");
  }

  private static <T> T single(List<T> list) {
    assertThat(list).hasSize(1);
    return list.get(0);
  }

  /** docs/kubernetes.md's RBAC block: the ClusterRole and its binding. */
  private static List<HasMetadata> documentedRbac() throws IOException {
    Matcher blocks =
        Pattern.compile("```yaml\n(.*?)```", Pattern.DOTALL)
            .matcher(Files.readString(REPOSITORY.resolve("docs/kubernetes.md")));
    while (blocks.find()) {
      if (blocks.group(1).contains("kind: ClusterRole\n")) {
        return HelmChart.parse(blocks.group(1));
      }
    }
    throw new AssertionError("docs/kubernetes.md has no ClusterRole block");
  }

  /** The text of a markdown section, from its heading to the next heading of the same level. */
  private static String section(String markdown, String heading) {
    int start = markdown.indexOf("\n" + heading + "\n");
    assertThat(start).as("section " + heading).isNotNegative();
    String level = heading.substring(0, heading.indexOf(' ') + 1);
    int end = markdown.indexOf("\n" + level, start + heading.length() + 1);
    return end < 0 ? markdown.substring(start) : markdown.substring(start, end);
  }

  private static Map<String, Object> chartYaml() {
    return yaml(read(CHART.resolve("Chart.yaml")));
  }

  private static Map<String, Object> chartValues() {
    return yaml(read(CHART.resolve("values.yaml")));
  }

  private static Object values(String... path) {
    Object o = chartValues();
    for (String p : path) {
      o = map(o).get(p);
    }
    return o;
  }

  private static JsonObject schema() {
    return new JsonObject(read(CHART.resolve("values.schema.json")));
  }

  /** The schema's config keys, as docs/configuration.md writes them (gadgets[].name). */
  private static void schemaKeys(JsonObject node, String prefix, Set<String> out) {
    JsonObject props = node.getJsonObject("properties");
    if (props == null && node.getJsonObject("items") != null) {
      props = node.getJsonObject("items").getJsonObject("properties");
      prefix = prefix + "[]";
    }
    if (props == null) {
      return;
    }
    for (String key : props.fieldNames()) {
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      out.add(path);
      schemaKeys(props.getJsonObject(key), path, out);
    }
  }

  /** The schema's values: nested mappings followed, config and free-form mappings as leaves. */
  private static void schemaValuePaths(JsonObject node, String prefix, Set<String> out) {
    JsonObject props = node.getJsonObject("properties");
    for (String key : props.fieldNames()) {
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      JsonObject child = props.getJsonObject(key);
      if (!path.equals("config") && child.getJsonObject("properties") != null) {
        schemaValuePaths(child, path, out);
      } else {
        out.add(path);
      }
    }
  }

  private static void valuePaths(
      Map<String, Object> values, JsonObject schemaNode, String prefix, Set<String> out) {
    JsonObject props = schemaNode.getJsonObject("properties");
    for (Map.Entry<String, Object> e : values.entrySet()) {
      String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      JsonObject child = props == null ? null : props.getJsonObject(e.getKey());
      if (!path.equals("config")
          && child != null
          && child.getJsonObject("properties") != null
          && e.getValue() instanceof Map<?, ?> m) {
        valuePaths(map(m), child, path, out);
      } else {
        out.add(path);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Path> staticPaths(String className, String field) throws Exception {
    return (List<Path>) staticField(className, field);
  }

  /** A constant of a package-private class of the agent (the paths it reads). */
  private static Object staticField(String className, String field) throws Exception {
    Field f = Class.forName(className).getDeclaredField(field);
    f.setAccessible(true);
    return f.get(null);
  }

  private static Map<String, Object> deepMerge(Map<String, Object> base, Map<String, Object> over) {
    Map<String, Object> merged = new LinkedHashMap<>(base);
    for (Map.Entry<String, Object> e : over.entrySet()) {
      Object b = merged.get(e.getKey());
      if (b instanceof Map<?, ?> bm && e.getValue() instanceof Map<?, ?> om) {
        merged.put(e.getKey(), deepMerge(map(bm), map(om)));
      } else {
        merged.put(e.getKey(), e.getValue());
      }
    }
    return merged;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Map<String, Object> yaml(String text) {
    Object o = new Load(LoadSettings.builder().build()).loadFromString(text);
    return o == null ? Map.of() : map(o);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, String> stringMap(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, String>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    assertThat(o).isInstanceOf(List.class);
    return (List<Object>) o;
  }
}
