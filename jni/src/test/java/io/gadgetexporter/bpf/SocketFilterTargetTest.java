package io.gadgetexporter.bpf;

import static io.gadgetexporter.bpf.TestSupport.arrayU64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SocketFilterTargetTest {
  private String namespace;

  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  @AfterEach
  void deleteNamespace() throws Exception {
    if (namespace != null) {
      run("ip", "netns", "del", namespace);
    }
  }

  @Test
  void opensAPacketSocketOnAnInterface() {
    SocketFilterTarget lo = SocketFilterTarget.packet("lo");
    int fd = lo.fd();
    assertThat(lo.interfaceName()).isEqualTo("lo");
    assertThat(Files.exists(Path.of("/proc/self/fd/" + fd))).isTrue();
    lo.close();
    lo.close();
    assertThatThrownBy(lo::fd).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void anUnknownInterfaceIsENODEV() {
    assertThatThrownBy(() -> SocketFilterTarget.packet("nosuchif0"))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("nosuchif0")
        .satisfies(e -> assertThat(((BpfException) e).errnoName()).isEqualTo("ENODEV"));
  }

  @Test
  void aSocketInAnotherNamespaceSeesThatNamespaceOnlyAndOnlyOnceListening() throws Exception {
    namespace = "gx-jni-" + ThreadLocalRandom.current().nextInt(1_000_000);
    run("ip", "netns", "add", namespace);
    run("ip", "-n", namespace, "link", "set", "lo", "up");
    Path file = Path.of("/run/netns", namespace);
    int port = 40_000 + ThreadLocalRandom.current().nextInt(20_000);
    Path threadNetns = Path.of("/proc/thread-self/ns/net");
    String threadNetnsBefore = Files.readSymbolicLink(threadNetns).toString();

    try (BpfObject obj = TestSupport.open("socket_filter");
        SocketFilterTarget target = SocketFilterTarget.packetInNamespace(file);
        DatagramSocket hostSender = new DatagramSocket()) {
      assertThat(target.netnsId()).isEqualTo(Files.getAttribute(file, "unix:ino"));
      assertThat(target.interfaceName()).isEmpty();
      assertThat(Files.readSymbolicLink(threadNetns).toString())
          .as("the calling thread stays in its own namespace")
          .isEqualTo(threadNetnsBefore);
      obj.setConstant("target_port", port);
      obj.load();
      BpfLink link = obj.program("count_udp").attachSocketFilter(target.fd());

      sendInNamespace(port, 2); // before listen(): the socket is hooked to nothing yet
      target.listen();
      sendInNamespace(port, 3);
      for (int i = 0; i < 4; i++) { // the host's loopback is another namespace's
        byte[] b = {1};
        hostSender.send(new DatagramPacket(b, 1, InetAddress.getLoopbackAddress(), port));
      }
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (arrayU64(obj.map("packets"), 0) < 3 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(arrayU64(obj.map("packets"), 0)).isEqualTo(3);
      link.close();
    }
  }

  @Test
  void theCallersOwnNamespaceIsOpenedWithoutSetnsAnotherNeedsCapSysAdmin() throws Exception {
    namespace = "gx-jni-" + ThreadLocalRandom.current().nextInt(1_000_000);
    run("ip", "netns", "add", namespace);
    // The child runs in this JVM's namespace: naming it by this process's file is naming its own.
    Path own = Path.of("/proc", Long.toString(ProcessHandle.current().pid()), "ns", "net");
    assertThat(WithoutSysAdmin.run("socket", own.toString()))
        .isEqualTo("ok " + Files.getAttribute(own, "unix:ino"));
    assertThat(WithoutSysAdmin.run("socket", "/run/netns/" + namespace))
        .startsWith("error EPERM setns")
        .contains("CAP_SYS_ADMIN");
  }

  @Test
  void aMissingOrWrongNamespaceFileIsRefused() {
    assertThatThrownBy(() -> SocketFilterTarget.packetInNamespace(Path.of("/proc/0/ns/net")))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("/proc/0/ns/net")
        .satisfies(e -> assertThat(((BpfException) e).errnoName()).isEqualTo("ENOENT"));
    assertThatThrownBy(() -> SocketFilterTarget.packetInNamespace(Path.of("/proc/self/ns/mnt")))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("setns")
        .satisfies(e -> assertThat(((BpfException) e).errnoName()).isEqualTo("EINVAL"));
  }

  /** {@code count} UDP datagrams to 127.0.0.1:port from inside the test namespace (bash). */
  private void sendInNamespace(int port, int count) throws Exception {
    run(
        "ip", "netns", "exec", namespace, "bash", "-c",
        "for i in $(seq " + count + "); do echo x > /dev/udp/127.0.0.1/" + port + "; done");
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as("%s: %s", String.join(" ", command), out).isZero();
  }
}
