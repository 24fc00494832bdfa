package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
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

  /** A field summed over this JVM's rows from {@code src} to {@code dst} (address:port). */
  private static long sum(List<RecordingSink.Recorded> rows, String field, String src, String dst) {
    return rows.stream()
        .filter(r -> r.value("pid").equals(PID))
        .filter(r -> r.value("src").equals(src) && r.value("dst").equals(dst))
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
    for (Object[] c : new Object[][] {{v4, "127.0.0.1:%d"}, {v6, "[::1]:%d"}}) {
      Ends e = (Ends) c[0];
      String client = String.format((String) c[1], e.clientPort());
      String server = String.format((String) c[1], e.serverPort());
      assertThat(sum(rows, "sent", client, server)).isEqualTo(UP);
      assertThat(sum(rows, "received", client, server)).isEqualTo(DOWN);
      assertThat(sum(rows, "received", server, client)).isEqualTo(UP);
      assertThat(sum(rows, "sent", server, client)).isEqualTo(DOWN);
    }
    RecordingSink.Recorded row =
        rows.stream()
            .filter(r -> r.value("src").equals("127.0.0.1:" + v4.clientPort()))
            .findFirst()
            .orElseThrow();
    // The JVM's socket is AF_INET6 even for IPv4; the endpoints are the IPv4 ones on the wire.
    assertThat(row.text("family")).isEqualTo("AF_INET6");
    assertThat(row.text("comm")).isNotEmpty();
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
      long before = top.filteredTotal();
      exchange(InetAddress.getByName("127.0.0.1"));
      // Four calls at least: a send and a receive at each end.
      FilterTesting.awaitFiltered(top, before + 4, WAIT);
    } // close reads the map once more: the exchange's calls are all in that read or an earlier one
    assertThat(sink.rows()).isEmpty();
  }
}
