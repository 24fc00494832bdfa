package io.gadgetexporter.linux;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.linux.BlockedExec.Arch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The /proc parsing and memory walking, on synthetic input (no root needed: a file stands in for
 * /proc/pid/mem, offsets for addresses), and on live processes that are not in an exec (root). The
 * blocked-in-execve case is in {@link FanotifyTest}, which can stop a process there.
 */
class BlockedExecTest {
  @TempDir Path dir;

  // ---- /proc/<pid>/syscall ----------------------------------------------------------------

  @Test
  void execveTakesArgvFromArgumentOne() {
    String line = "59 0x5581a0 0x7ffd0010 0x7ffd0100 0x0 0x0 0x0 0x7ffcfff8 0x7f12345\n";
    assertThat(BlockedExec.argvAddress(line, Arch.X86_64)).hasValue(0x7ffd0010L);
    assertThat(BlockedExec.argvAddress(line.replaceFirst("59", "221"), Arch.AARCH64))
        .hasValue(0x7ffd0010L);
  }

  @Test
  void execveatTakesArgvFromArgumentTwo() {
    String line = "322 0xffffff9c 0x5581a0 0xffffd0000010 0x7ffd0100 0x0 0x0 0x7ffcfff8 0x7f1\n";
    assertThat(BlockedExec.argvAddress(line, Arch.X86_64)).hasValue(0xffffd0000010L);
    assertThat(BlockedExec.argvAddress(line.replaceFirst("322", "281"), Arch.AARCH64))
        .hasValue(0xffffd0000010L);
  }

  @Test
  void otherStatesHaveNoArgv() {
    assertThat(BlockedExec.argvAddress("running\n", Arch.X86_64)).isEmpty();
    assertThat(BlockedExec.argvAddress("-1 0x7ffcfff8 0x7f12345\n", Arch.X86_64)).isEmpty();
    assertThat(BlockedExec.argvAddress("", Arch.X86_64)).isEmpty();
    // clock_nanosleep on x86_64; and execve's x86_64 number means something else on aarch64.
    assertThat(BlockedExec.argvAddress("230 0x1 0x0 0x7ffd 0x0 0x0 0x0 0x7ff 0x7f\n", Arch.X86_64))
        .isEmpty();
    assertThat(BlockedExec.argvAddress("59 0x1 0x2 0x3 0x0 0x0 0x0 0x7ff 0x7f\n", Arch.AARCH64))
        .isEmpty();
  }

  // ---- argv from memory ------------------------------------------------------------------

  /** Builds a fake address space: pointer arrays and strings at chosen offsets of a file. */
  static final class Memory {
    final ByteBuffer bytes = ByteBuffer.allocate(1 << 21).order(ByteOrder.nativeOrder());
    int end;

    Memory string(long address, String s) {
      return bytes(address, (s + "\0").getBytes(StandardCharsets.UTF_8));
    }

    Memory bytes(long address, byte[] b) {
      bytes.put((int) address, b);
      end = Math.max(end, (int) address + b.length);
      return this;
    }

    Memory pointers(long address, long... pointers) {
      for (int i = 0; i < pointers.length; i++) {
        bytes.putLong((int) address + 8 * i, pointers[i]);
      }
      end = Math.max(end, (int) address + 8 * pointers.length);
      return this;
    }

    Optional<List<String>> argv(Path file, long argv) throws IOException {
      byte[] content = new byte[end];
      bytes.get(0, content);
      Files.write(file, content);
      try (FileChannel mem = FileChannel.open(file, StandardOpenOption.READ)) {
        return BlockedExec.readArgv(mem, argv);
      }
    }
  }

  /** Strings of {@code count} arguments, each {@code length} bytes, from 0x10000 on. */
  static long[] manyStrings(Memory m, int count, int length) {
    long[] p = new long[count + 1];
    for (int i = 0; i < count; i++) {
      p[i] = 0x10000L + (long) i * (length + 1);
      m.string(p[i], "x".repeat(length));
    }
    return p; // last one 0: the NULL terminator
  }

  @Test
  void readsThePointerArrayThenTheStrings() throws IOException {
    Memory m =
        new Memory()
            .pointers(0x1000, 0x2000, 0x2010, 0x2020, 0)
            .string(0x2000, "/usr/bin/runc")
            .string(0x2010, "create")
            .string(0x2020, "");
    assertThat(m.argv(dir.resolve("mem"), 0x1000)).contains(List.of("/usr/bin/runc", "create", ""));
  }

