package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** trace_exit in the real kernel: children that exit with a code, die of a signal, have threads. */
class TraceExitTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  void exitCodeOfAChild() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance exit = GadgetTesting.instance("trace_exit", "", sink)) {
      exit.start();
      long started = System.nanoTime();
      Process child = new ProcessBuilder("sh", "-c", "sleep 0.2; exit 42").start();
      assertThat(child.waitFor()).isEqualTo(42);
      long elapsed = System.nanoTime() - started;

      RecordingSink.Recorded e = sink.await(r -> r.value("pid").equals(child.pid()), WAIT);
      assertThat(e.value("exit_code")).isEqualTo(42L);
      assertThat(e.value("signal")).isEqualTo(0L);
      assertThat(e.text("signal")).isEmpty();
      assertThat(e.value("core_dumped")).isEqualTo(false);
      assertThat(e.value("last_thread")).isEqualTo(true);
      assertThat(e.value("tid")).isEqualTo(child.pid());
      assertThat(e.value("ppid")).isEqualTo(ProcessHandle.current().pid());
      assertThat(e.text("comm")).isEqualTo("sh");
      assertThat(e.value("uid")).isEqualTo(0L);
      // Forked after `started`, exited before waitFor returned, after its 0.2 s sleep.
      assertThat((Long) e.value("lifetime"))
          .isGreaterThanOrEqualTo(200_000_000L)
          .isLessThanOrEqualTo(elapsed);
      String mnt = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
      assertThat(e.value("mntns_id")).isEqualTo(Long.parseLong(mnt.replaceAll("\\D", "")));
      assertThat(exit.lostTotal()).isZero();
    }
  }

  @Test
  void signalThatKilledAChild() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance exit = GadgetTesting.instance("trace_exit", "", sink)) {
      exit.start();
      Process killed = new ProcessBuilder("sleep", "60").start();
      Process terminated = new ProcessBuilder("sleep", "60").start();
      killed.destroyForcibly(); // SIGKILL
      terminated.destroy(); // SIGTERM
      assertThat(killed.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(terminated.waitFor(10, TimeUnit.SECONDS)).isTrue();

      RecordingSink.Recorded k = sink.await(r -> r.value("pid").equals(killed.pid()), WAIT);
      assertThat(k.value("signal")).isEqualTo(9L);
      assertThat(k.text("signal")).isEqualTo("SIGKILL");
      assertThat(k.value("exit_code")).isEqualTo(0L);
      assertThat(k.value("core_dumped")).isEqualTo(false);
      assertThat(k.text("comm")).isEqualTo("sleep");

      RecordingSink.Recorded t = sink.await(r -> r.value("pid").equals(terminated.pid()), WAIT);
      assertThat(t.value("signal")).isEqualTo(15L);
      assertThat(t.text("signal")).isEqualTo("SIGTERM");
    }
  }

  @Test
  void oneEventPerProcessUnlessAllThreads() throws Exception {
    // A JVM has a dozen threads; it ends with exit_group, which takes them all down.
    String java = ProcessHandle.current().info().command().orElseThrow();
    RecordingSink perProcess = new RecordingSink();
    RecordingSink perThread = new RecordingSink();
    String allThreads = "    params:\n      all_threads: true\n";
    try (GadgetInstance processes = GadgetTesting.instance("trace_exit", "", perProcess);
        GadgetInstance threads = GadgetTesting.instance("trace_exit", allThreads, perThread)) {
      processes.start();
      threads.start();
      Process jvm =
          new ProcessBuilder(java, "-version")
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      assertThat(jvm.waitFor()).isZero();
      // Exited after the JVM's last thread: once its event is in, so are all of the JVM's.
      Process marker = new ProcessBuilder("sh", "-c", "exit 7").start();
      marker.waitFor();
      perProcess.await(r -> r.value("pid").equals(marker.pid()), WAIT);
      perThread.await(r -> r.value("pid").equals(marker.pid()), WAIT);

      List<RecordingSink.Recorded> one = ofPid(perProcess, jvm.pid());
      assertThat(one).hasSize(1);
      assertThat(one.get(0).value("last_thread")).isEqualTo(true);
      assertThat(one.get(0).value("exit_code")).isEqualTo(0L);

      List<RecordingSink.Recorded> all = ofPid(perThread, jvm.pid());
      assertThat(all.size()).isGreaterThan(2);
      assertThat(all).filteredOn(r -> r.value("last_thread").equals(true)).hasSize(1);
      assertThat(all.stream().map(r -> r.value("tid")).distinct().count()).isEqualTo(all.size());
    }
  }

  @Test
  void selectorThatMatchesNothingFiltersInTheKernel() throws Exception {
    RecordingSink sink = new RecordingSink();
    GadgetInstance exit = FilterTesting.nothingSelected("trace_exit", "", sink);
    try (exit) {
      exit.start();
      long before = exit.filteredTotal();
      Process child = new ProcessBuilder("sh", "-c", "exit 5").start();
      // The child passed sched_process_exit before its parent could reap it.
      assertThat(child.waitFor()).isEqualTo(5);
      FilterTesting.closeDrained(exit, WAIT);
      assertThat(sink.events()).as("nothing selected, the child's exit included").isEmpty();
      assertThat(exit.filteredTotal() - before).as("the child's exit").isPositive();
    }
  }

  private static List<RecordingSink.Recorded> ofPid(RecordingSink sink, long pid) {
    return sink.events().stream().filter(r -> r.value("pid").equals(pid)).toList();
  }
}
