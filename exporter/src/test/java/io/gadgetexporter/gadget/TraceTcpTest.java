package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** trace_tcp in the real kernel: connections of this JVM on loopback, IPv4 and IPv6. */
class TraceTcpTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final long PID = ProcessHandle.current().pid();

  /** How the sockets are opened, and what the gadget should make of them. */
  enum Loopback {
    IPV4(StandardProtocolFamily.INET, "127.0.0.1", "AF_INET"),
    IPV6(StandardProtocolFamily.INET6, "::1", "AF_INET6"),
    /** Java's default: an AF_INET6 socket talking IPv4 (::ffff:127.0.0.1): IPv4 on the wire. */
    DUAL_STACK(null, "127.0.0.1", "AF_INET6");

    final ProtocolFamily family;
    final String address;
    final String socketFamily;

    Loopback(ProtocolFamily family, String address, String socketFamily) {
      this.family = family;
      this.address = address;
      this.socketFamily = socketFamily;
    }

    ServerSocketChannel server() throws IOException {
      ServerSocketChannel s =
          family == null ? ServerSocketChannel.open() : ServerSocketChannel.open(family);
      return s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
    }

    SocketChannel client() throws IOException {
      return family == null ? SocketChannel.open() : SocketChannel.open(family);
    }

    String endpoint(int port) {
      return NetnsPeer.endpoint(address, port);
    }
  }

  @ParameterizedTest
  @EnumSource(Loopback.class)
  void connectAcceptAndCloseWithBothEndsAndTheProcess(Loopback lo) throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance tcp = GadgetTesting.instance("trace_tcp", "", sink)) {
      tcp.start();
      Instant before = Instant.now().minusSeconds(1);
      int serverPort;
      int clientPort;
      try (ServerSocketChannel server = lo.server()) {
        serverPort = ((InetSocketAddress) server.getLocalAddress()).getPort();
        SocketChannel client = lo.client();
        client.connect(server.getLocalAddress());
        clientPort = ((InetSocketAddress) client.getLocalAddress()).getPort();
        SocketChannel accepted = server.accept();
        // The client closes first; the server closes once it has read the end of the stream.
        client.close();
        assertThat(accepted.read(ByteBuffer.allocate(1))).isEqualTo(-1);
        accepted.close();
      }
      String serverEnd = lo.endpoint(serverPort);
      String clientEnd = lo.endpoint(clientPort);

      RecordingSink.Recorded connect =
          sink.await(r -> is(r, "connect", clientEnd, serverEnd), WAIT);
      assertThat(connect.value("pid")).isEqualTo(PID);
      assertThat(connect.value("error")).isEqualTo(0L);
      assertThat(connect.text("error")).isEmpty();
      assertThat(connect.text("state")).isEqualTo("SYN_SENT");
      assertThat(connect.text("family")).isEqualTo(lo.socketFamily);
      assertThat(connect.text("comm")).isNotEmpty();
      assertThat(connect.value("mntns_id")).isEqualTo(namespace("mnt"));
      assertThat(connect.value("netns_id")).isEqualTo(namespace("net"));
      assertThat(tcp.schema().netnsField().name()).isEqualTo("netns_id");
      assertThat((Instant) connect.value("timestamp")).isBetween(before, Instant.now());

      // The accepting process is this JVM, whatever task ran the handshake's softirq.
      RecordingSink.Recorded accept = sink.await(r -> is(r, "accept", serverEnd, clientEnd), WAIT);
      assertThat(accept.value("pid")).isEqualTo(PID);
      assertThat(accept.text("state")).isIn("ESTABLISHED", "CLOSE_WAIT");
      assertThat(accept.value("mntns_id")).isEqualTo(namespace("mnt"));

      // Both closes, in softirq context, attributed to the process that closed.
      RecordingSink.Recorded clientClose =
          sink.await(r -> is(r, "close", clientEnd, serverEnd), WAIT);
      assertThat(clientClose.value("pid")).isEqualTo(PID);
      assertThat(clientClose.text("state")).as("closed first").isIn("FIN_WAIT2", "CLOSING");
      RecordingSink.Recorded serverClose =
          sink.await(r -> is(r, "close", serverEnd, clientEnd), WAIT);
      assertThat(serverClose.value("pid")).isEqualTo(PID);
      assertThat(serverClose.text("state")).as("the peer closed first").isEqualTo("LAST_ACK");
      assertThat(serverClose.value("netns_id")).isEqualTo(namespace("net"));
    }
  }

  /**
   * Another process connects: on loopback the handshake, the server side's included, runs in the
   * softirq of the connecting process. The accept is still this JVM's, the connect the other's.
   */
  @ParameterizedTest
  @EnumSource(value = Loopback.class, names = {"IPV4", "IPV6"})
  void acceptIsTheAcceptingProcesssAndConnectTheConnectingOnes(Loopback lo) throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance tcp = GadgetTesting.instance("trace_tcp", "", sink);
        ServerSocketChannel server = lo.server()) {
      tcp.start();
      int serverPort = ((InetSocketAddress) server.getLocalAddress()).getPort();
      // bash connects (its /dev/tcp), then waits for its standard input to close.
      Process client =
          new ProcessBuilder(
                  "bash", "-c", "exec 3<>/dev/tcp/" + lo.address + "/" + serverPort + " && cat")
              .redirectErrorStream(true)
              .start();
      String serverEnd = lo.endpoint(serverPort);
      try (SocketChannel accepted = server.accept()) {
        String clientEnd = lo.endpoint(((InetSocketAddress) accepted.getRemoteAddress()).getPort());
        client.getOutputStream().close();
        assertThat(client.waitFor()).isZero();
        assertThat(accepted.read(ByteBuffer.allocate(1))).isEqualTo(-1);
        accepted.close();

        RecordingSink.Recorded connect =
            sink.await(r -> is(r, "connect", clientEnd, serverEnd), WAIT);
        assertThat(connect.value("pid")).isEqualTo(client.pid());
        assertThat(connect.text("comm")).isEqualTo("bash");
        RecordingSink.Recorded accept =
            sink.await(r -> is(r, "accept", serverEnd, clientEnd), WAIT);
        assertThat(accept.value("pid")).isEqualTo(PID);
        assertThat(sink.await(r -> is(r, "close", clientEnd, serverEnd), WAIT).value("pid"))
            .isEqualTo(client.pid());
        assertThat(sink.await(r -> is(r, "close", serverEnd, clientEnd), WAIT).value("pid"))
            .isEqualTo(PID);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = Loopback.class, names = {"IPV4", "IPV6"})
  void refusedConnectGivesTheError(Loopback lo) throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance tcp = GadgetTesting.instance("trace_tcp", "", sink)) {
      tcp.start();
      int closedPort;
      try (ServerSocketChannel s = lo.server()) {
        closedPort = ((InetSocketAddress) s.getLocalAddress()).getPort();
      }
      SocketChannel client = lo.client();
      InetSocketAddress closed =
          new InetSocketAddress(InetAddress.getByName(lo.address), closedPort);
      assertThatThrownBy(() -> client.connect(closed)).isInstanceOf(ConnectException.class);
      client.close();

      String dst = lo.endpoint(closedPort);
      RecordingSink.Recorded e =
          sink.await(r -> "connect".equals(r.value("type")) && dst.equals(r.text("dst")), WAIT);
      assertThat(e.value("error")).isEqualTo(111L);
      assertThat(e.text("error")).isEqualTo("ECONNREFUSED");
      assertThat(e.value("pid")).isEqualTo(PID);
      assertThat(e.text("src")).startsWith(NetnsPeer.host(lo.address) + ":");
      assertThat(e.text("state")).isEqualTo("SYN_SENT");
      // A refused connect is no established connection: no close follows it.
      assertThat(sink.events())
          .noneMatch(r -> "close".equals(r.value("type")) && dst.equals(r.text("dst")));
    }
  }

  @Test
  void failedOnlyLeavesOutWorkingConnections() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance tcp =
        GadgetTesting.instance("trace_tcp", "    params:\n      failed_only: true\n", sink)) {
      tcp.start();
      int goodPort;
      try (ServerSocketChannel server = Loopback.IPV4.server();
          SocketChannel client = Loopback.IPV4.client()) {
        goodPort = ((InetSocketAddress) server.getLocalAddress()).getPort();
        client.connect(server.getLocalAddress());
        server.accept().close();
      }
      // The port is closed now: a connect to it fails, and is the one event.
      SocketChannel refused = Loopback.IPV4.client();
      assertThatThrownBy(() -> refused.connect(new InetSocketAddress("127.0.0.1", goodPort)))
          .isInstanceOf(ConnectException.class);
      refused.close();
      String dst = Loopback.IPV4.endpoint(goodPort);
      sink.await(r -> dst.equals(r.text("dst")) && "ECONNREFUSED".equals(r.text("error")), WAIT);
      assertThat(sink.events())
          .filteredOn(r -> dst.equals(r.text("dst")) || dst.equals(r.text("src")))
          .allMatch(r -> "connect".equals(r.value("type")) && (Long) r.value("error") != 0)
          .hasSize(1);
    }
  }

  @Test
  void mountNamespaceFilterDropsUnselectedConnectionsInTheKernel() throws Exception {
    RecordingSink seen = new RecordingSink();
    RecordingSink sink = new RecordingSink();
    // The same gadget without selector, on the same hooks, tells when the connection's events
    // have passed them: the closes come from softirqs, after the calls returned.
    GadgetInstance everything = GadgetTesting.instance("trace_tcp", "", seen);
    GadgetInstance tcp = FilterTesting.nothingSelected("trace_tcp", "", sink);
    try (everything;
        tcp) {
      everything.start();
      tcp.start();
      long filteredBefore = tcp.filteredTotal();
      int serverPort;
      int clientPort;
      try (ServerSocketChannel server = Loopback.IPV4.server()) {
        serverPort = ((InetSocketAddress) server.getLocalAddress()).getPort();
        SocketChannel client = Loopback.IPV4.client();
        client.connect(server.getLocalAddress());
        clientPort = ((InetSocketAddress) client.getLocalAddress()).getPort();
        SocketChannel accepted = server.accept();
        client.close();
        assertThat(accepted.read(ByteBuffer.allocate(1))).isEqualTo(-1);
        accepted.close();
      }
      String serverEnd = Loopback.IPV4.endpoint(serverPort);
      String clientEnd = Loopback.IPV4.endpoint(clientPort);
      seen.await(r -> is(r, "connect", clientEnd, serverEnd), WAIT);
      seen.await(r -> is(r, "accept", serverEnd, clientEnd), WAIT);
      seen.await(r -> is(r, "close", clientEnd, serverEnd), WAIT);
      seen.await(r -> is(r, "close", serverEnd, clientEnd), WAIT);

      // Those four were dropped in the kernel, none delivered.
      FilterTesting.awaitFiltered(tcp, filteredBefore + 4, WAIT);
      FilterTesting.closeDrained(tcp, WAIT);
      assertThat(sink.events()).as("nothing selected, this connection's events included").isEmpty();
    }
  }

  private static boolean is(RecordingSink.Recorded r, String type, String src, String dst) {
    return type.equals(r.value("type")) && src.equals(r.text("src")) && dst.equals(r.text("dst"));
  }

  /** This process's namespace id of a kind ({@code mnt}, {@code net}). */
  static long namespace(String kind) throws IOException {
    String link = Files.readSymbolicLink(Path.of("/proc/self/ns/" + kind)).toString();
    return Long.parseLong(link.replaceAll("\\D", ""));
  }
}
