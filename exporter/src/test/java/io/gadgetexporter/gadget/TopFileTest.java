package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * top_file in the real kernel: this JVM reads and writes a file of its own a known number of times
 * with known sizes, and the row for that file says exactly that.
 */
class TopFileTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final long PID = ProcessHandle.current().pid();

  @TempDir Path dir;

  /** 7 writes of 1000 bytes, 1 writev of 3 x 10; 5 reads of 1000 bytes, 2 preads of 100. */
  private void knownIo(Path file) throws Exception {
    byte[] chunk = new byte[1000];
    try (FileOutputStream out = new FileOutputStream(file.toFile())) {
      for (int i = 0; i < 7; i++) {
        out.write(chunk); // one write(2) each
      }
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.APPEND)) {
      ByteBuffer[] three = {
        ByteBuffer.allocate(10), ByteBuffer.allocate(10), ByteBuffer.allocate(10)
      };
      assertThat(ch.write(three)).isEqualTo(30); // one writev(2)
    }
    try (FileInputStream in = new FileInputStream(file.toFile())) {
      for (int i = 0; i < 5; i++) {
        assertThat(in.read(chunk)).isEqualTo(1000); // one read(2) each
      }
    }
    try (FileChannel ch = FileChannel.open(file)) {
      for (int i = 0; i < 2; i++) {
        assertThat(ch.read(ByteBuffer.allocate(100), 500L * i)).isEqualTo(100); // pread64(2)
      }
    }
  }

  @Test
  void theRowOfAFileHasExactlyItsReadsWritesAndBytes() throws Exception {
    Path file = dir.resolve("known.bin");
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance top =
        GadgetTesting.instance("top_file", "    params:\n      interval: 200ms\n", sink);
    try (top) {
      top.start();
      knownIo(file);
    } // close reads the map once more: every count is in
    long inode = (Long) Files.getAttribute(file, "unix:ino");
    List<RecordingSink.Recorded> rows =
        sink.rows().stream()
            .filter(r -> r.value("pid").equals(PID) && r.value("inode").equals(inode))
            .toList();
    assertThat(rows).isNotEmpty();
    assertThat(rows.stream().mapToLong(r -> (Long) r.value("writes")).sum()).isEqualTo(8);
    assertThat(rows.stream().mapToLong(r -> (Long) r.value("wbytes")).sum()).isEqualTo(7030);
    assertThat(rows.stream().mapToLong(r -> (Long) r.value("reads")).sum()).isEqualTo(7);
    assertThat(rows.stream().mapToLong(r -> (Long) r.value("rbytes")).sum()).isEqualTo(5200);
    RecordingSink.Recorded row = rows.get(0);
    // The path is rebuilt from dentries across mount points (the temp directory's file system
    // may be mounted below /): the real path, as the process sees it.
    assertThat(row.value("path")).isEqualTo(file.toRealPath().toString());
    assertThat(row.text("type")).isEqualTo("regular");
    assertThat(row.value("type")).isEqualTo(0100000L);
    assertThat(row.text("comm")).isNotEmpty();
    // The kernel keeps devices as major << 20 | minor; stat(2) encodes them differently.
    long statDev = (Long) Files.getAttribute(file, "unix:dev");
    long major = (statDev >> 8) & 0xfff;
    long minor = (statDev & 0xff) | ((statDev >> 12) & 0xfff00);
    assertThat(row.value("dev")).isEqualTo(major << 20 | minor);
    String mnt = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
    assertThat(row.value("mntns_id")).isEqualTo(Long.parseLong(mnt.replaceAll("\\D", "")));
    // Regular files only by default.
    assertThat(sink.rows()).allSatisfy(r -> assertThat(r.text("type")).isEqualTo("regular"));
    assertThat(top.lostTotal()).isZero();
  }

  @Test
  void allFilesCountsPipesToo() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance top =
        GadgetTesting.instance(
            "top_file", "    params:\n      interval: 200ms\n      all_files: true\n", sink);
    try (top) {
      top.start();
      Pipe pipe = Pipe.open();
      try (Pipe.SinkChannel out = pipe.sink();
          Pipe.SourceChannel in = pipe.source()) {
        for (int i = 0; i < 3; i++) {
          assertThat(out.write(ByteBuffer.allocate(100))).isEqualTo(100);
        }
        ByteBuffer got = ByteBuffer.allocate(300);
        while (got.hasRemaining()) {
          in.read(got);
        }
      }
    }
    // The JVM's own pipes (stdout to the build tool) may be busy too: at least ours is there.
    List<RecordingSink.Recorded> fifos =
        sink.rows().stream()
            .filter(r -> r.value("pid").equals(PID) && "fifo".equals(r.text("type")))
            .toList();
    assertThat(fifos)
        .anySatisfy(r -> assertThat((Long) r.value("wbytes")).isGreaterThanOrEqualTo(300));
    assertThat(fifos)
        .anySatisfy(r -> assertThat((Long) r.value("rbytes")).isGreaterThanOrEqualTo(300));
    // A pipe has no place in a directory tree: no path.
    assertThat(fifos).allSatisfy(r -> assertThat(r.value("path")).isEqualTo(""));
  }

  @Test
  void aSelectorThatSelectsNothingCountsNothing() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance top =
        GadgetTesting.instance(
            "top_file",
            "    params:\n      interval: 100ms\n"
                + "    selector:\n      containers: [no-such-container]\n",
            sink,
            "",
            new io.gadgetexporter.container.ContainerCollection(0, System::nanoTime));
    Path file = dir.resolve("filtered.bin");
    try (top) {
      top.start();
      long before = top.filteredTotal();
      knownIo(file);
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (top.filteredTotal() < before + 15 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(top.filteredTotal()).isGreaterThanOrEqualTo(before + 15);
    }
    assertThat(sink.rows()).isEmpty();
  }
}
