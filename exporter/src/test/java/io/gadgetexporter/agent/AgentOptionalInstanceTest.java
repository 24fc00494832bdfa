package io.gadgetexporter.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.export.AgentHttp;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetBuild;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetInstance;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code optional: true}: a gadget this kernel refuses (as trace_dns on a node older than 6.2)
 * leaves the agent running, ready, and saying which instance is missing and why; without it the
 * start stops, as before.
 */
class AgentOptionalInstanceTest {
  @TempDir Path dir;

  @Test
  void anOptionalInstanceTheKernelRefusesIsListedAsFailedAndTheAgentRunsAndIsReady()
      throws Exception {
    Path refused = refusedGadget();
    try (Agent agent = Agent.start(config(refused, true), GadgetCatalog.builtIn(), EventSink.NONE)) {
      assertThat(agent.instances())
          .extracting(GadgetInstance::name, i -> i.state() == GadgetInstance.State.RUNNING)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple("exec", true),
              org.assertj.core.groups.Tuple.tuple("newer-kernel", false));

      JsonObject ready = new JsonObject(AgentHttp.get(agent.httpPort(), "/readyz")); // 200
      assertThat(ready.getBoolean("ready")).isTrue();
      assertThat(ready.getJsonObject("detail").getString("exec")).isEqualTo("running");
      assertThat(ready.getJsonObject("detail").getString("newer-kernel"))
          .startsWith("failed: ")
          .contains("sys_exit_no_such_call");

      JsonArray gadgets =
          new JsonObject(AgentHttp.get(agent.httpPort(), "/api/v1/gadgets")).getJsonArray("gadgets");
      JsonObject failed =
          gadgets.stream()
              .map(JsonObject.class::cast)
              .filter(g -> g.getString("name").equals("newer-kernel"))
              .findFirst()
              .orElseThrow();
      assertThat(failed.getString("state")).isEqualTo("failed");
      assertThat(failed.getString("failure")).contains("sys_exit_no_such_call");

      String scrape = AgentHttp.get(agent.httpPort(), "/metrics");
      assertThat(AgentHttp.sum(scrape, "gadget_instances", "state=\"failed\"")).isEqualTo(1);
      assertThat(AgentHttp.sum(scrape, "gadget_instances", "state=\"running\"")).isEqualTo(1);
    }
  }

  @Test
  void withoutOptionalTheSameRefusalStopsTheStart() throws Exception {
    Path refused = refusedGadget();
    assertThatThrownBy(
            () -> Agent.start(config(refused, false), GadgetCatalog.builtIn(), EventSink.NONE))
        .isInstanceOf(AgentStartException.class)
        .hasMessageContaining("sys_exit_no_such_call");
  }

  /** The authoring example with its required tracepoint renamed to one no kernel has. */
  private Path refusedGadget() throws Exception {
    Path source =
        GadgetBuild.copyWithTracepoint(
            GadgetBuild.repositoryRoot().resolve("examples/trace_unlink"),
            dir.resolve("src"),
            "sys_exit_unlinkat",
            "sys_exit_no_such_call");
    return GadgetBuild.make(source, dir.resolve("built"));
  }

  private static io.gadgetexporter.config.AgentConfig config(Path gadget, boolean optional) {
    String yaml =
        """
        http:
          listen: 127.0.0.1:0
        containers:
          enabled: false
        gadgets:
          - name: exec
            gadget: trace_exec
          - name: newer-kernel
            gadget: %s
            optional: %s
        """
            .formatted(gadget, optional);
    return ConfigLoader.parse(yaml, "agent.yaml", Map.of());
  }
}
