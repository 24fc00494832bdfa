package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * syscall_count in the real kernel: this JVM makes a known number of symlink calls, half of them
 * failing, and the rows for them say exactly that. Nothing else in the JVM makes symlinks.
 */
class SyscallCountTest {
  private static final int LINKS = 25;
  private static final long PID = ProcessHandle.current().pid();

  @TempDir Path dir;

  /** Files.createSymbolicLink is symlink(2) through glibc on x86_64, symlinkat(2) on arm64. */
  private static final Predicate<RecordingSink.Recorded> SYMLINK =
      r -> Set.of("symlink", "symlinkat").contains(r.text("syscall"));

  private void makeLinks() throws Exception {
    for (int i = 0; i < LINKS; i++) {
      Files.createSymbolicLink(dir.resolve("link-" + i), Path.of("target"));
    }
    for (int i = 0; i < LINKS; i++) {
      Path existing = dir.resolve("link-" + i);
      assertThatThrownBy(() -> Files.createSymbolicLink(existing, Path.of("target")))
          .isInstanceOf(FileAlreadyExistsException.class);
    }
  }

  @Test
  void perProcessRowsCountCallsAndFailuresExactly() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance count =
        GadgetTesting.instance(
            "syscall_count", "    params:\n      per_process: true\n      interval: 200ms\n", sink);
    try (count) {
      count.start();
      makeLinks();
    } // close reads the map once more: every count is in
    Predicate<RecordingSink.Recorded> mine = SYMLINK.and(r -> r.value("pid").equals(PID));
    assertThat(sink.sum("count", mine)).isEqualTo(2 * LINKS);
    assertThat(sink.sum("errors", mine)).isEqualTo(LINKS);
    RecordingSink.Recorded row = sink.rows().stream().filter(mine).findFirst().orElseThrow();
    assertThat(row.text("syscall")).isEqualTo(SyscallNames.name((Long) row.value("syscall")));
    assertThat(row.text("comm")).isNotEmpty();
    String mnt = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
    assertThat(row.value("mntns_id")).isEqualTo(Long.parseLong(mnt.replaceAll("\\D", "")));
    assertThat(count.lostTotal()).isZero();
  }

  @Test
  void byDefaultRowsAreOnePerContainerAndSyscall() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance count =
        GadgetTesting.instance("syscall_count", "    params:\n      interval: 200ms\n", sink);
    try (count) {
      count.start();
      makeLinks();
    }
    // Other processes of this (the host's) mount namespace may make symlinks too.
    assertThat(sink.sum("count", SYMLINK)).isGreaterThanOrEqualTo(2 * LINKS);
    assertThat(sink.sum("errors", SYMLINK)).isGreaterThanOrEqualTo(LINKS);
    assertThat(sink.rows()).allSatisfy(r -> assertThat(r.value("pid")).isEqualTo(0L));
    assertThat(sink.rows()).allSatisfy(r -> assertThat(r.text("comm")).isEmpty());
    // One row per mount namespace and syscall in each read.
    for (RowBatchSink.Batch b : sink.batches()) {
      assertThat(b.rows())
          .extracting(r -> r.value("mntns_id") + "/" + r.value("syscall"))
          .doesNotHaveDuplicates();
    }
  }

  @Test
  void aSelectorThatSelectsNothingCountsNothing() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance count =
        GadgetTesting.instance(
            "syscall_count",
            "    params:\n      interval: 100ms\n"
                + "    selector:\n      containers: [no-such-container]\n",
            sink,
            "",
            new io.gadgetexporter.container.ContainerCollection(0, System::nanoTime));
    try (count) {
      count.start();
      long before = count.filteredTotal();
      makeLinksOnce();
      // Its unlink and symlink at least, dropped as they were made.
      assertThat(count.filteredTotal() - before).isGreaterThanOrEqualTo(2);
    } // close reads the map once more: had the calls been counted, they would be in a read
    assertThat(sink.rows()).isEmpty();
    assertThat(sink.batches()).isNotEmpty(); // it did read, and found nothing
  }

  private void makeLinksOnce() throws Exception {
    Path link = dir.resolve("again");
    Files.deleteIfExists(link);
    Files.createSymbolicLink(link, Path.of("target"));
  }
}
