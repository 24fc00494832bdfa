package io.gadgetexporter.chart;

import static io.gadgetexporter.chart.HelmChart.REPOSITORY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.gadgetexporter.agent.Agent;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.container.testing.Runc;
import io.gadgetexporter.export.testing.PrometheusServer;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.dns.DnsPeer;
import io.gadgetexporter.gadget.dns.DnsWire;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The Grafana dashboards of {@code dashboards/}: well-formed for import (a data source variable
 * every panel uses, the node/namespace/pod variables), and, against a real Prometheus scraping a
 * live agent that runs the chart's default configuration while real programs, file opens, TCP
 * connects and DNS exchanges happen, every query of every panel — variables substituted as
 * Grafana does for "All" — parses and returns data.
 */
class DashboardsTest {
  private static final Path DASHBOARDS = REPOSITORY.resolve("dashboards");
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{?(\\w+)\\}?");
  private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.*),\\s*(\\w+)\\)");

  private static final Map<String, String> POD = Runc.CRI_POD_ANNOTATIONS;

  /** What Grafana puts in place of its built-in variables; ranges long enough for the test. */
  private static final Map<String, String> BUILT_IN =
      Map.of("__rate_interval", "5m", "__range", "1h", "__interval", "15s");

  @TempDir Path tmp;

  @Test
  void eachDashboardIsImportableAndItsPanelsUseTheDataSourceVariable() throws IOException {
    Map<String, JsonObject> dashboards = dashboards();
    assertThat(dashboards.keySet()).containsExactlyInAnyOrder("overview.json", "agent_health.json");
    Set<String> uids = new HashSet<>();
    for (Map.Entry<String, JsonObject> e : dashboards.entrySet()) {
      JsonObject d = e.getValue();
      assertThat(uids.add(d.getString("uid"))).as("uid of %s is unique", e.getKey()).isTrue();
      assertThat(d.getString("title")).startsWith("Gadget Exporter / ");
      Map<String, JsonObject> variables = variables(d);
      assertThat(variables.get("datasource").getString("type")).isEqualTo("datasource");
      assertThat(variables.get("datasource").getString("query")).isEqualTo("prometheus");
      assertThat(variables).containsKey("node");
      if (e.getKey().equals("overview.json")) {
        assertThat(variables).containsKeys("namespace", "pod");
      }
      for (JsonObject v : variables.values()) {
        if (v.getString("type").equals("query")) {
          assertThat(v.getJsonObject("datasource").getString("uid")).isEqualTo("${datasource}");
          // The test runs `definition`; Grafana runs `query.query`.
          assertThat(v.getJsonObject("query").getString("query")).isEqualTo(v.getString("definition"));
          assertThat(v.getString("allValue")).as("All must match series without the label").isEqualTo(".*");
          assertThat(usedVariables(v.getString("definition")))
              .as("variable %s refers to variables defined before it", v.getString("name"))
              .isSubsetOf(variables.keySet());
        }
      }
      List<JsonObject> panels = panels(d);
      assertThat(panels).isNotEmpty();
      Set<Integer> ids = new HashSet<>();
      for (JsonObject p : panels) {
        assertThat(ids.add(p.getInteger("id"))).as("panel id %s", p.getInteger("id")).isTrue();
        JsonObject grid = p.getJsonObject("gridPos");
        assertThat(grid.getInteger("x") + grid.getInteger("w")).isLessThanOrEqualTo(24);
        if (p.getString("type").equals("row")) {
          continue;
        }
        assertThat(p.getString("description")).as(p.getString("title")).isNotBlank();
        assertThat(p.getJsonObject("datasource").getString("uid")).isEqualTo("${datasource}");
        assertThat(p.getJsonArray("targets")).as(p.getString("title")).isNotEmpty();
        if (p.getString("type").equals("table")) {
          // Each column a table renames is a label its query groups by.
          String expr = targets(p).get(0).getString("expr");
          JsonObject rename =
              p.getJsonArray("transformations").getJsonObject(0).getJsonObject("options")
                  .getJsonObject("renameByName");
          for (String label : rename.fieldNames()) {
            if (!label.equals("Value")) {
              assertThat(expr).as(p.getString("title")).containsPattern("by \\([^)]*\\b" + label + "\\b");
            }
          }
        }
        for (JsonObject t : targets(p)) {
          assertThat(t.getString("expr")).isNotBlank();
          Set<String> used = usedVariables(t.getString("expr"));
          used.removeAll(BUILT_IN.keySet());
          assertThat(used).as(p.getString("title")).isSubsetOf(variables.keySet());
        }
      }
    }
  }

  @Test
  void everyPanelQueryReturnsDataFromALiveAgentScrapedByPrometheus() throws Exception {
    try (Runc runc = Runc.open();
        DnsResponder dns = new DnsResponder()) {
      String config = agentConfig(runc.root(), dns.port());
      try (Agent agent =
              Agent.start(
                  ConfigLoader.parse(config, "config.yaml", Map.of()),
                  GadgetCatalog.builtIn(),
                  EventSink.NONE);
          PrometheusServer prometheus =
              PrometheusServer.scraping("127.0.0.1:" + agent.httpPort()).start()) {
        prometheus.awaitTargetUp(Duration.ofSeconds(30));
        // What the panels show, done for real: a pod's container starts programs (one exec
        // fails), opens files (one open fails); this JVM connects over TCP (one connect refused)
        // and resolves two names (one NXDOMAIN). Twice: a rate needs the counters to grow while
        // Prometheus watches, and the first round only makes their series.
        activity(runc, dns, "gx-dash-1");
        for (String seen :
            List.of(
                "process_execs_total{k8s_pod_name=\"web-7f9c\"}",
                "file_opens_total{k8s_pod_name=\"web-7f9c\"}",
                "tcp_connects_total",
                "dns_latency_seconds_count{dns_message_qr=\"response\"}")) {
          prometheus.awaitQuery(seen, r -> !r.isEmpty(), Duration.ofSeconds(30));
        }
        activity(runc, dns, "gx-dash-2");

        Map<String, String> all = new LinkedHashMap<>(BUILT_IN);
        List<String> checked = new ArrayList<>();
        for (Map.Entry<String, JsonObject> e : dashboards().entrySet()) {
          JsonObject d = e.getValue();
          // The variables list what the agent reports: its node, the pod's namespace and name.
          for (JsonObject v : variables(d).values()) {
            if (v.getString("type").equals("query")) {
              all.put(v.getString("name"), v.getString("allValue"));
            }
          }
          Map<String, String> expectedValue =
              Map.of("node", "gx-node", "namespace", "shop", "pod", "web-7f9c", "instance", "exec");
          for (JsonObject v : variables(d).values()) {
            if (v.getString("type").equals("query")) {
              Matcher m = LABEL_VALUES.matcher(v.getString("definition"));
              assertThat(m.matches()).as(v.getString("definition")).isTrue();
              String label = m.group(2);
              String values = "count by (" + label + ") (" + substitute(m.group(1), all) + ")";
              prometheus.awaitQuery(
                  values,
                  r ->
                      r.stream()
                          .anyMatch(
                              s -> expectedValue.get(v.getString("name")).equals(s.labels().get(label))),
                  Duration.ofSeconds(60));
            }
          }
          for (JsonObject p : panels(d)) {
            for (JsonObject t : targets(p)) {
              String expr = substitute(t.getString("expr"), all);
              String what = e.getKey() + " / " + p.getString("title") + " / " + t.getString("refId");
              // awaitQuery fails, naming the query, when none comes.
              prometheus.awaitQuery(
                  expr,
                  r -> r.stream().anyMatch(s -> Double.isFinite(s.value())),
                  Duration.ofSeconds(60));
              checked.add(what);
            }
          }
        }
        assertThat(checked).hasSizeGreaterThan(30);
        // The tables show what happened, not just something: the pod's failures by name, with
        // the node, namespace and pod chosen as a user would (Grafana puts the value itself).
        Map<String, String> thePod = new LinkedHashMap<>(all);
        thePod.putAll(Map.of("node", "gx-node", "namespace", "shop", "pod", "web-7f9c"));
        // Both rounds' failures: the count over the range starts a series from 0, where
        // increase() would miss the first round's (the series' first sample already holds it).
        assertThat(
                prometheus.query(
                    substitute(target("overview.json", "Failed execs").getString("expr"), thePod)))
            .extracting(s -> s.labels().get("process_exec_ret") + "=" + s.value())
            .containsExactly("ENOENT=2.0");
        // (cat fails more opens than its argument: as many as the counter holds, all of them.)
        double catFailures =
            prometheus
                .query(
                    "sum(file_opens_total{k8s_pod_name=\"web-7f9c\", process_executable_name=\"cat\","
                        + " file_open_error=\"ENOENT\"})")
                .get(0)
                .value();
        assertThat(catFailures).isGreaterThanOrEqualTo(2);
        assertThat(
                prometheus.query(
                    substitute(
                        target("overview.json", "Top failing opens").getString("expr"), thePod)))
            .extracting(
                s ->
                    s.labels().get("process_executable_name")
                        + " "
                        + s.labels().get("file_open_error")
                        + "="
                        + s.value())
            .containsExactly("cat ENOENT=" + catFailures);
        assertThat(
                prometheus.query(
                    substitute(target("overview.json", "Failed connects").getString("expr"), all)))
            .anyMatch(s -> "ECONNREFUSED".equals(s.labels().get("network_tcp_connection_error")));
        assertThat(
                prometheus.query(
                    substitute(
                        target("overview.json", "Top names not found").getString("expr"), all)))
            .extracting(s -> s.labels().get("dns_question_name") + "=" + s.value())
            .containsExactly("nx.gx-dashboard.test=2.0");
      }
    }
  }

  @Test
  void aVariableLeftUnsubstitutedIsCaught() {
    assertThatThrownBy(() -> substitute("rate(x{a=~\"$nowhere\"}[5m])", BUILT_IN))
        .hasMessageContaining("$nowhere");
  }

  /**
   * The chart's default configuration as its ConfigMap renders it, with what a test machine
   * differs in: no /host prefix, the test's runc root, a node name, no Kubernetes API, DNS on the
   * test responder's port; plus an aggregating gadget with a tiny max_rows, for the health
   * dashboard's aggregate panel.
   */
  @SuppressWarnings("unchecked")
  private static String agentConfig(Path runcRoot, int dnsPort) {
    String rendered =
        HelmChart.render("").one(ConfigMap.class).getData().get("config.yaml");
    Map<String, Object> config =
        (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(rendered);
    config.put("http", Map.of("listen", "127.0.0.1:0"));
    Map<String, Object> containers = (Map<String, Object>) config.get("containers");
    containers.remove("host_root");
    containers.put("runtime_state_dirs", List.of(runcRoot.toString()));
    config.put("resource", Map.of("node_name", "gx-node"));
    config.put("kubernetes", Map.of("enabled", false));
    List<Map<String, Object>> gadgets = new ArrayList<>((List<Map<String, Object>>) config.get("gadgets"));
    Map<String, Object> dns =
        gadgets.stream().filter(g -> "trace_dns".equals(g.get("gadget"))).findFirst().orElseThrow();
    dns.put("params", Map.of("port", dnsPort));
    gadgets.add(
        Map.of(
            "name", "syscalls",
            "gadget", "syscall_count",
            "params", Map.of("interval", "1s", "max_rows", 1)));
    config.put("gadgets", gadgets);
    return new Dump(DumpSettings.builder().build()).dumpToString(config);
  }

  private void activity(Runc runc, DnsResponder dns, String container) throws IOException {
    runc.runShortLived(
        container,
        tmp.resolve(container),
        List.of("sh", "-c", "cat /etc/hostname; cat /gx-no-such-file; /gx-no-such-program; exit 0"),
        POD);
    tcpConnects();
    dns.ask("www.gx-dashboard.test", DnsWire.A);
    dns.ask("nx.gx-dashboard.test", DnsWire.A);
  }

  /** One connect that is established and one that is refused, on loopback. */
  private static void tcpConnects() throws IOException {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    try (ServerSocket server = new ServerSocket(0, 50, loopback);
        Socket client = new Socket(loopback, server.getLocalPort());
        Socket accepted = server.accept()) {
      assertThat(accepted.isConnected()).isTrue();
    }
    int closed;
    try (ServerSocket s = new ServerSocket(0, 50, loopback)) {
      closed = s.getLocalPort();
    }
    assertThatThrownBy(() -> new Socket(loopback, closed).close())
        .isInstanceOf(ConnectException.class);
  }

  /** Grafana's substitution of {@code $name} and {@code ${name}}; an unknown one is an error. */
  static String substitute(String expr, Map<String, String> values) {
    Matcher m = VARIABLE.matcher(expr);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = values.get(m.group(1));
      if (value == null) {
        throw new IllegalArgumentException("no value for " + m.group() + " in " + expr);
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static Set<String> usedVariables(String expr) {
    Set<String> used = new HashSet<>();
    Matcher m = VARIABLE.matcher(expr);
    while (m.find()) {
      used.add(m.group(1));
    }
    return used;
  }

  private static Map<String, JsonObject> dashboards() throws IOException {
    Map<String, JsonObject> out = new LinkedHashMap<>();
    try (var files = Files.list(DASHBOARDS)) {
      for (Path p : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        out.put(p.getFileName().toString(), new JsonObject(Files.readString(p)));
      }
    }
    return out;
  }

  private static Map<String, JsonObject> variables(JsonObject dashboard) {
    Map<String, JsonObject> out = new LinkedHashMap<>();
    JsonArray list = dashboard.getJsonObject("templating").getJsonArray("list");
    for (int i = 0; i < list.size(); i++) {
      out.put(list.getJsonObject(i).getString("name"), list.getJsonObject(i));
    }
    return out;
  }

  /** Every panel, those inside collapsed rows too. */
  private static List<JsonObject> panels(JsonObject dashboard) {
    List<JsonObject> out = new ArrayList<>();
    JsonArray top = dashboard.getJsonArray("panels");
    for (int i = 0; i < top.size(); i++) {
      JsonObject p = top.getJsonObject(i);
      out.add(p);
      JsonArray nested = p.getJsonArray("panels", new JsonArray());
      for (int j = 0; j < nested.size(); j++) {
        out.add(nested.getJsonObject(j));
      }
    }
    return out;
  }

  private static List<JsonObject> targets(JsonObject panel) {
    List<JsonObject> out = new ArrayList<>();
    JsonArray t = panel.getJsonArray("targets", new JsonArray());
    for (int i = 0; i < t.size(); i++) {
      out.add(t.getJsonObject(i));
    }
    return out;
  }

  private static JsonObject target(String dashboard, String title) throws IOException {
    return panels(dashboards().get(dashboard)).stream()
        .filter(p -> title.equals(p.getString("title")))
        .map(p -> targets(p).get(0))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no panel " + title + " in " + dashboard));
  }

  /** {@link DnsPeer}'s responder on a free port of 127.0.0.1, and the client that asks it. */
  private static final class DnsResponder implements AutoCloseable {
    private final DatagramSocket server =
        new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    private final Thread thread = new Thread(() -> DnsPeer.serve(server), "dns-responder");

    DnsResponder() throws IOException {
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return server.getLocalPort();
    }

    void ask(String name, int type) throws IOException {
      try (DatagramSocket client = new DatagramSocket()) {
        client.setSoTimeout(5000);
        byte[] q = DnsWire.query(4242, name, type);
        client.send(new DatagramPacket(q, q.length, server.getLocalSocketAddress()));
        client.receive(new DatagramPacket(new byte[512], 512));
      }
    }

    @Override
    public void close() throws InterruptedException {
      server.close();
      thread.join(5000);
    }
  }
}
