package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.ContainerCollection;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * snapshot_socket in the real kernel: TCP and UDP sockets of this JVM on loopback in both address
 * families, one of a process in a network namespace of its own, and the selector.
 */
class SnapshotSocketTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final long SELF = ProcessHandle.current().pid();
  private static final InetAddress V4 = InetAddress.getLoopbackAddress();
  private static final InetAddress V6 = loopback6();

  @Test
  void tcpListenersAndConnectionsOfBothFamiliesWithTheirOwnerAndQueues() throws Exception {
    try (GadgetInstance snap = GadgetTesting.instance("snapshot_socket", "", EventSink.NONE);
        ServerSocketChannel listen4 = ServerSocketChannel.open(StandardProtocolFamily.INET);
        ServerSocketChannel listen6 = ServerSocketChannel.open(StandardProtocolFamily.INET6);
        SocketChannel client4 = SocketChannel.open(StandardProtocolFamily.INET)) {
      snap.start();
      listen4.bind(new InetSocketAddress(V4, 0), 7);
      listen6.bind(new InetSocketAddress(V6, 0), 9);
      int port4 = port(listen4.getLocalAddress());
      int port6 = port(listen6.getLocalAddress());
      client4.connect(listen4.getLocalAddress());
      int clientPort = port(client4.getLocalAddress());
      client4.write(ByteBuffer.wrap("hello".getBytes()));

      // Connected, not accepted yet: the connection waits in the listener's accept queue, a
      // socket no process holds.
      List<RecordingSink.Recorded> rows = take(snap);
      RecordingSink.Recorded l4 = one(rows, "127.0.0.1:" + port4, "LISTEN");
      assertThat(l4.text("protocol")).isEqualTo("TCP");
      assertThat(l4.value("protocol")).isEqualTo(6L);
      assertThat(l4.text("family")).isEqualTo("AF_INET");
      assertThat(l4.text("dst")).isEqualTo("0.0.0.0:0");
      assertThat(l4.value("state")).isEqualTo(10L);
      assertThat(l4.value("rx_queue")).as("connections waiting").isEqualTo(1L);
      assertThat(l4.value("tx_queue")).as("the backlog").isEqualTo(7L);
      assertOwnedByThisJvm(l4);
      RecordingSink.Recorded pending =
          one(rows, "127.0.0.1:" + port4, "ESTABLISHED", "127.0.0.1:" + clientPort);
      assertThat(pending.value("pid")).isEqualTo(0L);
      assertThat(pending.text("comm")).isEmpty();
      assertThat(pending.value("inode")).isEqualTo(0L);
      assertThat(pending.value("netns_id")).isEqualTo(l4.value("netns_id"));

      RecordingSink.Recorded l6 = one(rows, "[::1]:" + port6, "LISTEN");
      assertThat(l6.text("family")).isEqualTo("AF_INET6");
      assertThat(l6.text("dst")).isEqualTo("[::]:0");
      assertThat(l6.value("tx_queue")).isEqualTo(9L);
      assertOwnedByThisJvm(l6);

      try (SocketChannel server4 = listen4.accept();
          SocketChannel client6 = SocketChannel.open(StandardProtocolFamily.INET6)) {
        client6.connect(listen6.getLocalAddress());
        int clientPort6 = port(client6.getLocalAddress());
        try (SocketChannel server6 = listen6.accept()) {
          rows = take(snap);
          RecordingSink.Recorded accepted =
              one(rows, "127.0.0.1:" + port4, "ESTABLISHED", "127.0.0.1:" + clientPort);
          assertOwnedByThisJvm(accepted);
          assertThat(accepted.value("rx_queue")).as("sent, not read").isEqualTo(5L);
          assertOwnedByThisJvm(
              one(rows, "127.0.0.1:" + clientPort, "ESTABLISHED", "127.0.0.1:" + port4));
          assertThat(one(rows, "127.0.0.1:" + port4, "LISTEN").value("rx_queue")).isEqualTo(0L);
          assertOwnedByThisJvm(one(rows, "[::1]:" + port6, "ESTABLISHED", "[::1]:" + clientPort6));
          assertOwnedByThisJvm(one(rows, "[::1]:" + clientPort6, "ESTABLISHED", "[::1]:" + port6));
        }
        // Both ends closed, the client first (the server read everything: no reset): the
        // client's side waits in TIME_WAIT, held by no process.
        assertThat(server4.read(ByteBuffer.allocate(5))).isEqualTo(5);
        client4.close();
        server4.close();
      }
      String src = "127.0.0.1:" + clientPort;
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (take(snap).stream()
          .noneMatch(r -> r.text("src").equals(src) && r.text("state").equals("TIME_WAIT"))) {
        assertThat(System.nanoTime() - deadline).as("waiting for TIME_WAIT").isNegative();
        Thread.sleep(10);
      }
      RecordingSink.Recorded timeWait = one(take(snap), src, "TIME_WAIT", "127.0.0.1:" + port4);
      assertThat(timeWait.value("pid")).isEqualTo(0L);
      assertThat(timeWait.value("inode")).isEqualTo(0L);
      assertThat(timeWait.text("protocol")).isEqualTo("TCP");
      assertThat(snap.malformedTotal()).isZero();
      assertThat(snap.lostTotal()).isZero();
    }
  }

  @Test
  void udpSocketsConnectedOrNotOfBothFamilies() throws Exception {
    try (GadgetInstance snap = GadgetTesting.instance("snapshot_socket", "", EventSink.NONE);
        DatagramChannel unconnected = DatagramChannel.open(StandardProtocolFamily.INET);
        DatagramChannel peer = DatagramChannel.open(StandardProtocolFamily.INET6);
        DatagramChannel connected = DatagramChannel.open(StandardProtocolFamily.INET6)) {
      snap.start();
      unconnected.bind(new InetSocketAddress(V4, 0));
      peer.bind(new InetSocketAddress(V6, 0));
      connected.bind(new InetSocketAddress(V6, 0));
      connected.connect(peer.getLocalAddress());
      int port4 = port(unconnected.getLocalAddress());
      int peerPort = port(peer.getLocalAddress());
      int port6 = port(connected.getLocalAddress());
      // A datagram nobody reads stays in the receive queue.
      try (DatagramChannel sender = DatagramChannel.open(StandardProtocolFamily.INET)) {
        sender.send(ByteBuffer.wrap(new byte[100]), unconnected.getLocalAddress());
      }

      List<RecordingSink.Recorded> rows = take(snap);
      RecordingSink.Recorded u4 = one(rows, "127.0.0.1:" + port4, "CLOSE");
      assertThat(u4.text("protocol")).isEqualTo("UDP");
      assertThat(u4.text("family")).isEqualTo("AF_INET");
      assertThat(u4.text("dst")).isEqualTo("0.0.0.0:0");
      assertThat((Long) u4.value("rx_queue")).as("bytes queued, with overhead").isGreaterThan(100);
      assertOwnedByThisJvm(u4);
      RecordingSink.Recorded u6 = one(rows, "[::1]:" + port6, "ESTABLISHED", "[::1]:" + peerPort);
      assertThat(u6.text("protocol")).isEqualTo("UDP");
      assertThat(u6.text("family")).isEqualTo("AF_INET6");
      assertOwnedByThisJvm(u6);
    }
  }

  @Test
  void aSocketInAnotherNetworkNamespaceIsListedWithItsProcess() throws Exception {
    int port = 20000 + ThreadLocalRandom.current().nextInt(20000);
    Process other =
        new ProcessBuilder("unshare", "-n", "busybox", "nc", "-l", "-p", Integer.toString(port))
            .start();
    try (GadgetInstance snap = GadgetTesting.instance("snapshot_socket", "", EventSink.NONE);
        ServerSocketChannel here = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
      snap.start();
      here.bind(new InetSocketAddress(V4, 0)); // this JVM's namespace has a socket too
      long deadline = System.nanoTime() + WAIT.toNanos();
      RecordingSink.Recorded row = null;
      SnapshotSource.Result result = null;
      // unshare must create the namespace and exec nc, which must then listen.
      while (row == null) {
        assertThat(System.nanoTime() - deadline).as("waiting for nc to listen").isNegative();
        RecordingSink sink = new RecordingSink();
        result = snap.snapshots().orElseThrow().take(sink);
        row =
            sink.events().stream()
                .filter(r -> r.text("src").equals("[::]:" + port)) // dual-stack, any address
                .findFirst()
                .orElse(null);
        Thread.sleep(row == null ? 20 : 0);
      }
      assertThat(row.text("state")).isEqualTo("LISTEN");
      assertThat(row.value("pid")).isEqualTo(other.pid());
      assertThat(row.text("comm")).isEqualTo("busybox");
      assertThat(row.value("netns_id")).isEqualTo(namespace(other.pid(), "net"));
      assertThat(row.value("netns_id")).isNotEqualTo(namespace(SELF, "net"));
      assertThat(result.namespaces()).as("ours and nc's").isGreaterThanOrEqualTo(2);
      assertThat(result.namespacesSkipped()).isZero();
    } finally {
      other.destroyForcibly().waitFor();
    }
  }

  @Test
  void theSelectorLeavesOutEverySocketOfItsProcesses() throws Exception {
    try (GadgetInstance snap =
            GadgetTesting.instance(
                "snapshot_socket",
                "    selector:\n      containers: [no-such-container]\n",
                EventSink.NONE,
                "",
                new ContainerCollection(0, System::nanoTime));
        ServerSocketChannel listen = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
      snap.start();
      listen.bind(new InetSocketAddress(V4, 0));
      RecordingSink rows = new RecordingSink();
      SnapshotSource.Result result = snap.snapshots().orElseThrow().take(rows);
      assertThat(rows.events()).isEmpty();
      assertThat(result.namespaces()).as("no selected process: no namespace").isZero();
      // This JVM's listener, at least, was looked at and left out.
      assertThat(snap.filteredTotal()).isPositive();
    }
  }

  private static List<RecordingSink.Recorded> take(GadgetInstance snap) {
    RecordingSink sink = new RecordingSink();
    snap.snapshots().orElseThrow().take(sink);
    return sink.events();
  }

  /** The one row of that local endpoint and state (and remote endpoint, when given). */
  private static RecordingSink.Recorded one(
      List<RecordingSink.Recorded> rows, String src, String state, String... dst) {
    Predicate<RecordingSink.Recorded> match =
        r ->
            r.text("src").equals(src)
                && r.text("state").equals(state)
                && (dst.length == 0 || r.text("dst").equals(dst[0]));
    List<RecordingSink.Recorded> found = rows.stream().filter(match).toList();
    assertThat(found).as(src + " " + state + " " + String.join("", dst)).hasSize(1);
    return found.get(0);
  }

  private static void assertOwnedByThisJvm(RecordingSink.Recorded row) throws IOException {
    assertThat(row.value("pid")).isEqualTo(SELF);
    assertThat(row.text("comm")).isEqualTo("java");
    assertThat(row.value("mntns_id")).isEqualTo(namespace(SELF, "mnt"));
    assertThat(row.value("netns_id")).isEqualTo(namespace(SELF, "net"));
    assertThat((Long) row.value("inode")).isPositive();
    assertThat(row.value("uid")).isEqualTo(0L);
  }

  private static int port(java.net.SocketAddress a) {
    return ((InetSocketAddress) a).getPort();
  }

  private static long namespace(long pid, String kind) throws IOException {
    String link = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + kind)).toString();
    return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
  }

  private static InetAddress loopback6() {
    try {
      return Inet6Address.getByName("::1");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
