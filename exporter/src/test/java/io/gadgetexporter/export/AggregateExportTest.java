package io.gadgetexporter.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.agent.Agent;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An aggregating gadget's rows through the agent's outputs: each row is one interval's delta, so a
 * counter with {@code value:} adds the deltas up into the cumulative count a user expects.
 */
class AggregateExportTest {
  private static final String PID = Long.toString(ProcessHandle.current().pid());

  @TempDir Path dir;

  @Test
  void aCounterOfRowValuesIsTheCumulativeCount() throws Exception {
    String yaml =
        """
        http:
          listen: 127.0.0.1:0
        gadgets:
          - name: calls
            gadget: syscall_count
            params:
              per_process: true
              interval: 200ms
            metrics:
              - name: syscall.calls
                description: System calls, by process and syscall.
                unit: "{call}"
                value: count
                labels: [syscall, pid]
        """;
    try (Agent agent =
        Agent.start(
            ConfigLoader.parse(yaml, "agent.yaml", Map.of()),
            GadgetCatalog.builtIn(),
            EventSink.NONE)) {
      links("a", 10);
      double first = awaitSymlinks(agent, 10);
      assertThat(first).isEqualTo(10);
      links("b", 15); // counted in later intervals: the counter adds them to the first ten
      assertThat(awaitSymlinks(agent, 25)).isEqualTo(25);

      JsonObject gadget = new JsonObject(AgentHttp.get(agent.httpPort(), "/api/v1/gadgets/calls"));
      assertThat(gadget.getJsonObject("params").getString("interval")).isEqualTo("200ms");
      assertThat(gadget.getLong("rows_dropped")).isZero();
    }
  }

  private void links(String prefix, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      Files.createSymbolicLink(dir.resolve(prefix + i), Path.of("target"));
    }
  }

  /** This JVM's symlink calls in the scrape, once they reach {@code expected} (or the deadline). */
  private static double awaitSymlinks(Agent agent, double expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    double seen;
    do {
      String scrape = AgentHttp.get(agent.httpPort(), "/metrics");
      // symlink(2) on x86_64, symlinkat(2) on arm64: exactly one of them is used.
      seen =
          zeroIfAbsent(sum(scrape, "syscall=\"symlink\""))
              + zeroIfAbsent(sum(scrape, "syscall=\"symlinkat\""));
      if (seen >= expected) {
        return seen;
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    return seen;
  }

  private static double sum(String scrape, String syscall) {
    return AgentHttp.sum(scrape, "syscall_calls_total", syscall, "process_pid=\"" + PID + "\"");
  }

  private static double zeroIfAbsent(double v) {
    return Double.isNaN(v) ? 0 : v;
  }
}