  @Test
  void stringsAndPointersMayStraddleA4KibBoundary() throws IOException {
    // A misaligned pointer array across 0x3000, a string across 0x5000: read in pieces.
    Memory m = new Memory().pointers(0x2ffc, 0x4ffe, 0x6000, 0).string(0x4ffe, "across");
    m.string(0x6000, "next");
    assertThat(m.argv(dir.resolve("mem"), 0x2ffc)).contains(List.of("across", "next"));
  }

  @Test
  void aNullArgvIsEmpty() throws IOException {
    assertThat(new Memory().string(0x10, "unused").argv(dir.resolve("mem"), 0)).contains(List.of());
  }

  @Test
  void aLongArgumentIsCutTo4096Bytes() throws IOException {
    Memory m = new Memory().pointers(0x1000, 0x2000, 0x4000, 0).string(0x4000, "next");
    m.string(0x2000, "y".repeat(0x4000 - 0x2000 - 1)); // 8191 bytes and its NUL
    List<String> argv = m.argv(dir.resolve("mem"), 0x1000).orElseThrow();
    assertThat(argv.get(0)).hasSize(BlockedExec.MAX_ARGUMENT_BYTES);
    assertThat(argv.get(1)).isEqualTo("next");
  }

  @Test
  void atMost256ArgumentsAreRead() throws IOException {
    Memory m = new Memory();
    m.pointers(0x1000, manyStrings(m, 300, 3));
    List<String> argv = m.argv(dir.resolve("mem"), 0x1000).orElseThrow();
    assertThat(argv).hasSize(BlockedExec.MAX_ARGUMENTS).allMatch("xxx"::equals);
  }

  @Test
  void atMost64KibAreReadInAll() throws IOException {
    Memory m = new Memory();
    m.pointers(0x1000, manyStrings(m, 20, 4000));
    List<String> argv = m.argv(dir.resolve("mem"), 0x1000).orElseThrow();
    assertThat(argv).hasSize(17);
    assertThat(argv.subList(0, 16)).allMatch(s -> s.length() == 4000);
    assertThat(argv.get(16)).hasSize(BlockedExec.MAX_TOTAL_BYTES - 16 * 4000);
  }

  @Test
  void unreadableMemoryGivesEmpty() throws IOException {
    Memory m = new Memory().pointers(0x1000, 0x2000, 0x9000, 0).string(0x2000, "ok");
    assertThat(m.argv(dir.resolve("mem"), 0x1000)).as("a pointer past the end").isEmpty();

    Memory unterminated = new Memory().pointers(0x1000, 0x2000, 0);
    unterminated.bytes(0x2000, "no-nul".getBytes(StandardCharsets.US_ASCII));
    assertThat(unterminated.argv(dir.resolve("mem2"), 0x1000))
        .as("no NUL before the end")
        .isEmpty();

    Memory m3 = new Memory().string(0x800, "ok").pointers(0x1000, 0x800); // the end: no NULL
    assertThat(m3.argv(dir.resolve("mem3"), 0x1000)).isEmpty();
    assertThat(m3.argv(dir.resolve("mem4"), 0xffff_8000_0000_0000L)).as("kernel address").isEmpty();
  }

  // ---- live processes (root) -------------------------------------------------------------

  @Test
  void aProcessThatIsNotInAnExecHasNoArguments() throws Exception {
    LinuxTestSupport.requireRoot();
    Process sleep = new ProcessBuilder("sleep", "30").directory(dir.toFile()).start();
    try {
      int pid = (int) sleep.pid();
      // start() returned: the exec is done and sleep runs (or sleeps in clock_nanosleep).
      assertThat(BlockedExec.arguments(pid)).isEmpty();
      assertThat(BlockedExec.workingDirectory(pid)).contains(dir.toRealPath());
    } finally {
      sleep.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void thisJvmIsNotInAnExec() {
    LinuxTestSupport.requireRoot();
    int pid = (int) ProcessHandle.current().pid();
    assertThat(BlockedExec.arguments(pid)).isEmpty(); // every thread searched, none in execve
    assertThat(BlockedExec.workingDirectory(pid))
        .contains(Path.of(System.getProperty("user.dir")).toAbsolutePath());
  }

  @Test
  void aMissingProcessHasNothing() {
    int unused = 1 << 30; // above PID_MAX_LIMIT (4194304): never a pid
    assertThat(BlockedExec.arguments(unused)).isEmpty();
    assertThat(BlockedExec.workingDirectory(unused)).isEmpty();
    assertThat(BlockedExec.arguments(0)).isEmpty();
    assertThat(BlockedExec.workingDirectory(-1)).isEmpty();
  }
}
