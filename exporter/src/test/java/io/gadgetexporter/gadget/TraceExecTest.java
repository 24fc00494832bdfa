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
    GadgetInstance exec = GadgetTesting.instance("trace_exec", "", EventSink.NONE);
    exec.start();
    List<String> ours =
        exec.programNames().stream().map(n -> n.length() > 15 ? n.substring(0, 15) : n).toList();
    assertThat(GadgetTesting.loadedProgramNames()).containsAll(ours);
    exec.close();
    assertThat(GadgetTesting.loadedProgramNames()).doesNotContainAnyElementsOf(ours);
    assertThat(exec.state()).isEqualTo(GadgetInstance.State.STOPPED);
  }
}
