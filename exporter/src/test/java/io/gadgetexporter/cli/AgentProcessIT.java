package io.gadgetexporter.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.gadget.GadgetTesting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent as a user runs it: `java -jar gadget-exporter.jar run --config FILE`. */
class AgentProcessIT {
  private static final Duration START = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void servesCountersThatMoveAndLeavesNothingInTheKernelOnSigterm() throws Exception {
    Path config = dir.resolve("agent.yaml");
    Files.writeString(
        config,
        """
        http:
          listen: 127.0.0.1:0
        gadgets:
          - name: opens
            gadget: trace_open
            ring_buffer:
              drain_interval: 20ms
          - name: execs
            gadget: trace_exec
        """);
    Map<String, Long> beforeStart = GadgetTesting.countByName(GadgetTesting.loadedProgramNames());
    try (AgentProcess agent =
        AgentProcess.start(AgentProcess.javaCommand("run", "--config", config.toString()))) {
      int port = agent.awaitReady(START);
      assertThat(agent.get(port, "/healthz")).startsWith("200");
      assertThat(agent.get(port, "/readyz")).startsWith("200").contains("\"opens\":\"running\"");

      long before = counter(agent.get(port, "/metrics"), "gadget_events_total", "opens");
      for (int i = 0; i < 100; i++) {
        Files.exists(dir.resolve("probe-" + UUID.randomUUID()));
        Files.readAllBytes(config);
      }
      new ProcessBuilder("/bin/true").start().waitFor();
      long after = before;
      for (int tries = 0; tries < 50 && after < before + 100; tries++) {
        Thread.sleep(100);
        after = counter(agent.get(port, "/metrics"), "gadget_events_total", "opens");
      }
      assertThat(after).isGreaterThanOrEqualTo(before + 100);
      String metrics = agent.get(port, "/metrics");
      assertThat(counter(metrics, "gadget_events_total", "execs")).isPositive();
      assertThat(counter(metrics, "gadget_events_lost_total", "opens")).isZero();
      assertThat(metrics).contains("# HELP gadget_events_total");

      Map<String, Long> running = GadgetTesting.countByName(GadgetTesting.loadedProgramNames());
      assertThat(running).isNotEqualTo(beforeStart); // the agent's programs are in the kernel
      agent.process.destroy(); // SIGTERM
      assertThat(agent.awaitExit(Duration.ofSeconds(20))).isIn(0, 143);
      assertThat(agent.stderr()).contains("detaching every gadget").contains("stopped");
      assertThat(GadgetTesting.countByName(GadgetTesting.loadedProgramNames())).isEqualTo(beforeStart);
    }
  }

  @Test
  void sighupReloadsTheConfigFileInsteadOfStoppingTheAgent() throws Exception {
    Path config = dir.resolve("agent.yaml");
    String opens = "http:\n  listen: 127.0.0.1:0\ngadgets:\n  - name: opens\n    gadget: trace_open\n";
    Files.writeString(config, opens);
    try (AgentProcess agent =
        AgentProcess.start(AgentProcess.javaCommand("run", "--config", config.toString()))) {
      int port = agent.awaitReady(START);
      // The JVM's own SIGHUP handler would run the shutdown hooks: the agent must stay.
      hangUp(agent);
      awaitStderr(agent, "SIGHUP: " + config + " has not changed");
      assertThat(agent.process.isAlive()).isTrue();
      assertThat(agent.get(port, "/metrics"))
          .contains("gadget_config_reloads_total{result=\"unchanged\",trigger=\"sighup\"} 1");

      Files.writeString(config, opens + "  - name: execs\n    gadget: trace_exec\n");
      hangUp(agent);
      awaitStderr(agent, "reloaded (");
      String gadgets = "";
      for (int tries = 0; tries < 100 && !gadgets.contains("\"execs\""); tries++) {
        Thread.sleep(100);
        gadgets = agent.get(port, "/api/v1/gadgets");
      }
      assertThat(gadgets).contains("\"execs\"").contains("\"opens\"");
      assertThat(agent.get(port, "/readyz")).startsWith("200").contains("1 added, 1 unchanged");
    }
  }

  private static void hangUp(AgentProcess agent) throws Exception {
    Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(agent.process.pid())).start();
    assertThat(kill.waitFor()).isZero();
  }

  private static void awaitStderr(AgentProcess agent, String text) throws Exception {
    for (int tries = 0; tries < 200 && !agent.stderr().contains(text); tries++) {
      Thread.sleep(50);
    }
    assertThat(agent.stderr()).contains(text);
  }

  @Test
  void unknownKeyStopsTheStartNamingFileLineColumnAndKey() throws Exception {
    Path config = dir.resolve("bad.yaml");
    Files.writeString(
        config, "gadgets:\n  - name: opens\n    gadget: trace_open\n    ring_bufer:\n      size: 1MiB\n");
    try (AgentProcess agent =
        AgentProcess.start(AgentProcess.javaCommand("run", "--config", config.toString()))) {
      assertThat(agent.awaitExit(START)).isEqualTo(2);
      assertThat(agent.stderr()).contains(config + ":4:5").contains("ring_bufer");
    }
  }

  @Test
  void unknownGadgetParameterIsRejectedWithItsPlace() throws Exception {
    Path config = dir.resolve("bad-param.yaml");
    Files.writeString(
        config,
        "gadgets:\n  - name: execs\n    gadget: trace_exec\n    params:\n      max_arg: 3\n");
    try (AgentProcess agent =
        AgentProcess.start(AgentProcess.javaCommand("run", "--config", config.toString()))) {
      assertThat(agent.awaitExit(START)).isEqualTo(2);
      assertThat(agent.stderr()).contains(config + ":5:").contains("max_arg").contains("max_args");
    }
  }

  @Test
  void withoutPrivilegesItSaysWhatIsMissingAndExitsNonZero() throws Exception {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"));
    // The unprivileged user may not be able to read the build tree (a clone under /root, say).
    Path jar = dir.resolve("gadget-exporter.jar");
    Files.copy(AgentProcess.jar(), jar);
    jar.toFile().setReadable(true, false);
    cmd.addAll(
        List.of(
            AgentProcess.java(),
            "-jar",
            jar.toString(),
            "run",
            "--config",
            writeMinimal().toString()));
    try (AgentProcess agent = AgentProcess.start(cmd)) {
      assertThat(agent.awaitExit(START)).isEqualTo(1);
      assertThat(agent.stderr()).contains("missing privileges").contains("CAP_BPF");
    }
  }

  private Path writeMinimal() throws Exception {
    Path config = dir.resolve("minimal.yaml");
    Files.writeString(
        config, "http:\n  listen: 127.0.0.1:0\ngadgets:\n  - gadget: trace_open\n");
    dir.toFile().setReadable(true, false);
    dir.toFile().setExecutable(true, false);
    config.toFile().setReadable(true, false);
    return config;
  }

  /**
   * The value of a per-instance counter in a Prometheus text scrape, summed over its series (the
   * event count has one per container).
   */
  static long counter(String scrape, String metric, String instance) {
    Matcher m =
        Pattern.compile(
                "(?m)^"
                    + metric
                    + "\\{[^}]*gadget_instance=\""
                    + instance
                    + "\"[^}]*\\} ([0-9.eE+]+)$")
            .matcher(scrape);
    double sum = 0;
    boolean found = false;
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
      found = true;
    }
    if (!found) {
      throw new AssertionError("no " + metric + " for " + instance + " in:\n" + scrape);
    }
    return (long) sum;
  }
}
