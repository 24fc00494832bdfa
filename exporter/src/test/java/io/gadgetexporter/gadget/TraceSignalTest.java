package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** trace_signal in the real kernel: signals from this JVM and from shells, delivered or not. */
class TraceSignalTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  /** Above any pid_max (at most 2^22): kill(2) of it fails with ESRCH. */
  private static final long NO_SUCH_PID = Integer.MAX_VALUE;

  private Process target;

  @AfterEach
  void killTarget() {
    if (target != null) {
      target.destroyForcibly();
    }
  }

  @Test
  void signalFromThisJvmToAChild() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance signals = GadgetTesting.instance("trace_signal", "", sink)) {
      signals.start();
      target = new ProcessBuilder("sleep", "60").start();
      target.destroy(); // kill(pid, SIGTERM)
      assertThat(target.waitFor(10, TimeUnit.SECONDS)).isTrue();

      RecordingSink.Recorded e = sink.await(r -> r.value("tpid").equals(target.pid()), WAIT);
      assertThat(e.value("pid")).isEqualTo(ProcessHandle.current().pid());
      assertThat(e.value("uid")).isEqualTo(0L);
      assertThat(e.value("ttid")).isEqualTo(target.pid());
      assertThat(e.text("tcomm")).isEqualTo("sleep");
      assertThat(e.value("sig")).isEqualTo(15L);
      assertThat(e.text("sig")).isEqualTo("SIGTERM");
      assertThat(e.value("code")).isEqualTo(0L);
      assertThat(e.text("code")).isEqualTo("SI_USER");
      assertThat(e.value("result")).isEqualTo(0L);
      assertThat(e.text("result")).isEqualTo("delivered");
      assertThat(e.value("mntns_id")).isEqualTo(mntnsOf("self"));
    }
  }

  @Test
  void ignoredSignalFromAShell() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance signals = GadgetTesting.instance("trace_signal", "", sink)) {
      signals.start();
      target = ignoringUsr1();
      Process sender =
          new ProcessBuilder("sh", "-c", "kill -USR1 " + target.pid()).start();
      assertThat(sender.waitFor()).isZero();

      RecordingSink.Recorded e =
          sink.await(r -> r.value("tpid").equals(target.pid()) && r.value("sig").equals(10L), WAIT);
      assertThat(e.value("pid")).isEqualTo(sender.pid());
      assertThat(e.text("comm")).isEqualTo("sh");
      assertThat(e.text("sig")).isEqualTo("SIGUSR1");
      assertThat(e.value("result")).isEqualTo(1L);
      assertThat(e.text("result")).isEqualTo("ignored");
    }
  }

  @Test
  void failedCallsGiveTheErrnoByName() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance signals = GadgetTesting.instance("trace_signal", "", sink)) {
      signals.start();
      Process missing =
          new ProcessBuilder("sh", "-c", "kill -USR2 " + NO_SUCH_PID).start();
      assertThat(missing.waitFor()).isNotZero();
      // An unprivileged sender may not signal this root JVM.
      long jvm = ProcessHandle.current().pid();
      Process denied =
          new ProcessBuilder(
                  "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  "sh", "-c", "kill -USR1 " + jvm)
              .start();
      assertThat(denied.waitFor()).isNotZero();

      RecordingSink.Recorded esrch = sink.await(r -> r.value("tpid").equals(NO_SUCH_PID), WAIT);
      assertThat(esrch.value("pid")).isEqualTo(missing.pid());
      assertThat(esrch.text("sig")).isEqualTo("SIGUSR2");
      assertThat(esrch.value("result")).isEqualTo(-3L);
      assertThat(esrch.text("result")).isEqualTo("ESRCH");
      assertThat(esrch.text("code")).isEqualTo("SI_USER");
      assertThat(esrch.text("tcomm")).isEmpty();

      RecordingSink.Recorded eperm =
          sink.await(r -> r.value("pid").equals(denied.pid()) && r.value("tpid").equals(jvm), WAIT);
      assertThat(eperm.value("uid")).isEqualTo(65534L);
      assertThat(eperm.text("result")).isEqualTo("EPERM");
      assertThat(eperm.text("sig")).isEqualTo("SIGUSR1");
    }
  }

  @Test
  void signalAndFailedOnlyParameters() throws Exception {
    RecordingSink usr1Only = new RecordingSink();
    RecordingSink failedOnly = new RecordingSink();
    try (GadgetInstance usr1 =
            GadgetTesting.instance("trace_signal", "    params:\n      signal: 10\n", usr1Only);
        GadgetInstance failed =
            GadgetTesting.instance(
                "trace_signal", "    params:\n      failed_only: true\n", failedOnly)) {
      usr1.start();
      failed.start();
      target = ignoringUsr1();
      Process other = new ProcessBuilder("sleep", "60").start();
      // One sender, one signal after the other: the events reach each ring in this order, so
      // once the second is in, the first would be too.
      Process sender =
          new ProcessBuilder(
                  "sh", "-c", "kill -TERM " + other.pid() + "; kill -USR1 " + target.pid())
              .start();
      assertThat(sender.waitFor()).isZero();
      assertThat(other.waitFor(10, TimeUnit.SECONDS)).isTrue();

      usr1Only.await(r -> r.value("tpid").equals(target.pid()), WAIT);
      failedOnly.await(r -> r.value("tpid").equals(target.pid()), WAIT);
      for (RecordingSink sink : java.util.List.of(usr1Only, failedOnly)) {
        assertThat(sink.events())
            .filteredOn(
                r -> r.value("tpid").equals(target.pid()) || r.value("tpid").equals(other.pid()))
            .extracting(r -> r.text("sig") + " " + r.text("result"))
            .containsExactly("SIGUSR1 ignored");
      }
    }
  }

  @Test
  void byTargetFollowsTheReceiversMountNamespace() throws Exception {
    RecordingSink bySender = new RecordingSink();
    RecordingSink byTarget = new RecordingSink();
    try (GadgetInstance sender = GadgetTesting.instance("trace_signal", "", bySender);
        GadgetInstance receiver =
            GadgetTesting.instance(
                "trace_signal", "    params:\n      by_target: true\n", byTarget)) {
      sender.start();
      receiver.start();
      target = ignoringUsr1();
      // The sender runs in a mount namespace of its own.
      Process unshared =
          new ProcessBuilder(
                  "unshare", "-m", "sh", "-c",
                  "readlink /proc/self/ns/mnt; kill -USR1 " + target.pid())
              .start();
      String senderNs = new String(unshared.getInputStream().readAllBytes()).trim();
      assertThat(unshared.waitFor()).isZero();
      long senderMntns = Long.parseLong(senderNs.replaceAll("\\D", ""));
      assertThat(senderMntns).isNotEqualTo(mntnsOf("self"));

      RecordingSink.Recorded s = bySender.await(r -> r.value("tpid").equals(target.pid()), WAIT);
      RecordingSink.Recorded t = byTarget.await(r -> r.value("tpid").equals(target.pid()), WAIT);
      assertThat(s.value("mntns_id")).isEqualTo(senderMntns);
      assertThat(t.value("mntns_id")).isEqualTo(mntnsOf(Long.toString(target.pid())));
      assertThat(t.value("pid")).isEqualTo(s.value("pid"));
    }
  }

  @Test
  void sigchldOfAnExitingChildKeepsItsCgroup() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance signals = GadgetTesting.instance("trace_signal", "", sink)) {
      signals.start();
      Process child = new ProcessBuilder("sh", "-c", "exit 0").start();
      child.waitFor();

      // Sent by the child as it exits, after it has dropped its namespaces, to this JVM.
      RecordingSink.Recorded e =
          sink.await(r -> r.value("pid").equals(child.pid()) && r.value("sig").equals(17L), WAIT);
      assertThat(e.value("tpid")).isEqualTo(ProcessHandle.current().pid());
      assertThat(e.text("code")).isEqualTo("1"); // CLD_EXITED
      assertThat(e.value("mntns_id")).isEqualTo(0L);
      assertThat(e.value("cgroup_id")).isEqualTo(cgroupIdOfThisJvm());
    }
  }

  @Test
  void selectorThatMatchesNothingFiltersInTheKernel() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance signals = FilterTesting.nothingSelected("trace_signal", "", sink)) {
      signals.start();
      long before = signals.filteredTotal();
      target = new ProcessBuilder("sleep", "60").start();
      target.destroy();
      // Both signals were generated before waitFor returned: the SIGTERM, and the SIGCHLD the
      // child's death sent this JVM.
      assertThat(target.waitFor()).isEqualTo(128 + 15);
      FilterTesting.closeDrained(signals, WAIT);
      assertThat(sink.events()).as("nothing selected, the SIGTERM and SIGCHLD included").isEmpty();
      assertThat(signals.filteredTotal() - before).isGreaterThanOrEqualTo(2);
    }
  }

  /** A {@code sleep} that ignores SIGUSR1 (an ignored disposition survives exec). */
  private static Process ignoringUsr1() throws Exception {
    Process p = new ProcessBuilder("sh", "-c", "trap '' USR1; exec sleep 60").start();
    // The trap is set once sleep runs: wait for the exec (comm changes from sh).
    Path comm = Path.of("/proc", Long.toString(p.pid()), "comm");
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!Files.readString(comm).trim().equals("sleep") && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(Files.readString(comm).trim()).isEqualTo("sleep");
    return p;
  }

  private static long mntnsOf(String pid) throws Exception {
    String link = Files.readSymbolicLink(Path.of("/proc", pid, "ns", "mnt")).toString();
    return Long.parseLong(link.replaceAll("\\D", ""));
  }

  /** The cgroup v2 id of this JVM's cgroup: the inode number of its directory. */
  private static long cgroupIdOfThisJvm() throws Exception {
    String path =
        Files.readAllLines(Path.of("/proc/self/cgroup")).stream()
            .filter(l -> l.startsWith("0::"))
            .findFirst()
            .orElseThrow()
            .substring(3);
    Path unified = Path.of("/sys/fs/cgroup/unified"); // hybrid hierarchy; else v2 at the top
    Path root = Files.isDirectory(unified) ? unified : Path.of("/sys/fs/cgroup");
    return (Long) Files.getAttribute(Path.of(root + path), "unix:ino");
  }
}
