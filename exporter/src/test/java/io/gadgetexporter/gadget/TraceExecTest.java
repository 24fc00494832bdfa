package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** trace_exec in the real kernel: real execs, their arguments, pids and failures. */
class TraceExecTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  void execOfBinTrueGivesItsArgumentsAndPid() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance exec = GadgetTesting.instance("trace_exec", "", sink)) {
      exec.start();
      String marker = "marker-" + UUID.randomUUID();
      Process child = new ProcessBuilder("/bin/true", "alpha", "beta gamma", marker).start();
      assertThat(child.waitFor()).isZero();

      RecordingSink.Recorded e =
          sink.await(r -> r.value("args") instanceof List<?> a && a.contains(marker), WAIT);
      assertThat(e.value("args")).isEqualTo(List.of("/bin/true", "alpha", "beta gamma", marker));
      assertThat(e.value("pid")).isEqualTo(child.pid());
      assertThat(e.value("ppid")).isEqualTo(ProcessHandle.current().pid());
      assertThat(e.value("ret")).isEqualTo(0L);
      assertThat(e.value("args_truncated")).isEqualTo(false);
      assertThat(e.text("comm")).isEqualTo("true");
      assertThat(e.value("uid")).isEqualTo(0L);
      assertThat((Long) e.value("mntns_id")).isPositive();
      assertThat((Long) e.value("cgroup_id")).isPositive();
      assertThat(exec.eventsTotal()).isPositive();
      assertThat(exec.lostTotal()).isZero();
    }
  }

  @Test
  void failedExecIsReportedWithItsErrno() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance exec = GadgetTesting.instance("trace_exec", "", sink)) {
      exec.start();
      String missing = "/nonexistent-" + UUID.randomUUID() + "/prog";
      assertThatThrownBy(() -> new ProcessBuilder(missing, "x").start())
          .isInstanceOf(IOException.class);

      RecordingSink.Recorded e =
          sink.await(r -> missing.equals(r.value("exepath")), WAIT);
      assertThat(e.value("ret")).isEqualTo(-2L);
      assertThat(e.text("ret")).isEqualTo("ENOENT");
    }
  }

  @Test
  void argumentsBeyondMaxArgsAreCutAndFlagged() throws Exception {
    RecordingSink sink = new RecordingSink();
    String params = "    params:\n      max_args: 3\n";
    try (GadgetInstance exec = GadgetTesting.instance("trace_exec", params, sink)) {
      exec.start();
      String marker = "cut-" + UUID.randomUUID();
      new ProcessBuilder("/bin/true", marker, "two", "three", "four").start().waitFor();

      RecordingSink.Recorded e =
          sink.await(r -> r.value("args") instanceof List<?> a && a.contains(marker), WAIT);
      assertThat(e.value("args")).isEqualTo(List.of("/bin/true", marker, "two"));
      assertThat(e.value("args_truncated")).isEqualTo(true);
    }
  }

  @Test
  void closingDetachesEveryProgram() throws Exception {
    // Counted by name, before, while running and after: another tracer on the host may run
    // programs of the same names.
    java.util.Map<String, Long> before = GadgetTesting.countByName(GadgetTesting.loadedProgramNames());
    GadgetInstance exec = GadgetTesting.instance("trace_exec", "", EventSink.NONE);
    exec.start();
    java.util.Map<String, Long> running =
        GadgetTesting.countByName(GadgetTesting.loadedProgramNames());
    for (String name : exec.programNames()) {
      String kernelName = name.length() > 15 ? name.substring(0, 15) : name;
      assertThat(running.getOrDefault(kernelName, 0L))
          .isEqualTo(before.getOrDefault(kernelName, 0L) + 1);
    }
    exec.close();
    assertThat(GadgetTesting.countByName(GadgetTesting.loadedProgramNames())).isEqualTo(before);
    assertThat(exec.state()).isEqualTo(GadgetInstance.State.STOPPED);
  }
}
