package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * profile_cpu in the real kernel: a child that keeps one CPU busy, mostly in the kernel (dd from
 * /dev/zero to /dev/null, run under a unique name so its thread name, comm, is unique), is found
 * with as many samples as its CPU time predicts, and with its kernel and user stacks.
 */
class ProfileCpuTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final long FREQUENCY = 99;

  @TempDir Path dir;

  /** The busy child, started through a symlink named {@code name}: its comm is that name. */
  private Process busyChild(String name) throws Exception {
    Path link = dir.resolve(name);
    Files.createSymbolicLink(link, Path.of("/bin/dd"));
    return new ProcessBuilder(link.toString(), "if=/dev/zero", "of=/dev/null", "bs=64k")
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  /** CPU time the process has had so far, from the scheduler's own accounting (ns). */
  private static long cpuNanos(Process p) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + p.pid() + "/schedstat"));
    return Long.parseLong(stat.substring(0, stat.indexOf(' ')));
  }

  private static void nextRead(RowBatchSink sink) throws InterruptedException {
    long now = System.nanoTime();
    sink.await(b -> b.nanoTime() > now, WAIT);
  }

  private static void stop(Process p) throws InterruptedException {
    p.destroyForcibly();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aBusyChildIsSampledInProportionToItsCpuTimeWithItsStacks() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    String name = "gxprof-" + UUID.randomUUID().toString().substring(0, 8);
    GadgetInstance profile =
        GadgetTesting.instance(
            "profile_cpu",
            "    params:\n      frequency: " + FREQUENCY + "\n      interval: 300ms\n",
            sink);
    long cpu;
    Process child;
    try (profile) {
      profile.start();
      child = busyChild(name);
      Predicate<RecordingSink.Recorded> mine = r -> r.value("pid").equals(child.pid());
      try {
        // Until about two seconds of its CPU time have been sampled.
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (sink.sum("samples", mine) < 2 * FREQUENCY && System.nanoTime() < deadline) {
          nextRead(sink);
        }
      } finally {
        cpu = cpuNanos(child);
        stop(child);
      }
    } // close reads the counts once more: every sample of the child is in
    Predicate<RecordingSink.Recorded> mine = r -> r.value("pid").equals(child.pid());
    List<RecordingSink.Recorded> rows = sink.rows().stream().filter(mine).toList();
    long samples = rows.stream().mapToLong(r -> (Long) r.value("samples")).sum();
    double expected = FREQUENCY * cpu / 1e9;
    assertThat(expected).isGreaterThan(2 * FREQUENCY * 0.9);
    assertThat((double) samples)
        .as("samples of %s ms of CPU time at %d Hz", cpu / 1_000_000, FREQUENCY)
        .isBetween(0.8 * expected, 1.2 * expected);
    assertThat(rows).allSatisfy(r -> assertThat(r.text("comm")).isEqualTo(name));
    assertThat(sink.rows()).as("idle CPUs are left out").noneMatch(r -> r.value("pid").equals(0L));
    String mnt = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
    assertThat(rows).allSatisfy(
        r -> assertThat(r.value("mntns_id")).isEqualTo(Long.parseLong(mnt.replaceAll("\\D", ""))));

    // dd spends its time reading /dev/zero: most samples are in the kernel, under read(2).
    long inRead =
        rows.stream()
            .filter(r -> r.text("kernel_stack").contains("vfs_read"))
            .mapToLong(r -> (Long) r.value("samples"))
            .sum();
    assertThat(inRead).as("samples under vfs_read").isGreaterThan(samples / 4);
    RecordingSink.Recorded read =
        rows.stream().filter(r -> r.text("kernel_stack").contains("vfs_read")).findFirst().orElseThrow();
    // Folded: outermost first, the syscall entry before vfs_read; raw form: frames with offsets.
    String folded = read.text("kernel_stack");
    assertThat(folded.indexOf("entry_SYSCALL")).isBetween(0, folded.indexOf("vfs_read"));
    @SuppressWarnings("unchecked")
    List<String> frames = (List<String>) read.value("kernel_stack");
    assertThat(frames).anySatisfy(f -> assertThat(f).matches("vfs_read\\+0x\\p{XDigit}+"));
    assertThat(String.join(";", frames.stream().map(f -> f.replaceAll("\\+0x.*", "")).toList()))
        .isEqualTo(folded);
    // A user process always has a user stack: at least where it entered the kernel.
    long withUserStack =
        rows.stream()
            .filter(r -> !r.text("user_stack").isEmpty())
            .mapToLong(r -> (Long) r.value("samples"))
            .sum();
    assertThat(withUserStack).isGreaterThan(samples * 9 / 10);
    assertThat(read.text("user_stack")).matches("0x\\p{XDigit}+(;0x\\p{XDigit}+)*");
    // Stacks that found their stack map bucket taken by another stack (-EEXIST) are lost, a
    // sample's stacks one or two at a time, and counted as incomplete: the samples are still
    // there. With the default map they are rare. No sample was lost: at most ~60 a read, far
    // below the count map's capacity.
    long all = sink.sum("samples", r -> true);
    long withLostStack = sink.sum("samples", ProfileCpuTest::hasLostStack);
    assertThat(profile.incompleteTotal()).isBetween(withLostStack, 2 * withLostStack);
    assertThat(profile.lostTotal()).isZero();
    assertThat(withLostStack).isLessThan(all / 20);
  }

  @Test
  void aStackMapWithoutRoomLosesStacksNotSamples() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    // 64 entries: the busy child's kernel stacks alone (told apart by return address) collide.
    GadgetInstance profile =
        GadgetTesting.instance(
            "profile_cpu",
            "    params:\n      frequency: " + FREQUENCY + "\n      interval: 500ms\n"
                + "      stack_map_entries: 64\n",
            sink);
    try (profile) {
      profile.start();
      Process child = busyChild("gxprof-" + UUID.randomUUID().toString().substring(0, 8));
      try {
        sink.await(b -> b.rows().stream().anyMatch(ProfileCpuTest::hasLostStack), WAIT);
        // A stack is counted in the kernel when it is missed, before its sample is: every one
        // counted by now is in a row by the second read from now (the first may have begun).
        long countedBefore = profile.incompleteTotal();
        nextRead(sink);
        nextRead(sink);
        long withLostStack = sink.sum("samples", ProfileCpuTest::hasLostStack);
        long countedAfter = profile.incompleteTotal();
        // One or two stacks (kernel, user) per such sample; the samples themselves are kept.
        assertThat(withLostStack).isPositive();
        assertThat(countedAfter).isGreaterThanOrEqualTo(withLostStack);
        assertThat(countedBefore).isLessThanOrEqualTo(2 * withLostStack);
        assertThat(profile.lostTotal()).as("no sample lost").isZero();
      } finally {
        stop(child);
      }
    }
  }

  /** A row with a stack the stack map had no room for. */
  private static boolean hasLostStack(RecordingSink.Recorded r) {
    return r.text("kernel_stack").startsWith("[lost") || r.text("user_stack").startsWith("[lost");
  }

  @Test
  void idleCpusAreCountedWhenAsked() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance profile =
        GadgetTesting.instance(
            "profile_cpu",
            "    params:\n      frequency: " + FREQUENCY + "\n      interval: 200ms\n"
                + "      include_idle: true\n",
            sink);
    try (profile) {
      profile.start();
      RowBatchSink.Batch b =
          sink.await(x -> x.rows().stream().anyMatch(r -> r.value("pid").equals(0L)), WAIT);
      RecordingSink.Recorded idle =
          b.rows().stream().filter(r -> r.value("pid").equals(0L)).findFirst().orElseThrow();
      assertThat(idle.text("comm")).startsWith("swapper/");
      assertThat(idle.text("user_stack")).as("a kernel thread").isEmpty();
    }
  }

  @Test
  void stacksCanBeTurnedOff() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    String name = "gxprof-" + UUID.randomUUID().toString().substring(0, 8);
    GadgetInstance profile =
        GadgetTesting.instance(
            "profile_cpu",
            "    params:\n      frequency: " + FREQUENCY + "\n      interval: 200ms\n"
                + "      kernel_stacks: false\n      user_stacks: false\n",
            sink);
    Process child;
    try (profile) {
      profile.start();
      child = busyChild(name);
      try {
        sink.await(b -> b.rows().stream().anyMatch(r -> r.value("pid").equals(child.pid())), WAIT);
      } finally {
        stop(child);
      }
    }
    List<RecordingSink.Recorded> rows =
        sink.rows().stream().filter(r -> r.value("pid").equals(child.pid())).toList();
    assertThat(rows).isNotEmpty();
    assertThat(rows).allSatisfy(r -> {
      assertThat(r.text("kernel_stack")).isEmpty();
      assertThat(r.text("user_stack")).isEmpty();
    });
    // Without stacks a process and thread name make one row per read.
    for (RowBatchSink.Batch b : sink.batches()) {
      assertThat(b.rows().stream().filter(r -> r.value("pid").equals(child.pid()))).hasSizeLessThanOrEqualTo(1);
    }
  }

  @Test
  void aSelectorThatSelectsNothingSamplesNothing() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance profile =
        GadgetTesting.instance(
            "profile_cpu",
            "    params:\n      frequency: " + FREQUENCY + "\n      interval: 100ms\n"
                + "    selector:\n      containers: [no-such-container]\n",
            sink,
            "",
            new io.gadgetexporter.container.ContainerCollection(0, System::nanoTime));
    try (profile) {
      profile.start();
      long before = profile.filteredTotal();
      Process child = busyChild("gxprof-filtered");
      try {
        // About a second of the busy child's samples, all dropped as they were taken.
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (profile.filteredTotal() < before + FREQUENCY && System.nanoTime() < deadline) {
          nextRead(sink);
        }
        assertThat(profile.filteredTotal()).isGreaterThanOrEqualTo(before + FREQUENCY);
      } finally {
        stop(child);
      }
    }
    assertThat(sink.rows()).isEmpty();
    assertThat(sink.batches()).isNotEmpty(); // it did read, and found nothing
  }
}
