package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * trace_tcpretrans in the real kernel: a connection in a private network namespace whose server
 * port a netfilter rule cuts off after it was established, so the client retransmits.
 */
class TraceTcpretransTest {
  private static final Duration WAIT = Duration.ofSeconds(15);

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1"})
  void dataDroppedOnTheWayIsRetransmittedByTheConnectingProcess(String address) throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance retrans = GadgetTesting.instance("trace_tcpretrans", "", sink)) {
      retrans.start();
      try (NetnsPeer peer = NetnsPeer.start(address)) {
        peer.dropToServerPort("input");
        peer.send();
        // Retransmitted from the RTO timer (softirq): the process is the socket's owner.
        RecordingSink.Recorded e = sink.awaitClientToServer(peer, WAIT);
        assertThat(e.value("pid")).isEqualTo(peer.pid());
        assertThat(e.text("comm")).isEqualTo("java");
        assertThat(e.value("netns_id")).isEqualTo(peer.netnsId());
        assertThat(e.value("mntns_id")).isEqualTo(TraceTcpTest.namespace("mnt"));
        assertThat(e.text("state")).isEqualTo("ESTABLISHED");
        assertThat(e.value("state")).isEqualTo(1L);
        assertThat(e.text("tcpflags")).isEqualTo("PSH|ACK");
        assertThat(e.value("tcpflags")).isEqualTo(0x18L);
        // The peer's sockets are Java's default, dual-stack: AF_INET6 even for 127.0.0.1.
        assertThat(e.text("family")).isEqualTo("AF_INET6");
      }
    }
  }

  @Test
  void mountNamespaceFilterDropsRetransmissionsOfUnselectedOwners() throws Exception {
    RecordingSink seen = new RecordingSink();
    RecordingSink sink = new RecordingSink();
    // The same gadget without selector, on the same hook, tells when retransmissions (from the
    // RTO timer, long after send returned) have come, and how many.
    GadgetInstance everything = GadgetTesting.instance("trace_tcpretrans", "", seen);
    GadgetInstance retrans = FilterTesting.nothingSelected("trace_tcpretrans", "", sink);
    try (everything;
        retrans) {
      everything.start();
      retrans.start();
      long filteredBefore = retrans.filteredTotal();
      try (NetnsPeer peer = NetnsPeer.start("127.0.0.1")) {
        peer.dropToServerPort("input");
        peer.send();
        String server = peer.serverEndpoint();
        Predicate<RecordingSink.Recorded> ours = r -> server.equals(r.text("dst"));
        seen.await(ours, WAIT);
        long retransmissions = seen.events().stream().filter(ours).count();

        FilterTesting.awaitFiltered(retrans, filteredBefore + retransmissions, WAIT);
        FilterTesting.closeDrained(retrans, WAIT);
        assertThat(sink.events()).as("nothing selected, the peer's retransmissions included")
            .isEmpty();
      }
    }
  }
}
