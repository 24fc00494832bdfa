package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * profile_blockio in the real kernel: a loop device over a file, written and read with O_DIRECT
 * (dd oflag=direct, iflag=direct) so every block reaches the device as its own request.
 */
class ProfileBlockioTest {
  private static final int WRITES = 64;
  private static final int READS = 32;
  private static final int BLOCK = 4096;

  @TempDir Path dir;
  private String device; // /dev/loopN
  private String disk; // loopN
  private String majorMinor; // 7:N

  @BeforeEach
  void attachLoopDevice() throws Exception {
    Path image = dir.resolve("disk.img");
    try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(16 << 20);
    }
    device = run("losetup", "--find", "--show", image.toString()).strip();
    disk = Path.of(device).getFileName().toString();
    majorMinor = Files.readString(Path.of("/sys/block/" + disk + "/dev")).strip();
  }

  @AfterEach
  void detachLoopDevice() throws Exception {
    if (device != null) {
      run("losetup", "--detach", device);
    }
  }

  private static String run(String... argv) throws Exception {
    Process p =
        new ProcessBuilder(argv)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(String.join(" ", argv)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", argv) + ": " + out).isZero();
    return out;
  }

  private void directIo() throws Exception {
    run("dd", "if=/dev/zero", "of=" + device, "bs=" + BLOCK, "count=" + WRITES, "oflag=direct");
    run("dd", "if=" + device, "of=/dev/null", "bs=" + BLOCK, "count=" + READS, "iflag=direct");
  }

  @Test
  void directWritesAndReadsOfALoopDeviceAreCountedWithTheirLatencies() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    java.io.ByteArrayOutputStream json = new java.io.ByteArrayOutputStream();
    GadgetInstance blockio =
        GadgetTesting.instance(
            "profile_blockio",
            "    params:\n      interval: 200ms\n",
            EventSink.all(
                List.of(
                    sink,
                    new io.gadgetexporter.columns.JsonSink(
                        new java.io.PrintStream(json, true, StandardCharsets.UTF_8)))));
    try (blockio) {
      blockio.start();
      directIo();
    } // close reads the map once more: every completion is in
    Predicate<RecordingSink.Recorded> loop = r -> majorMinor.equals(r.text("dev"));
    Predicate<RecordingSink.Recorded> writes = loop.and(r -> "write".equals(r.text("op")));
    Predicate<RecordingSink.Recorded> reads = loop.and(r -> "read".equals(r.text("op")));
    // udev may probe the new device (reads): at least ours, then.
    assertThat(sink.sum("requests", writes)).isGreaterThanOrEqualTo(WRITES);
    assertThat(sink.sum("bytes", writes)).isGreaterThanOrEqualTo((long) WRITES * BLOCK);
    assertThat(sink.sum("requests", reads)).isGreaterThanOrEqualTo(READS);
    assertThat(sink.sum("errors", loop)).isZero();

    List<RecordingSink.Recorded> rows = sink.rows().stream().filter(loop).toList();
    assertThat(rows).allSatisfy(
        r -> {
          assertThat(r.text("disk")).isEqualTo(disk);
          String[] mm = majorMinor.split(":");
          assertThat(r.value("dev")).isEqualTo(Long.parseLong(mm[0]) << 20 | Long.parseLong(mm[1]));
          // Every request is in exactly one slot of the histogram.
          @SuppressWarnings("unchecked")
          List<Long> slots = (List<Long>) r.value("latency");
          assertThat(slots).hasSize(27);
          assertThat(slots.stream().mapToLong(Long::longValue).sum()).isEqualTo(r.value("requests"));
          assertThat((Long) r.value("latency_sum")).isPositive();
          assertThat(r.text("latency")).matches("(\\d+(-\\d+|\\+)us:\\d+ ?)+");
        });
    // The mean latency agrees with the histogram: within the slots it fell in.
    RecordingSink.Recorded w = rows.stream().filter(writes).findFirst().orElseThrow();
    @SuppressWarnings("unchecked")
    List<Long> slots = (List<Long>) w.value("latency");
    int lowest = 0;
    while (slots.get(lowest) == 0) {
      lowest++;
    }
    int highest = slots.size() - 1;
    while (slots.get(highest) == 0) {
      highest--;
    }
    double meanUs = (Long) w.value("latency_sum") / 1000.0 / (Long) w.value("requests");
    assertThat(meanUs)
        .isBetween((double) Log2Histogram.lowerBound(lowest), (double) Log2Histogram.lowerBound(highest + 1));
    assertThat(blockio.lostTotal()).isZero();
    // JSON lines: the raw numbers, their names beside them, the histogram as its slot counts.
    assertThat(json.toString(StandardCharsets.UTF_8).lines())
        .anySatisfy(
            line ->
                assertThat(line)
                    .contains("\"disk\":\"" + disk + "\"")
                    .contains("\"dev_text\":\"" + majorMinor + "\"")
                    .contains("\"op\":1,\"op_text\":\"write\"")
                    .containsPattern("\"latency\":\\[(\\d+,){26}\\d+\\]"));
  }

  @Test
  void aSelectorThatSelectsNothingCountsNothing() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance blockio =
        GadgetTesting.instance(
            "profile_blockio",
            "    params:\n      interval: 100ms\n"
                + "    selector:\n      containers: [no-such-container]\n",
            sink,
            "",
            new io.gadgetexporter.container.ContainerCollection(0, System::nanoTime));
    try (blockio) {
      blockio.start();
      long before = blockio.filteredTotal();
      directIo();
      // Every request issue was filtered out in the kernel: ours at least.
      assertThat(blockio.filteredTotal() - before).isGreaterThanOrEqualTo(WRITES + READS);
    }
    assertThat(sink.rows()).isEmpty();
    assertThat(sink.batches()).isNotEmpty(); // it did read, and found nothing
  }
}
