package io.gadgetexporter.bpf;

import static io.gadgetexporter.bpf.TestSupport.arrayU64;
import static io.gadgetexporter.bpf.TestSupport.pid;
import static io.gadgetexporter.bpf.TestSupport.writes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BpfProgramTest {
  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  private static BpfObject loadedEvents() {
    BpfObject obj = TestSupport.open("ringbuf_events");
    obj.setConstant("target_tgid", pid());
    obj.setConstant("magic_count", 999);
    obj.load();
    return obj;
  }

  @Test
  void attachesToATracepointByNameOrBySection() {
    try (BpfObject obj = loadedEvents()) {
      BpfProgram p = obj.program("handle_write");
      assertThat(p.attachKind()).contains(AttachKind.TRACEPOINT);
      assertThat(p.fd()).isPositive();
      try (BpfLink link = p.attachTracepoint("syscalls", "sys_enter_write")) {
        assertThat(link.target()).isEqualTo("tracepoint syscalls/sys_enter_write");
        writes(4, 999);
      }
      assertThat(arrayU64(obj.map("counters"), 0)).isEqualTo(4);
      try (BpfLink link = p.attach()) {
        writes(3, 999);
      }
      assertThat(arrayU64(obj.map("counters"), 0)).isEqualTo(7);
    }
  }

  @Test
  void aMissingTracepointIsABpfExceptionWithLibbpfsReason() {
    try (BpfObject obj = loadedEvents()) {
      assertThatThrownBy(() -> obj.program("handle_write").attachTracepoint("nope", "nothing"))
          .isInstanceOf(BpfException.class)
          .hasMessageStartingWith(
              "attach of program 'handle_write' to tracepoint nope/nothing failed: "
                  + "No such file or directory (ENOENT)")
          .hasMessageContaining("libbpf: ")
          .satisfies(e -> assertThat(((BpfException) e).errnoName()).isEqualTo("ENOENT"));
    }
  }

  @Test
  void attachingNeedsALoadedObject() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      assertThatThrownBy(() -> obj.program("handle_write").attach())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("not loaded");
    }
  }

  @Test
  void attachesRawTracepointAndTpBtfPrograms() {
    try (BpfObject obj = TestSupport.open("raw_tp")) {
      obj.setConstant("target_tgid", pid());
      obj.load();
      assertThat(obj.program("on_raw_sys_enter").attachKind()).contains(AttachKind.RAW_TRACEPOINT);
      assertThat(obj.program("on_btf_sys_enter").attachKind()).contains(AttachKind.TP_BTF);
      obj.program("on_raw_sys_enter").attachRawTracepoint("sys_enter");
      obj.program("on_btf_sys_enter").attach();
      writes(10, 1);
      assertThat(arrayU64(obj.map("hits"), 0)).isGreaterThanOrEqualTo(10);
      assertThat(arrayU64(obj.map("hits"), 1)).isGreaterThanOrEqualTo(10);
    }
  }

  @Test
  void attachesUprobesByFunctionNameAndByFileOffset() throws Exception {
    Path target = TestSupport.testBinary("uprobe_target");
    try (BpfObject obj = TestSupport.open("uprobe")) {
      obj.load();
      BpfLink entry =
          obj.program("on_entry").attachUprobe(false, -1, target.toString(), "gx_uprobe_target");
      long offset = Bpf.symbolFileOffset(target.toString(), "gx_uprobe_target");
      BpfLink exit = obj.program("on_return").attachUprobe(true, -1, target.toString(), offset);
      assertThat(entry.target()).endsWith(":gx_uprobe_target");
      assertThat(exit.target()).startsWith("uretprobe ");

      Process p = new ProcessBuilder(target.toString(), "7").redirectErrorStream(true).start();
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(new String(p.getInputStream().readAllBytes()).trim()).isEqualTo("42");

      assertThat(arrayU64(obj.map("calls"), 0)).isEqualTo(7);
      assertThat(arrayU64(obj.map("calls"), 1)).isEqualTo(7);
      assertThat(arrayU64(obj.map("calls"), 2)).isEqualTo(0 + 1 + 2 + 3 + 4 + 5 + 6);
    }
  }

  @Test
  void perfEventProgramsSampleEachCpu() throws Exception {
    try (BpfObject obj = TestSupport.open("perf_event")) {
      obj.load();
      BpfProgram p = obj.program("on_sample");
      assertThat(p.attachKind()).contains(AttachKind.PERF_EVENT);
      long perfFdsBefore = perfEventFds();
      List<BpfLink> links = new ArrayList<>();
      int cpus = Runtime.getRuntime().availableProcessors();
      for (int cpu = 0; cpu < cpus; cpu++) {
        links.add(p.attachPerfEvent(cpu, 1000));
      }
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
      long spin = 0;
      while (System.nanoTime() < until) {
        spin++; // keep a CPU busy; idle CPUs are sampled too, this just makes sure
      }
      assertThat(spin).isPositive();
      long samples = arrayU64(obj.map("samples"), 0);
      assertThat(samples).isGreaterThan(50);
      assertThat(perfEventFds()).isEqualTo(perfFdsBefore + cpus);
      links.forEach(BpfLink::close);
      assertThat(perfEventFds())
          .as("closing a link closes its perf event")
          .isEqualTo(perfFdsBefore);
      long after = arrayU64(obj.map("samples"), 0);
      Thread.sleep(100);
      assertThat(arrayU64(obj.map("samples"), 0)).as("detached").isEqualTo(after);
      assertThatThrownBy(() -> p.attachPerfEvent(-1, 100))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  /** Open perf event fds of this process. */
  private static long perfEventFds() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(
              fd -> {
                try {
                  return Files.readSymbolicLink(fd).toString().equals("anon_inode:[perf_event]");
                } catch (IOException e) {
                  return false; // the fd of the listing itself, closed meanwhile
                }
              })
          .count();
    }
  }

  @Test
  void socketFiltersSeeLoopbackUdpPackets() throws Exception {
    try (BpfObject obj = TestSupport.open("socket_filter");
        DatagramSocket receiver = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        DatagramSocket sender = new DatagramSocket();
        SocketFilterTarget lo = SocketFilterTarget.packet("lo")) {
      obj.setConstant("target_port", receiver.getLocalPort());
      obj.load();
      BpfProgram p = obj.program("count_udp");
      assertThat(p.attachKind()).contains(AttachKind.SOCKET_FILTER);
      BpfLink link = p.attachSocketFilter(lo.fd());
      assertThat(link.fd()).isEqualTo(-1);
      send(sender, receiver, 20);
      assertThat(arrayU64(obj.map("packets"), 0)).isEqualTo(20);

      link.close();
      send(sender, receiver, 5);
      assertThat(arrayU64(obj.map("packets"), 0)).as("detached").isEqualTo(20);
    }
  }

  private static void send(DatagramSocket sender, DatagramSocket receiver, int count)
      throws Exception {
    receiver.setSoTimeout(5000);
    byte[] payload = "hello".getBytes();
    for (int i = 0; i < count; i++) {
      sender.send(
          new DatagramPacket(
              payload, payload.length, receiver.getLocalAddress(), receiver.getLocalPort()));
      receiver.receive(new DatagramPacket(new byte[64], 64)); // it really crossed lo
    }
  }

  @Test
  void statsNeedLoadedProgram() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      assertThatThrownBy(() -> obj.program("handle_write").stats())
          .isInstanceOf(IllegalStateException.class);
    }
  }
}
