package io.gadgetexporter.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Shared helpers: the test BPF objects (built by `make test-bpf`), root check, triggers. */
final class TestSupport {
  private TestSupport() {}

  /**
   * These tests load and attach real BPF programs, which needs root. Not being root is a failure,
   * not a reason to skip: CI runs them as root, and a skipped kernel test proves nothing.
   */
  static void requireRoot() {
    assertThat(uid())
        .as("the jni tests load BPF programs into the kernel and must run as root")
        .isZero();
    ensureTracefs();
  }

  /**
   * Tracepoint attachment reads event ids from tracefs. The machine mounts it at boot, but it is
   * shared with every other process on the machine and has been seen unmounted under a running
   * suite; mount it back the way the system would.
   */
  static void ensureTracefs() {
    if (Files.isDirectory(Path.of("/sys/kernel/tracing/events"))) {
      return;
    }
    try {
      Process p =
          new ProcessBuilder("mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing")
              .inheritIO()
              .start();
      assertThat(p.waitFor()).as("mount tracefs at /sys/kernel/tracing").isZero();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static int uid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return Integer.parseInt(line.split("\\s+")[2]); // effective uid
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException("no Uid line in /proc/self/status");
  }

  /** The bytes of src/test/bpf/<name>.bpf.c's object. */
  static byte[] bpfObject(String name) {
    String resource = "/bpf/" + name + ".bpf.o";
    try (InputStream in = TestSupport.class.getResourceAsStream(resource)) {
      assertThat(in).as(resource + " (built by make test-bpf)").isNotNull();
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static BpfObject open(String name) {
    return BpfObject.open(name, bpfObject(name));
  }

  static Path testBinary(String name) {
    try {
      return Path.of(TestSupport.class.getResource("/bin/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static int pid() {
    return (int) ProcessHandle.current().pid();
  }

  /** {@code count} write(2) calls of {@code size} bytes each to /dev/null, from this thread. */
  static void writes(int count, int size) {
    byte[] data = new byte[size];
    try (FileOutputStream out = new FileOutputStream("/dev/null")) {
      for (int i = 0; i < count; i++) {
        out.write(data);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] u32(int v) {
    return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array();
  }

  static byte[] u64(long v) {
    return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(v).array();
  }

  static long u64(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).getLong(0);
  }

  static int u32(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).getInt(0);
  }

  /** counters-style array lookups: the u64 at key {@code index}. */
  static long arrayU64(BpfMap map, int index) {
    return u64(map.lookup(u32(index)));
  }

  /** The sum over CPUs of a per-CPU u64 value at key {@code index}. */
  static long perCpuSum(BpfMap map, int index) {
    ByteBuffer b = ByteBuffer.wrap(map.lookup(u32(index))).order(ByteOrder.nativeOrder());
    long sum = 0;
    for (int cpu = 0; cpu < Bpf.possibleCpus(); cpu++) {
      sum += b.getLong(cpu * map.valueSlotSize());
    }
    return sum;
  }

  static ByteBuffer directBuffer(int size) {
    return ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
  }
}
