package io.gadgetexporter.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.GadgetTesting;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The config file edited under a running agent (real gadgets in the kernel): what changed is
 * applied, what did not keeps running with its counters, and a broken edit is refused whole.
 */
class AgentReloadTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  private Agent agent;
  private ConfigReloader reloader;

  @AfterEach
  void stop() {
    if (reloader != null) {
      reloader.close();
    }
    if (agent != null) {
      agent.close();
    }
  }

  private static final String HEAD =
      """
      http:
        listen: 127.0.0.1:0
      gadgets:
      """;

  private static final String EXEC =
      """
        - name: exec
          ring_buffer:
            drain_interval: 20ms
          gadget: trace_exec
      """;

  private static final String OPEN =
      """
        - name: open
          gadget: trace_open
          ring_buffer:
            drain_interval: 20ms
      """;

  private static final String SELECTED =
      """
        - name: selected
          gadget: trace_open
          selector:
            containers: [%s]
      """;

  private Path startWith(String yaml) throws Exception {
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, yaml);
    byte[] loaded = ConfigReloader.digest(file);
    agent = Agent.start(ConfigLoader.load(file, Map.of()), GadgetCatalog.builtIn(), EventSink.NONE);
    reloader =
        new ConfigReloader(file, loaded, agent, f -> ConfigLoader.load(f, Map.of()))
            .registerMetrics(agent.meter());
    agent.readinessDetail("config", reloader::status);
    reloader.watch();
    return file;
  }

  /** Replaced the way editors and ConfigMap volumes do: a new file renamed over the old. */
  private void edit(Path file, String yaml) throws Exception {
    Path next = dir.resolve(".agent.yaml.tmp");
    Files.writeString(next, yaml);
    Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void changedInstanceRestartsAddedStartsRemovedDetachesOthersKeepTheirCounters() throws Exception {
    Path file = startWith(HEAD + EXEC + OPEN + SELECTED.formatted("only-a-*"));
    GadgetInstance exec = agent.instance("exec").orElseThrow();
    GadgetInstance open = agent.instance("open").orElseThrow();
    GadgetInstance selected = agent.instance("selected").orElseThrow();
    runTrue(3);
    await("exec events", () -> exec.eventsTotal() >= 3);
    await("open events", () -> open.eventsTotal() > 0);
    long openBefore = open.eventsTotal();

    // exec's parameters change, a second exec instance comes, selected only changes its selector.
    edit(
        file,
        HEAD
            + EXEC
            + "    params:\n      max_args: 4\n"
            + OPEN
            + SELECTED.formatted("only-b-*")
            + "  - name: exec2\n    gadget: trace_exec\n");
    await("exec restarted", () -> agent.instance("exec").orElseThrow() != exec);
    await("exec2 added", () -> agent.instance("exec2").isPresent());
    GadgetInstance exec2 = agent.instance("exec2").orElseThrow();
    GadgetInstance newExec = agent.instance("exec").orElseThrow();
    assertThat(exec.state()).isEqualTo(GadgetInstance.State.STOPPED);
    assertThat(newExec.state()).isEqualTo(GadgetInstance.State.RUNNING);
    assertThat(newExec.params()).containsEntry("max_args", 4L);
    assertThat(exec2.state()).isEqualTo(GadgetInstance.State.RUNNING);
    // Untouched: the same instance, still counting from where it was.
    assertThat(agent.instance("open")).containsSame(open);
    assertThat(open.state()).isEqualTo(GadgetInstance.State.RUNNING);
    assertThat(open.eventsTotal()).isGreaterThanOrEqualTo(openBefore);
    // A selector alone is rewritten in the running program's filter map.
    assertThat(agent.instance("selected")).containsSame(selected);
    assertThat(selected.selector().config().containers()).containsExactly("only-b-*");
    assertThat(reloader.status())
        .contains("1 added", "1 restarted", "1 updated", "1 unchanged")
        .contains("(file)");
    runTrue(2);
    await("the restarted exec counts", () -> newExec.eventsTotal() >= 2);
    await("exec2 counts", () -> exec2.eventsTotal() >= 2);

    // exec2 goes: its programs leave the kernel, the others stay.
    String program = exec2.programNames().get(0);
    long loaded = count(program);
    edit(
        file,
        HEAD + EXEC + "    params:\n      max_args: 4\n" + OPEN + SELECTED.formatted("only-b-*"));
    await("exec2 removed", () -> agent.instance("exec2").isEmpty());
    assertThat(exec2.state()).isEqualTo(GadgetInstance.State.STOPPED);
    assertThat(count(program)).isEqualTo(loaded - 1);
    assertThat(agent.instance("exec")).containsSame(newExec);
    assertThat(get("/api/v1/gadgets")).doesNotContain("\"exec2\"").contains("\"open\"");
    assertThat(get("/metrics")).doesNotContain("gadget_instance=\"exec2\"");
  }

  @Test
  void brokenEditIsRefusedWithItsPlaceAndTheRunningConfigurationStays() throws Exception {
    Path file = startWith(HEAD + EXEC + OPEN);
    GadgetInstance exec = agent.instance("exec").orElseThrow();
    GadgetInstance open = agent.instance("open").orElseThrow();

    // Valid YAML and keys, but the gadget rejects the value: only the runtime can tell.
    edit(file, HEAD + EXEC + "    params:\n      max_args: 999\n" + OPEN);
    await("rejected", () -> reloader.status().contains("rejected"));
    assertThat(reloader.status())
        .contains(file.toString() + ":9:17:")
        .contains("gadgets[0].params.max_args: must be at most 64, got 999")
        .contains("running the previous configuration");
    assertThat(agent.instance("exec")).containsSame(exec);
    assertThat(agent.instance("open")).containsSame(open);
    assertThat(exec.state()).isEqualTo(GadgetInstance.State.RUNNING);

    // A file that is not even YAML: refused the same way.
    edit(file, HEAD + EXEC + "   - : [\n");
    await("rejected twice", () -> reloads("rejected") == 2);
    assertThat(reloader.status()).contains("invalid YAML");
    assertThat(agent.instances()).containsExactly(exec, open);

    String ready = get("/readyz");
    assertThat(ready).contains("\"config\"").contains("rejected");
    assertThat(readyStatus()).isEqualTo(200); // a refused edit does not take the agent out

    // Put back as it runs: nothing to apply, and /readyz says so.
    long unchangedBefore = reloads("unchanged"); // the look when the watch began counts one
    edit(file, HEAD + EXEC + OPEN);
    await("unchanged", () -> reloads("unchanged") > unchangedBefore);
    assertThat(reloader.status()).contains("again the configuration in force");
    assertThat(agent.instances()).containsExactly(exec, open);
  }

  @Test
  void anInstanceNameTakenByAnotherSourceIsRefused() throws Exception {
    startWith(HEAD + EXEC);
    InstanceConfig fromTrace =
        ConfigLoader.parseInstance("gadget: trace_open\n", "Trace/t", "spec", "trace/t");
    assertThat(agent.apply("trace/t", List.of(fromTrace)))
        .singleElement()
        .satisfies(o -> assertThat(o.change()).isEqualTo(InstanceLifecycle.Change.ADDED))
        .satisfies(o -> assertThat(o.running()).isTrue());
    InstanceConfig clash =
        ConfigLoader.parseInstance("gadget: trace_open\n", "Trace/u", "spec", "exec");
    assertThatThrownBy(() -> agent.apply("trace/u", List.of(clash)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'exec' is already used by the config file");
    // The config file's reload leaves the other source's instance alone.
    Agent.Reload reload =
        agent.reload(
            ConfigLoader.parse(HEAD + EXEC + OPEN, dir.resolve("agent.yaml").toString(), Map.of()));
    assertThat(reload.summary()).isEqualTo("1 added, 1 unchanged");
    assertThat(agent.instance("trace/t").orElseThrow().state())
        .isEqualTo(GadgetInstance.State.RUNNING);
    assertThat(agent.sourceOf("trace/t")).contains("trace/t");
    // A metric the Trace defines: the file may not give the name another meaning, and is told why.
    InstanceConfig withMetric =
        ConfigLoader.parseInstance(
            "gadget: trace_open\nmetrics:\n  - name: opens\n    unit: \"{open}\"\n",
            "Trace/t",
            "spec",
            "trace/t");
    assertThat(agent.apply("trace/t", List.of(withMetric)))
        .singleElement()
        .satisfies(o -> assertThat(o.change()).isEqualTo(InstanceLifecycle.Change.RESTARTED));
    String clashingMetric =
        HEAD + EXEC + OPEN + "    metrics:\n      - name: opens\n        unit: By\n";
    assertThatThrownBy(
            () ->
                agent.reload(
                    ConfigLoader.parse(
                        clashingMetric, dir.resolve("agent.yaml").toString(), Map.of())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("metric 'opens' is also defined in trace/t at spec.metrics[0]");
    assertThat(agent.apply("trace/t", List.of()))
        .singleElement()
        .satisfies(o -> assertThat(o.change()).isEqualTo(InstanceLifecycle.Change.REMOVED));
    assertThat(agent.instance("trace/t")).isEmpty();
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static void runTrue(int times) throws Exception {
    for (int i = 0; i < times; i++) {
      assertThat(new ProcessBuilder("/bin/true").start().waitFor()).isZero();
    }
  }

  private static long count(String program) throws Exception {
    return GadgetTesting.loadedProgramNames().stream().filter(program::equals).count();
  }

  private long reloads(String result) {
    try {
      Matcher m =
          Pattern.compile(
                  "gadget_config_reloads_total\\{[^}]*result=\"" + result + "\"[^}]*\\} (\\S+)")
              .matcher(get("/metrics"));
      return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private String get(String path) throws Exception {
    return request(path).body();
  }

  private int readyStatus() throws Exception {
    return request("/readyz").statusCode();
  }

  private HttpResponse<String> request(String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + path))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + ": not within " + WAIT);
      }
      Thread.sleep(20);
    }
  }
}
