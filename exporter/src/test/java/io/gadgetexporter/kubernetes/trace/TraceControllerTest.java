package io.gadgetexporter.kubernetes.trace;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.gadgetexporter.gadget.GadgetInstance;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The controller against fabric8's mock API server in CRUD mode (the CRD from the chart created in
 * it, so the status subresource behaves as declared) and {@link TestLifecycle}, which loads the
 * real gadgets into the kernel.
 *
 * <p>One difference from a real API server: a JSON merge patch setting a key of {@code
 * status.nodes} to null leaves the key with a null value instead of removing it, so "no entry"
 * here means no key or a null one ({@link #entry}).
 */
@EnableKubernetesMockClient(crud = true)
class TraceControllerTest {

  private static final String NODE = "node-a";
  private static final Path CRD = Path.of("../charts/gadget-exporter/crds/traces.gadgetexporter.io.yaml");
  private static final Duration WAIT = Duration.ofSeconds(20);

  KubernetesClient client;
  KubernetesMockServer server;

  private TestLifecycle lifecycle;
  private TraceController controller;

  @BeforeEach
  void setUp() {
    client.apiextensions().v1().customResourceDefinitions().load(CRD.toFile()).create();
    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName(NODE)
                .withLabels(Map.of("role", "web"))
                .endMetadata()
                .build())
        .create();
    lifecycle = new TestLifecycle();
  }

  @AfterEach
  void tearDown() {
    if (controller != null) {
      controller.close();
    }
    lifecycle.close();
  }

  private void startController(Duration statusInterval) throws InterruptedException {
    controller = new TraceController(client, NODE, lifecycle, statusInterval);
    controller.start();
    await("synced", controller::synced);
  }

  @Test
  void aCreatedTraceRunsOnThisNodeAndReportsItsEvents() throws Exception {
    startController(Duration.ofMillis(300));
    int programsBefore = bpfProgramFds();

    create("exec", "  gadget: trace_exec\n  params: {max_args: 8}\n");

    await("instance running", () -> running("trace/exec"));
    assertThat(bpfProgramFds()).isGreaterThan(programsBefore);
    await("status Running", () -> state("exec", "Running"));
    TraceNodeStatus s = entry("exec");
    assertThat(s.getObservedGeneration()).isEqualTo(1L);
    assertThat(s.getReason()).isNull();
    assertThat(s.getMessage()).isNull();
    assertThat(s.getLost()).isZero();
    assertThat(s.getLastTransitionTime()).isNotNull();
    assertThat(s.getLastUpdateTime()).isNotNull();
    assertThat(controller.states()).containsExactly(Map.entry("exec", "running"));

    for (int i = 0; i < 5; i++) {
      new ProcessBuilder("true").start().waitFor();
    }
    await("events counted in the status", () -> entry("exec").getEvents() >= 5);
    assertThat(entry("exec").getLastTransitionTime()).isEqualTo(s.getLastTransitionTime());
  }

  @Test
  void aTraceWhoseNodeSelectorDoesNotMatchRunsNothingUntilTheNodeIsRelabelled() throws Exception {
    startController(Duration.ofMillis(300));
    create(
        "db-exec",
        "  gadget: trace_exec\n  nodeSelector:\n    matchLabels: {role: db}\n");
    create("web-exec", "  gadget: trace_exec\n  nodeSelector:\n    matchLabels: {role: web}\n");

    await("the matching one runs", () -> state("web-exec", "Running"));
    Thread.sleep(500); // The other had its chance, in order, on the same thread.
    assertThat(lifecycle.sources()).containsOnlyKeys("trace/web-exec");
    assertThat(lifecycle.calls()).noneMatch(c -> c.startsWith("trace/db-exec"));
    assertThat(entry("db-exec")).isNull();

    relabel(Map.of("role", "db"));

    await("the other runs", () -> state("db-exec", "Running"));
    await("the first stops", () -> !lifecycle.sources().containsKey("trace/web-exec"));
    await("the first's entry goes", () -> entry("web-exec") == null);
    assertThat(lifecycle.sources()).containsOnlyKeys("trace/db-exec");
    assertThat(controller.states()).containsOnlyKeys("db-exec");
  }

  @Test
  void aDeletedTraceIsDetached() throws Exception {
    startController(Duration.ofMillis(300));
    int programsBefore = bpfProgramFds();
    create("exec", "  gadget: trace_exec\n");
    await("status Running", () -> state("exec", "Running"));
    GadgetInstance instance = lifecycle.instance("trace/exec").orElseThrow();
    assertThat(bpfProgramFds()).isGreaterThan(programsBefore);

    client.resources(Trace.class).withName("exec").delete();

    await("instance stopped", () -> instance.state() == GadgetInstance.State.STOPPED);
    assertThat(lifecycle.instance("trace/exec")).isEmpty();
    assertThat(lifecycle.calls()).last().isEqualTo("trace/exec []");
    assertThat(bpfProgramFds()).as("BPF programs held by this process").isEqualTo(programsBefore);
    await("no longer listed", () -> controller.states().isEmpty());
  }

  @Test
  void anInvalidTraceFailsWithItsReasonAndLeavesTheOthersAlone() throws Exception {
    startController(Duration.ofMillis(300));
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    SdkMeterProvider meters = SdkMeterProvider.builder().registerMetricReader(reader).build();
    controller.registerMetrics(meters.get("test"));
    create("good", "  gadget: trace_exec\n");
    await("the good one runs", () -> state("good", "Running"));
    GadgetInstance good = lifecycle.instance("trace/good").orElseThrow();

    create("no-such-gadget", "  gadget: trace_nothing\n");
    create("bad-param", "  gadget: trace_exec\n  params: {max_arg: 8}\n");
    create("bad-key", "  gadget: trace_exec\n  paramz: {max_args: 8}\n");
    create("named", "  gadget: trace_exec\n  name: exec\n");
    create("path", "  gadget: /tmp/gadget\n");
    create(
        "bad-selector",
        "  gadget: trace_exec\n  nodeSelector:\n    matchExpressions:\n"
            + "      - {key: role, operator: Equals, values: [web]}\n");

    Map<String, String> expected =
        Map.of(
            "no-such-gadget", "spec.gadget: unknown gadget 'trace_nothing'",
            "bad-param", "spec.params.max_arg: unknown parameter 'max_arg' for gadget trace_exec",
            "bad-key", "spec.paramz: unknown key 'paramz'; did you mean 'params'?",
            "named", "spec.name: is not set here: the instance is named 'trace/named'",
            "path", "spec.gadget: '/tmp/gadget' is a path: a Trace runs built-in gadgets only",
            "bad-selector",
                "spec.nodeSelector.matchExpressions[0].operator: 'Equals' is not one of In,");
    for (Map.Entry<String, String> e : expected.entrySet()) {
      await(e.getKey() + " failed", () -> state(e.getKey(), "Failed"));
      TraceNodeStatus s = entry(e.getKey());
      assertThat(s.getReason()).as(e.getKey()).isEqualTo("InvalidSpec");
      assertThat(s.getMessage()).as(e.getKey()).startsWith(e.getValue());
      assertThat(s.getObservedGeneration()).isEqualTo(1L);
      assertThat(s.getEvents()).isNull();
      assertThat(lifecycle.instance("trace/" + e.getKey())).isEmpty();
    }

    assertThat(lifecycle.instance("trace/good")).containsSame(good);
    assertThat(good.state()).isEqualTo(GadgetInstance.State.RUNNING);
    assertThat(lifecycle.sources()).containsOnlyKeys("trace/good");
    assertThat(state("good", "Running")).isTrue();
    assertThat(controller.states())
        .hasSize(7)
        .containsEntry("good", "running")
        .hasEntrySatisfying(
            "bad-key", v -> assertThat(v).startsWith("failed: spec.paramz: unknown key"));
    assertThat(traceGauge(reader)).containsExactlyInAnyOrderEntriesOf(Map.of("running", 1L, "failed", 6L));
    meters.close();
  }

  @Test
  void anEditedSpecRestartsTheInstanceWithTheNewDefinition() throws Exception {
    startController(Duration.ofMillis(300));
    create("exec", "  gadget: trace_exec\n  params: {max_args: 8}\n");
    await("status Running", () -> state("exec", "Running"));
    GadgetInstance first = lifecycle.instance("trace/exec").orElseThrow();

    edit("exec", s -> s.setParams(Map.of("max_args", 16)));

    await("observed generation 2", () -> entry("exec").getObservedGeneration() == 2L);
    GadgetInstance second = lifecycle.instance("trace/exec").orElseThrow();
    assertThat(second).isNotSameAs(first);
    assertThat(second.params()).containsEntry("max_args", 16L);
    assertThat(second.state()).isEqualTo(GadgetInstance.State.RUNNING);
    assertThat(first.state()).isEqualTo(GadgetInstance.State.STOPPED);
    assertThat(entry("exec").getState()).isEqualTo("Running");

    // Only the node selector changes, and still matches: nothing restarts.
    edit(
        "exec",
        s ->
            s.setNodeSelector(
                new io.fabric8.kubernetes.api.model.LabelSelectorBuilder()
                    .withMatchLabels(Map.of("role", "web"))
                    .build()));
    await("observed generation 3", () -> entry("exec").getObservedGeneration() == 3L);
    assertThat(lifecycle.instance("trace/exec")).containsSame(second);

    // Made invalid: what runs is what the spec says, so nothing.
    edit("exec", s -> s.setParams(Map.of("max_args", 1000)));
    await("failed", () -> state("exec", "Failed"));
    assertThat(entry("exec").getMessage()).startsWith("spec.params.max_args: ");
    assertThat(entry("exec").getObservedGeneration()).isEqualTo(4L);
    assertThat(lifecycle.instance("trace/exec")).isEmpty();
    assertThat(second.state()).isEqualTo(GadgetInstance.State.STOPPED);

    // Fixed: runs again.
    edit("exec", s -> s.setParams(Map.of("max_args", 20)));
    await("running again", () -> state("exec", "Running"));
    assertThat(lifecycle.instance("trace/exec").orElseThrow().params()).containsEntry("max_args", 20L);
  }

  @Test
  void countersAreWrittenAtMostEveryIntervalAndStatesAtOnce() throws Exception {
    startController(Duration.ofHours(1));
    create("exec", "  gadget: trace_exec\n");
    await("status Running", () -> state("exec", "Running"));
    for (int i = 0; i < 5; i++) {
      new ProcessBuilder("true").start().waitFor();
    }
    await("counted", () -> lifecycle.instance("trace/exec").orElseThrow().eventsTotal() >= 5);
    Thread.sleep(TraceController.MAX_CHECK_PERIOD.toMillis() + 1000);
    assertThat(statusPatches()).as("status writes").isEqualTo(1);
    assertThat(entry("exec").getEvents()).isZero();

    edit("exec", s -> s.setParams(Map.of("max_args", 0)));
    await("failed at once", () -> state("exec", "Failed"));
    assertThat(statusPatches()).isEqualTo(2);
  }

  @Test
  void anEntryRemovedByAnotherWriterIsWrittenAgain() throws Exception {
    startController(Duration.ofMillis(300));
    create("exec", "  gadget: trace_exec\n");
    await("status Running", () -> state("exec", "Running"));
    client
        .resources(Trace.class)
        .withName("exec")
        .subresource("status")
        .patch(
            io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
            "{\"status\":{\"nodes\":{\"" + NODE + "\":null}}}");
    assertThat(entry("exec")).isNull();
    await("written again", () -> state("exec", "Running"));
  }

  @Test
  void closingStopsTheInstancesAndLeavesTheTraces() throws Exception {
    startController(Duration.ofMillis(300));
    create("exec", "  gadget: trace_exec\n");
    await("status Running", () -> state("exec", "Running"));
    GadgetInstance instance = lifecycle.instance("trace/exec").orElseThrow();

    controller.close();

    assertThat(instance.state()).isEqualTo(GadgetInstance.State.STOPPED);
    assertThat(lifecycle.sources()).isEmpty();
    assertThat(state("exec", "Running")).as("the last report stays").isTrue();
    assertThat(controller.states()).isEmpty();
  }

  @Test
  void theApiServerGoingAwayStopsNoTrace() throws Exception {
    startController(Duration.ofMillis(300));
    create("exec", "  gadget: trace_exec\n");
    await("status Running", () -> state("exec", "Running"));
    GadgetInstance instance = lifecycle.instance("trace/exec").orElseThrow();

    server.shutdown();
    new ProcessBuilder("true").start().waitFor(); // counters move: status writes now fail
    Thread.sleep(TraceController.MAX_CHECK_PERIOD.toMillis() + 1000);

    assertThat(lifecycle.instance("trace/exec")).containsSame(instance);
    assertThat(instance.state()).isEqualTo(GadgetInstance.State.RUNNING);
    assertThat(controller.states()).containsExactly(Map.entry("exec", "running"));
    assertThat(lifecycle.calls()).containsExactly("trace/exec [trace/exec]");

    // Closing does not wait for the API server: a status write in progress is abandoned.
    long start = System.nanoTime();
    controller.close();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(instance.state()).isEqualTo(GadgetInstance.State.STOPPED);
  }

  @Test
  void aTraceWithoutNodeSelectorRunsBeforeTheNodeIsKnown() throws Exception {
    client.nodes().withName(NODE).delete();
    startController(Duration.ofMillis(300));
    create("any", "  gadget: trace_exec\n");
    create("web", "  gadget: trace_exec\n  nodeSelector:\n    matchLabels: {role: web}\n");
    await("any runs", () -> state("any", "Running"));
    Thread.sleep(300);
    assertThat(lifecycle.sources()).containsOnlyKeys("trace/any");

    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName(NODE)
                .withLabels(Map.of("role", "web"))
                .endMetadata()
                .build())
        .create();
    await("web runs once the labels are known", () -> state("web", "Running"));
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private void create(String name, String specYaml) {
    client.resources(Trace.class).resource(Traces.trace(name, specYaml)).create();
  }

  private void edit(String name, java.util.function.Consumer<TraceSpec> change) {
    Trace t = client.resources(Trace.class).withName(name).get();
    change.accept(t.getSpec());
    client.resources(Trace.class).resource(t).update();
  }

  private void relabel(Map<String, String> labels) {
    Node node = client.nodes().withName(NODE).get();
    node.getMetadata().setLabels(labels);
    client.nodes().resource(node).update();
  }

  /** This node's entry in the Trace's status, from the API server; null when there is none. */
  private TraceNodeStatus entry(String trace) {
    Trace t = client.resources(Trace.class).withName(trace).get();
    if (t == null || t.getStatus() == null) {
      return null;
    }
    return t.getStatus().getNodes().get(NODE);
  }

  private boolean state(String trace, String state) {
    TraceNodeStatus s = entry(trace);
    return s != null && state.equals(s.getState());
  }

  private boolean running(String instance) {
    return lifecycle
        .instance(instance)
        .map(i -> i.state() == GadgetInstance.State.RUNNING)
        .orElse(false);
  }

  /** Status patches the server received so far. */
  private int statusPatches() throws InterruptedException {
    List<RecordedRequest> requests = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(10, java.util.concurrent.TimeUnit.MILLISECONDS)) != null) {
      requests.add(r);
    }
    seenPatches +=
        (int)
            requests.stream()
                .filter(q -> q.getMethod().equals("PATCH") && q.getPath().endsWith("/status"))
                .count();
    return seenPatches;
  }

  private int seenPatches;

  private static Map<String, Long> traceGauge(InMemoryMetricReader reader) {
    Map<String, Long> byState = new java.util.HashMap<>();
    for (MetricData m : reader.collectAllMetrics()) {
      if (m.getName().equals("gadget.traces")) {
        for (LongPointData p : m.getLongGaugeData().getPoints()) {
          byState.put(
              p.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("state")),
              p.getValue());
        }
      }
    }
    return byState;
  }

  /**
   * BPF programs this process holds open: those of the instances it runs. Counted in this process
   * alone, so that gadgets other processes load meanwhile do not count.
   */
  static int bpfProgramFds() throws IOException {
    int n = 0;
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : fds.toList()) {
        try {
          if (Files.readSymbolicLink(fd).toString().equals("anon_inode:bpf-prog")) {
            n++;
          }
        } catch (IOException e) {
          // Closed meanwhile.
        }
      }
    }
    return n;
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        // Not there yet (a null entry).
      }
      Thread.sleep(50);
    }
    throw new AssertionError("timed out waiting for: " + what);
  }
}
