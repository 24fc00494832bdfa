package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.bpf.Btf;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * trace_tcpdrop in the real kernel: packets dropped by a netfilter rule in a private network
 * namespace, and a SYN to a closed port on this machine's loopback.
 */
class TraceTcpdropTest {
  private static final Duration WAIT = Duration.ofSeconds(15);

  /**
   * Dropped arriving, before the socket lookup: no socket (loopback keeps the sender's route on
   * the packet, so early demux, which could attach the receiving socket, is skipped), so no
   * process; the namespace is the device's.
   */
  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1"})
  void netfilterDropOnInputGivesTheReasonAndThePacket(String address) throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance drop = GadgetTesting.instance("trace_tcpdrop", "", sink)) {
      drop.start();
      try (NetnsPeer peer = NetnsPeer.start(address)) {
        peer.dropToServerPort("input");
        peer.send();
        RecordingSink.Recorded e = sink.awaitClientToServer(peer, WAIT);
        assertThat(e.text("reason")).isEqualTo("NETFILTER_DROP");
        assertThat(e.value("reason")).isEqualTo(kernelValue("SKB_DROP_REASON_NETFILTER_DROP"));
        assertThat(e.text("tcpflags")).isEqualTo("PSH|ACK");
        assertThat(e.value("netns_id")).isEqualTo(peer.netnsId());
        assertThat(e.text("state")).isEmpty();
        assertThat(e.value("pid")).isEqualTo(0L);
        assertThat(e.value("mntns_id")).isEqualTo(0L);
      }
    }
  }

  /** Dropped leaving: the packet carries the client's socket, so its state and owner. */
  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1"})
  void netfilterDropOnOutputGivesTheSocketAndItsOwner(String address) throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance drop = GadgetTesting.instance("trace_tcpdrop", "", sink)) {
      drop.start();
      try (NetnsPeer peer = NetnsPeer.start(address)) {
        peer.dropToServerPort("output");
        peer.send();
        RecordingSink.Recorded e = sink.awaitClientToServer(peer, WAIT);
        assertThat(e.text("reason")).isEqualTo("NETFILTER_DROP");
        assertThat(e.text("tcpflags")).isEqualTo("PSH|ACK");
        assertThat(e.text("state")).isEqualTo("ESTABLISHED");
        assertThat(e.value("pid")).isEqualTo(peer.pid());
        assertThat(e.text("comm")).isEqualTo("java");
        assertThat(e.value("netns_id")).isEqualTo(peer.netnsId());
        assertThat(e.value("mntns_id")).isEqualTo(TraceTcpTest.namespace("mnt"));
      }
    }
  }

  /** A SYN to a closed port: dropped without a socket, so without a process. */
  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1"})
  void synToAClosedPortIsDroppedForNoSocket(String address) throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance drop = GadgetTesting.instance("trace_tcpdrop", "", sink)) {
      drop.start();
      String client = refusedConnect(address);

      RecordingSink.Recorded e =
          sink.await(r -> client.equals(r.text("src")) && "SYN".equals(r.text("tcpflags")), WAIT);
      assertThat(e.text("reason")).isEqualTo("NO_SOCKET");
      assertThat(e.value("state")).isEqualTo(0L);
      assertThat(e.text("state")).isEmpty();
      assertThat(e.value("pid")).isEqualTo(0L);
      assertThat(e.value("mntns_id")).isEqualTo(0L);
      assertThat(e.value("netns_id")).as("lo's").isEqualTo(TraceTcpTest.namespace("net"));
    }
  }

  @Test
  void mountNamespaceFilterDropsUnselectedAndOwnerlessPackets() throws Exception {
    RecordingSink seen = new RecordingSink();
    RecordingSink sink = new RecordingSink();
    // The same gadget without selector, on the same hook, tells when the drops (in softirqs, or
    // of retransmissions from a timer) have happened, and how many.
    GadgetInstance everything = GadgetTesting.instance("trace_tcpdrop", "", seen);
    GadgetInstance drop = FilterTesting.nothingSelected("trace_tcpdrop", "", sink);
    try (everything;
        drop) {
      everything.start();
      drop.start();
      long filteredBefore = drop.filteredTotal();
      String client = refusedConnect("127.0.0.1");
      try (NetnsPeer peer = NetnsPeer.start("127.0.0.1")) {
        peer.dropToServerPort("output");
        peer.send();
        String server = peer.serverEndpoint();
        // The SYN (no owner: mntns 0) and at least one data packet (an owner not selected).
        seen.await(r -> client.equals(r.text("src")), WAIT);
        seen.await(r -> server.equals(r.text("dst")), WAIT);
        long drops =
            seen.events().stream()
                .filter(r -> client.equals(r.text("src")) || server.equals(r.text("dst")))
                .count();

        FilterTesting.awaitFiltered(drop, filteredBefore + drops, WAIT);
        FilterTesting.closeDrained(drop, WAIT);
        assertThat(sink.events()).as("nothing selected, the SYN and the peer's packets included")
            .isEmpty();
      }
    }
  }

  /** Connects from a known port to a port nobody listens on; the client's endpoint. */
  private static String refusedConnect(String address) throws Exception {
    InetAddress ip = InetAddress.getByName(address);
    StandardProtocolFamily family =
        address.contains(":") ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
    int closedPort;
    try (ServerSocketChannel s = ServerSocketChannel.open(family)) {
      s.bind(new InetSocketAddress(ip, 0));
      closedPort = ((InetSocketAddress) s.getLocalAddress()).getPort();
    }
    SocketChannel c = SocketChannel.open(family);
    c.bind(new InetSocketAddress(ip, 0));
    int clientPort = ((InetSocketAddress) c.getLocalAddress()).getPort();
    assertThatThrownBy(() -> c.connect(new InetSocketAddress(ip, closedPort)))
        .isInstanceOf(ConnectException.class);
    c.close();
    return NetnsPeer.endpoint(address, clientPort);
  }

  private static long kernelValue(String name) {
    try (Btf kernel = Btf.vmlinux()) {
      Map<Long, String> reasons = kernel.enumValues("skb_drop_reason").orElseThrow();
      return reasons.entrySet().stream()
          .filter(e -> e.getValue().equals(name))
          .findFirst()
          .orElseThrow()
          .getKey();
    }
  }
}
