package io.gadgetexporter.kubernetes.trace;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.gadgetexporter.agent.Agent;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetInstance;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Traces run by the real {@link Agent} (gadgets loaded into the kernel, HTTP served), driven through
 * fabric8's mock API server: the instance attaches and its events reach the status, the metrics and
 * the API; deleting the Trace leaves no program of it; an invalid Trace fails alone.
 */
@EnableKubernetesMockClient(crud = true)
class TraceAgentTest {

  private static final String NODE = "node-a";
  private static final Path CRD =
      Path.of("../charts/gadget-exporter/crds/traces.gadgetexporter.io.yaml");
  private static final Duration WAIT = Duration.ofSeconds(20);

  KubernetesClient client;
  KubernetesMockServer server;

  private Agent agent;
  private TraceController controller;

  @BeforeEach
  void setUp() throws Exception {
    client.apiextensions().v1().customResourceDefinitions().load(CRD.toFile()).create();
    client
        .nodes()
        .resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata().build())
        .create();
    agent =
        Agent.start(
            ConfigLoader.parse(
                """
                http:
                  listen: 127.0.0.1:0
                containers:
                  enabled: false
                gadgets:
                  - name: exec
                    gadget: trace_exec
                    ring_buffer:
                      drain_interval: 20ms
                """,
                "agent.yaml",
                Map.of()),
            GadgetCatalog.builtIn(),
            EventSink.NONE);
    controller = new TraceController(client, NODE, agent, Duration.ofMillis(300));
    controller.registerMetrics(agent.meter());
    agent.readinessDetail("traces", () -> controller.states().toString());
    controller.start();
    await("synced", controller::synced);
  }

  @AfterEach
  void tearDown() {
    if (controller != null) {
      controller.close();
    }
    if (agent != null) {
      agent.close();
    }
  }

  @Test
  void aTraceRunsInTheAgentUntilDeletedAndLeavesNoProgramBehind() throws Exception {
    GadgetInstance fromConfig = agent.instance("exec").orElseThrow();
    int programsBefore = TraceControllerTest.bpfProgramFds();

    create(
        "execs",
        """
          gadget: trace_exec
          params:
            max_args: 4
          ring_buffer:
            drain_interval: 20ms
        """);

    await("status Running", () -> state("execs", "Running"));
    GadgetInstance traced = agent.instance("trace/execs").orElseThrow();
    assertThat(traced.state()).isEqualTo(GadgetInstance.State.RUNNING);
    assertThat(traced.params()).containsEntry("max_args", 4L);
    assertThat(agent.sourceOf("trace/execs")).contains("trace/execs");
    assertThat(TraceControllerTest.bpfProgramFds()).isGreaterThan(programsBefore);

    runTrue(5);
    await("events in the status", () -> entry("execs").getEvents() >= 5);
    assertThat(get("/api/v1/gadgets")).contains("\"trace/execs\"").contains("\"exec\"");
    assertThat(get("/metrics"))
        .contains("gadget_instance=\"trace/execs\"")
        .contains("gadget_traces{state=\"running\"} 1");
    assertThat(get("/readyz")).contains("\"traces\"").contains("execs=running");

    long configEvents = fromConfig.eventsTotal();
    client.resources(Trace.class).withName("execs").delete();

    await("instance stopped", () -> traced.state() == GadgetInstance.State.STOPPED);
    await("gone from the agent", () -> agent.instance("trace/execs").isEmpty());
    assertThat(agent.instances()).containsExactly(fromConfig);
    assertThat(TraceControllerTest.bpfProgramFds())
        .as("BPF programs this process holds")
        .isEqualTo(programsBefore);
    assertThat(get("/api/v1/gadgets")).doesNotContain("trace/execs");
    // The config file's instance never noticed.
    assertThat(agent.instance("exec")).containsSame(fromConfig);
    assertThat(fromConfig.state()).isEqualTo(GadgetInstance.State.RUNNING);
    runTrue(1);
    await("the config's instance counts on", () -> fromConfig.eventsTotal() > configEvents);
  }

  @Test
  void anInvalidTraceFailsAloneAndTheAgentStaysReady() throws Exception {
    GadgetInstance fromConfig = agent.instance("exec").orElseThrow();
    create("good", "  gadget: trace_open\n");
    await("good runs", () -> state("good", "Running"));
    GadgetInstance good = agent.instance("trace/good").orElseThrow();

    create("bad-param", "  gadget: trace_exec\n  params: {max_args: 999}\n");
    create("bad-selector", "  gadget: trace_exec\n  selector: {namespaces: [shop]}\n");
    create("unknown", "  gadget: trace_nothing\n");

    await("bad-param failed", () -> state("bad-param", "Failed"));
    assertThat(entry("bad-param").getReason()).isEqualTo("InvalidSpec");
    assertThat(entry("bad-param").getMessage())
        .isEqualTo("spec.params.max_args: must be at most 64, got 999");
    await("bad-selector failed", () -> state("bad-selector", "Failed"));
    assertThat(entry("bad-selector").getMessage()).contains("container discovery");
    await("unknown failed", () -> state("unknown", "Failed"));
    assertThat(entry("unknown").getMessage()).startsWith("spec.gadget: unknown gadget 'trace_nothing'");

    assertThat(agent.instances()).containsExactlyInAnyOrder(fromConfig, good);
    assertThat(good.state()).isEqualTo(GadgetInstance.State.RUNNING);
    assertThat(fromConfig.state()).isEqualTo(GadgetInstance.State.RUNNING);
    assertThat(agent.readiness().ready()).isTrue();
    assertThat(get("/metrics")).contains("gadget_traces{state=\"failed\"} 3");
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private void create(String name, String specYaml) {
    client.resources(Trace.class).resource(Traces.trace(name, specYaml)).create();
  }

  private TraceNodeStatus entry(String trace) {
    Trace t = client.resources(Trace.class).withName(trace).get();
    return t == null || t.getStatus() == null ? null : t.getStatus().getNodes().get(NODE);
  }

  private boolean state(String trace, String state) {
    TraceNodeStatus s = entry(trace);
    return s != null && state.equals(s.getState());
  }

  private String get(String path) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + path))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  private static void runTrue(int times) throws Exception {
    for (int i = 0; i < times; i++) {
      new ProcessBuilder("true").start().waitFor();
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        // Not there yet.
      }
      Thread.sleep(50);
    }
    throw new AssertionError("timed out waiting for: " + what);
  }
}
