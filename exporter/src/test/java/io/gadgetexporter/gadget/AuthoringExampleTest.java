package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.agent.Agent;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.export.AgentHttp;
import java.nio.file.Files;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/gadget-authoring.md's example, done as the guide says: built with its Makefile, named by a
 * path in a config file, run by the agent, its events and its metric checked.
 */
class AuthoringExampleTest {
  private static final Duration WAIT = Duration.ofSeconds(15);

  @TempDir Path dir;
  private Agent agent;

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
  }

  @Test
  void theGuidesExampleBuildsLoadsAndReportsRemovals() throws Exception {
    Path gadgetDir =
        GadgetBuild.make(
            GadgetBuild.repositoryRoot().resolve("examples/trace_unlink"), dir.resolve("trace_unlink"));
    assertThat(gadgetDir.resolve("program.bpf.o")).isRegularFile();
    // The config as the guide writes it: the gadget named by a path relative to the config file.
    Path config = dir.resolve("agent.yaml");
    Files.writeString(
        config,
        """
        http:
          listen: 127.0.0.1:0
        gadgets:
          - name: removals
            gadget: ./trace_unlink
            ring_buffer:
              drain_interval: 20ms
            metrics:
              - name: file.deletes
                type: counter
                description: Files and directories removed, by result.
                labels: [ret, directory]
          - name: failed-removals
            gadget: ./trace_unlink
            ring_buffer:
              drain_interval: 20ms
            params:
              failed_only: true
        """);
    RecordingSink sink = new RecordingSink();
    agent = Agent.start(ConfigLoader.load(config, Map.of()), GadgetCatalog.builtIn(), sink);

    Path file = Files.createFile(dir.resolve("file-" + UUID.randomUUID()));
    Path subdir = Files.createDirectory(dir.resolve("dir-" + UUID.randomUUID()));
    Path notEmpty = Files.createDirectory(dir.resolve("full-" + UUID.randomUUID()));
    Files.createFile(notEmpty.resolve("inside"));
    Files.delete(file);
    Files.delete(subdir);
    // A failing call: rmdir of a directory that is not empty (a missing path would not do: Java
    // looks before it deletes, and never calls unlink then).
    assertThatThrownBy(() -> Files.delete(notEmpty)).isInstanceOf(DirectoryNotEmptyException.class);

    RecordingSink.Recorded removed =
        sink.await(
            r -> r.instance().equals("removals") && file.toString().equals(r.value("path")), WAIT);
    assertThat(removed.value("ret")).isEqualTo(0L);
    assertThat(removed.value("directory")).isEqualTo(false);
    assertThat(removed.value("pid")).isEqualTo(ProcessHandle.current().pid());
    RecordingSink.Recorded rmdir =
        sink.await(r -> r.instance().equals("removals") && subdir.toString().equals(r.value("path")), WAIT);
    assertThat(rmdir.value("directory")).isEqualTo(true);
    RecordingSink.Recorded failed =
        sink.await(
            r -> r.instance().equals("failed-removals") && notEmpty.toString().equals(r.value("path")),
            WAIT);
    assertThat(failed.text("ret")).isEqualTo("ENOTEMPTY");
    assertThat(failed.value("ret")).isEqualTo(-39L);
    // failed_only reached the program: the successful removals never left the kernel.
    assertThat(sink.events())
        .noneMatch(r -> r.instance().equals("failed-removals") && file.toString().equals(r.value("path")));

    // The metric the config derives from the new gadget's fields.
    long deadline = System.nanoTime() + WAIT.toNanos();
    double rmdirs = 0;
    while (rmdirs < 1 && System.nanoTime() < deadline) {
      String scrape = AgentHttp.get(agent.httpPort(), "/metrics");
      rmdirs = AgentHttp.sum(scrape, "file_deletes_total", "ret=\"0\"", "directory=\"true\"");
      Thread.sleep(50);
    }
    assertThat(rmdirs).isGreaterThanOrEqualTo(1);
    assertThat(AgentHttp.get(agent.httpPort(), "/api/v1/gadgets")).contains("trace_unlink");
  }
}
