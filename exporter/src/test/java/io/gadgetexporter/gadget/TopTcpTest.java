package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * top_tcp in the real kernel: a loopback connection in this JVM moves a known number of bytes each
 * way, and the rows of both its ends say exactly that, for IPv4 and IPv6. (The JVM makes IPv6
 * sockets even for IPv4: the gadget shows such a connection as the IPv4 one it is on the wire.)
 */
class TopTcpTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final long PID = ProcessHandle.current().pid();
  private static final int UP = 12_345;
  private static final int DOWN = 6_789;

  /** One connection's two ends: (client port, server port). */
  private record Ends(int clientPort, int serverPort) {}

  /** The client sends UP bytes, the server reads them all and answers DOWN bytes. */
  private static Ends exchange(InetAddress loopback) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, loopback);
        Socket client = new Socket()) {
      client.connect(new InetSocketAddress(loopback, server.getLocalPort()));
      try (Socket accepted = server.accept()) {
        OutputStream up = client.getOutputStream();
        up.write(new byte[UP]);
        up.flush();
        new DataInputStream(accepted.getInputStream()).readFully(new byte[UP]);
        accepted.getOutputStream().write(new byte[DOWN]);
        new DataInputStream(client.getInputStream()).readFully(new byte[DOWN]);
      }
      return new Ends(client.getLocalPort(), server.getLocalPort());
    }
  }

  private static long sum(
      List<RecordingSink.Recorded> rows, String field, int sport, int dport, long family) {
    return rows.stream()
        .filter(r -> r.value("pid").equals(PID))
        .filter(r -> r.value("sport").equals((long) sport) && r.value("dport").equals((long) dport))
        .filter(r -> r.value("family").equals(family))
        .mapToLong(r -> (Long) r.value(field))
        .sum();
  }

  @Test
  void bothEndsOfALoopbackConnectionCountItsBytesExactly() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance top =
        GadgetTesting.instance("top_tcp", "    params:\n      interval: 200ms\n", sink);
    Ends v4;
    Ends v6;
    try (top) {
      top.start();
      v4 = exchange(InetAddress.getByName("127.0.0.1"));
      v6 = exchange(InetAddress.getByName("::1"));
    } // close reads the map once more: every count is in
    List<RecordingSink.Recorded> rows = sink.rows();
    for (Object[] c : new Object[][] {{v4, 2L}, {v6, 10L}}) {
      Ends e = (Ends) c[0];
      long family = (Long) c[1];
      assertThat(sum(rows, "sent", e.clientPort(), e.serverPort(), family)).isEqualTo(UP);
      assertThat(sum(rows, "received", e.clientPort(), e.serverPort(), family)).isEqualTo(DOWN);
      assertThat(sum(rows, "received", e.serverPort(), e.clientPort(), family)).isEqualTo(UP);
      assertThat(sum(rows, "sent", e.serverPort(), e.clientPort(), family)).isEqualTo(DOWN);
    }
    RecordingSink.Recorded row =
        rows.stream()
            .filter(r -> r.value("sport").equals((long) v4.clientPort()))
            .findFirst()
            .orElseThrow();
    // Addresses: 16 bytes in network order, IPv4 in the first four.
    byte[] v4Bytes = Arrays.copyOf(InetAddress.getByName("127.0.0.1").getAddress(), 16);
    assertThat(row.value("saddr")).isEqualTo(HexFormat.of().formatHex(v4Bytes));
    assertThat(row.value("daddr")).isEqualTo(HexFormat.of().formatHex(v4Bytes));
    assertThat(row.text("comm")).isNotEmpty();
    RecordingSink.Recorded row6 =
        rows.stream()
            .filter(r -> r.value("sport").equals((long) v6.clientPort()))
            .findFirst()
            .orElseThrow();
    assertThat(row6.value("daddr"))
        .isEqualTo(HexFormat.of().formatHex(InetAddress.getByName("::1").getAddress()));
    assertThat(top.lostTotal()).isZero();
  }

  @Test
  void aSelectorThatSelectsNothingCountsNothing() throws Exception {
    RowBatchSink sink = new RowBatchSink();
    GadgetInstance top =
        GadgetTesting.instance(
            "top_tcp",
            "    params:\n      interval: 100ms\n"
                + "    selector:\n      containers: [no-such-container]\n",
            sink,
            "",
            new io.gadgetexporter.container.ContainerCollection(0, System::nanoTime));
    try (top) {
      top.start();
      exchange(InetAddress.getByName("127.0.0.1"));
      long deadline = System.nanoTime() + WAIT.toNanos();
      // Four calls at least: a send and a receive at each end.
      while (top.filteredTotal() < 4 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(top.filteredTotal()).isGreaterThanOrEqualTo(4);
    }
    assertThat(sink.rows()).isEmpty();
  }
}
