package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** trace_oomkill in the real kernel: a process that outgrows a memory-limited cgroup. */
class TraceOomkillTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final long LIMIT = 32L << 20;

  @Test
  void processOutgrowingItsCgroupIsTheVictimAndTheTrigger() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance oom = GadgetTesting.instance("trace_oomkill", "", sink);
        MemoryCgroup cgroup = MemoryCgroup.create(LIMIT)) {
      oom.start();
      Process hog = hogIn(cgroup);

      RecordingSink.Recorded e = sink.await(r -> r.value("pid").equals(hog.pid()), WAIT);
      assertThat(hog.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(hog.exitValue()).isEqualTo(128 + 9); // killed by SIGKILL
      assertThat(e.text("comm")).isEqualTo("tail");
      assertThat(e.value("tid")).isEqualTo(hog.pid());
      assertThat(e.value("uid")).isEqualTo(0L);
      // It held most of the limit when it was killed (the kernel's per-CPU counters may be off by
      // a few hundred KiB); its address space is at least that.
      assertThat((Long) e.value("anon_rss")).isBetween(LIMIT / 4, LIMIT + (1 << 20));
      assertThat((Long) e.value("total_vm")).isGreaterThanOrEqualTo((Long) e.value("anon_rss"));
      assertThat((Long) e.value("pgtables")).isPositive();
      // The cgroup's charge failed in the hog's own page fault: it triggered its own kill.
      assertThat(e.value("trigger_pid")).isEqualTo(hog.pid());
      assertThat(e.text("trigger_comm")).isEqualTo("tail");
      long mntns = mntnsOfThisJvm();
      assertThat(e.value("mntns_id")).isEqualTo(mntns);
      assertThat(e.value("trigger_mntns_id")).isEqualTo(mntns);
      assertThat((Long) e.value("cgroup_id")).isPositive();
      assertThat(oom.lostTotal()).isZero();
    }
  }

  @Test
  void selectorThatMatchesNothingFiltersInTheKernel() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance oom = FilterTesting.nothingSelected("trace_oomkill", "", sink);
        MemoryCgroup cgroup = MemoryCgroup.create(LIMIT)) {
      oom.start();
      long before = oom.filteredTotal();
      Process hog = hogIn(cgroup);
      // Killed by the OOM killer, which marked it a victim before it could die.
      assertThat(hog.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(hog.exitValue()).isEqualTo(128 + 9);
      FilterTesting.closeDrained(oom, WAIT);
      assertThat(sink.events()).as("nothing selected, the hog's kill included").isEmpty();
      assertThat(oom.filteredTotal() - before).as("the hog's kill").isPositive();
    }
  }

  /** {@code tail /dev/zero} in the cgroup: one endless line, held in memory until killed. */
  private static Process hogIn(MemoryCgroup cgroup) throws Exception {
    return new ProcessBuilder(
            "sh", "-c", "echo $$ > " + cgroup.procs() + " && exec tail /dev/zero")
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  private static long mntnsOfThisJvm() throws Exception {
    String link = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
    return Long.parseLong(link.replaceAll("\\D", ""));
  }
}
