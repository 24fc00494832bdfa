package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.export.Telemetry;
import io.gadgetexporter.gadget.dns.DnsWire;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * trace_dns in the real kernel: DNS exchanges between a client and a responder on the loopback of
 * a network namespace of their own, standing for a container; the host's namespace; malformed
 * messages; and a selector that leaves the namespace out.
 */
class TraceDnsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  /** dns_queries' size in the program. */
  private static final int QUERIES_IN_FLIGHT = 8192;

  private DnsPeerProcess peer;
  private ContainerCollection containers;
  private long netns;

  @BeforeEach
  void startPeer() throws Exception {
    peer = new DnsPeerProcess();
    netns = peer.netnsId();
    containers = new ContainerCollection(0, System::nanoTime);
    containers.add(peer.container());
  }

  @AfterEach
  void stopPeer() throws Exception {
    peer.close();
  }

  private GadgetInstance tracingThePeer(RecordingSink sink) {
    return GadgetTesting.instance(
        "trace_dns", "    selector:\n      containers: [" + peer.namespace + "]\n", sink, "",
        containers);
  }

  @Test
  void aQueryAndItsResponseWithTheProcessLatencyAndAnswers() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance dns = tracingThePeer(sink)) {
      dns.start();
      assertThat(dns.tracedNetworkNamespaces()).containsExactly(netns);

      int client = peer.query("127.0.0.1", 0x1234, "example.test", DnsWire.A);

      RecordingSink.Recorded q = sink.await(e -> is(e, "query", 0x1234), WAIT);
      assertThat(q.text("name")).isEqualTo("example.test");
      assertThat(q.text("qtype")).isEqualTo("A");
      assertThat(q.text("rcode")).isEmpty();
      assertThat(q.value("answers")).isEqualTo(List.of());
      assertThat(q.text("src")).isEqualTo("127.0.0.1:" + client);
      assertThat(q.text("dst")).isEqualTo("127.0.0.1:53");
      assertThat(q.value("latency_ns")).isEqualTo(0L);
      // Sent by the peer, from the peer's namespaces: the process is known.
      assertThat(q.value("pid")).isEqualTo(peer.pid());
      assertThat(q.text("comm")).isNotEmpty();
      assertThat(q.value("mntns_id")).isEqualTo(peer.mntnsId());
      assertThat(q.value("netns_id")).isEqualTo(netns);
      assertThat((Long) q.value("payload_len")).isEqualTo(30L); // 12 + 14 (name) + 4
      assertThat(q.value("payload_size")).isEqualTo(q.value("payload_len"));

      RecordingSink.Recorded r = sink.await(e -> is(e, "response", 0x1234), WAIT);
      assertThat(r.text("name")).isEqualTo("example.test");
      assertThat(r.text("rcode")).isEqualTo("NOERROR");
      assertThat(r.value("answers")).isEqualTo(List.of("10.1.2.3", "10.1.2.4"));
      assertThat(r.value("num_answers")).isEqualTo(2L);
      assertThat(r.text("src")).isEqualTo("127.0.0.1:53");
      assertThat(r.text("dst")).isEqualTo("127.0.0.1:" + client);
      assertThat((Long) r.value("latency_ns")).isPositive().isLessThan(WAIT.toNanos());
      assertThat(r.value("pid")).isEqualTo(peer.pid()); // the query's process
      assertThat(r.value("netns_id")).isEqualTo(netns);
      assertThat(dns.malformedTotal()).isZero();
      assertThat(dns.lostTotal()).isZero();

      // The container goes: so does the socket in its namespace.
      containers.remove(peer.namespace);
      assertThat(dns.tracedNetworkNamespaces()).isEmpty();
    }
  }

  @Test
  void ipv6AndAaaaAnswers() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance dns = tracingThePeer(sink)) {
      dns.start();
      int client = peer.query("::1", 77, "v6.example.test", DnsWire.AAAA);

      RecordingSink.Recorded r = sink.await(e -> is(e, "response", 77), WAIT);
      assertThat(r.text("qtype")).isEqualTo("AAAA");
      assertThat(r.value("answers")).isEqualTo(List.of("fd00::1"));
      assertThat(r.text("src")).isEqualTo("[::1]:53");
      assertThat(r.text("dst")).isEqualTo("[::1]:" + client);
      assertThat((Long) r.value("latency_ns")).isPositive();
      assertThat(r.value("pid")).isEqualTo(peer.pid());
    }
  }

  @Test
  void nxdomain() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance dns = tracingThePeer(sink)) {
      dns.start();
      peer.query("127.0.0.1", 99, "nx.example.test", DnsWire.A);

      RecordingSink.Recorded r = sink.await(e -> is(e, "response", 99), WAIT);
      assertThat(r.text("rcode")).isEqualTo("NXDOMAIN");
      assertThat(r.value("answers")).isEqualTo(List.of());
      assertThat(r.value("num_answers")).isEqualTo(0L);
      assertThat((Long) r.value("latency_ns")).isPositive();
    }
  }

  @Test
  void malformedMessagesAreCountedAndSkippedAndAGoodOneAfterThemIsDecoded() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance dns = tracingThePeer(sink)) {
      dns.start();
      HexFormat hex = HexFormat.of();
      List<String> malformed =
          List.of(
              "0102030405", // shorter than a header
              "000100000001000000000000c00c00010001", // a name pointing at itself
              "0001000000010000000000002861626364", // a label running past the end
              hex.formatHex("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes())); // garbage
      for (String m : malformed) {
        assertThat(peer.command("raw 127.0.0.1 " + m)).startsWith("sent ");
      }
      peer.query("127.0.0.1", 4242, "after.example.test", DnsWire.A);

      RecordingSink.Recorded r = sink.await(e -> is(e, "response", 4242), WAIT);
      assertThat(r.text("name")).isEqualTo("after.example.test");
      // The drain keeps the ring's order: the four came in the same batch or an earlier one (the
      // counter is written once the batch is through).
      awaitAtLeast(dns::malformedTotal, 4);
      assertThat(dns.malformedTotal()).isEqualTo(4);
      assertThat(sink.events())
          .extracting(e -> e.text("name"))
          .containsOnly("after.example.test");
    }
  }

  @Test
  void aFullQueryMapIsCountedAsIncompleteNotLostAndExported() throws Exception {
    GadgetInstance dns = tracingThePeer(new RecordingSink());
    try (dns;
        Telemetry telemetry =
            new Telemetry(
                ConfigLoader.parse("gadgets:\n  - gadget: trace_dns\n", "t.yaml", Map.of()),
                "test",
                () -> List.of(dns),
                null)) {
      dns.start();
      // 127.0.0.2 has no responder: every query stays in flight, well within the timeout (10 s).
      assertThat(peer.command("flood 127.0.0.2 " + (QUERIES_IN_FLIGHT + 50))).startsWith("sent ");
      awaitAtLeast(dns::incompleteTotal, 50);
      assertThat(dns.incompleteTotal()).isEqualTo(50);
      awaitAtLeast(dns::eventsTotal, QUERIES_IN_FLIGHT + 50); // each is an event all the same
      assertThat(dns.lostTotal()).isZero();
      String scrape = new String(telemetry.scrape("text/plain").body(), StandardCharsets.UTF_8);
      assertThat(scrape)
          .containsPattern(
              "gadget_events_incomplete_total\\{[^}]*instance=\"test-trace-dns\"[^}]*} 50\\b")
          .containsPattern(
              "gadget_events_lost_total\\{[^}]*instance=\"test-trace-dns\"[^}]*} 0\\b");
    }
    assertThat(dns.incompleteTotal()).as("kept once the map is gone").isEqualTo(50);
  }

  @Test
  void aFullQueryMapIsSweptOfQueriesPastTheTimeout() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance dns =
        GadgetTesting.instance(
            "trace_dns",
            "    selector:\n      containers: [" + peer.namespace + "]\n"
                + "    params:\n      query_timeout: 100ms\n",
            sink,
            "",
            containers)) {
      dns.start();
      assertThat(peer.command("flood 127.0.0.2 " + QUERIES_IN_FLIGHT)).startsWith("sent ");
      awaitAtLeast(dns::eventsTotal, QUERIES_IN_FLIGHT);
      // Exactly as many as fit: the map is full, and no insert failed, so none was swept yet.
      assertThat(queriesInFlight(dns)).isEqualTo(QUERIES_IN_FLIGHT);
      assertThat(dns.incompleteTotal()).isZero();

      // Past the timeout and the sweep interval (1 s) every entry is stale: new queries find the
      // map full, sweep it once, and all fit.
      Thread.sleep(1_200);
      assertThat(peer.command("flood 127.0.0.2 100")).startsWith("sent ");
      peer.query("127.0.0.1", 0x7777, "after.flood.test", DnsWire.A);
      RecordingSink.Recorded r = sink.await(e -> is(e, "response", 0x7777), WAIT);
      assertThat((Long) r.value("latency_ns")).isPositive();
      assertThat(dns.incompleteTotal()).isZero();
      assertThat(dns.lostTotal()).isZero();
    }
  }

  @Test
  void aSelectorLeavingTheNamespaceOutOpensNoSocketThereUntilItNamesIt() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance dns =
        GadgetTesting.instance(
            "trace_dns", "    selector:\n      containers: [no-such-container]\n", sink, "",
            containers)) {
      dns.start();
      assertThat(dns.tracedNetworkNamespaces()).isEmpty();
      long before = dns.filteredTotal();

      peer.query("127.0.0.1", 5, "unseen.example.test", DnsWire.A);

      // The sending program saw the query and dropped it for the process's mount namespace.
      awaitAtLeast(dns::filteredTotal, before + 1);

      // The selector now names the container: its namespace gets a socket at once.
      dns.updateSelector(
          io.gadgetexporter.config.ConfigLoader.parse(
                  "gadgets:\n  - gadget: trace_dns\n    selector:\n      containers: ["
                      + peer.namespace + "]\n",
                  "s.yaml",
                  java.util.Map.of())
              .gadgets()
              .get(0)
              .selector());
      assertThat(dns.tracedNetworkNamespaces()).containsExactly(netns);
      peer.query("127.0.0.1", 6, "seen.example.test", DnsWire.A);
      assertThat(sink.await(e -> is(e, "response", 6), WAIT).value("pid")).isEqualTo(peer.pid());
      // The ring keeps its order: had the first exchange got through, its events would have
      // been delivered before these.
      assertThat(sink.events())
          .extracting(e -> e.text("name"))
          .containsOnly("seen.example.test");
    }
  }

  @Test
  void theHostNamespaceWithoutContainerDiscoveryOnAnotherPort() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (DatagramSocket server = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        DatagramSocket client = new DatagramSocket()) {
      int port = server.getLocalPort();
      Thread responder = new Thread(() -> answerOnce(server), "dns-responder");
      responder.start();
      try (GadgetInstance dns =
          GadgetTesting.instance("trace_dns", "    params:\n      port: " + port + "\n", sink)) {
        dns.start();
        long ownNetns = inode("/proc/self/ns/net");
        assertThat(dns.tracedNetworkNamespaces()).containsExactly(ownNetns);

        byte[] query = DnsWire.query(0x4343, "host.example.test", DnsWire.A);
        client.send(
            new DatagramPacket(query, query.length, InetAddress.getByName("127.0.0.1"), port));
        client.setSoTimeout((int) WAIT.toMillis());
        client.receive(new DatagramPacket(new byte[512], 512));

        RecordingSink.Recorded q = sink.await(e -> is(e, "query", 0x4343), WAIT);
        assertThat(q.value("pid")).isEqualTo(ProcessHandle.current().pid());
        assertThat(q.value("mntns_id")).isEqualTo(inode("/proc/self/ns/mnt"));
        assertThat(q.text("dst")).isEqualTo("127.0.0.1:" + port);
        assertThat(q.value("netns_id")).isEqualTo(ownNetns);
        RecordingSink.Recorded r = sink.await(e -> is(e, "response", 0x4343), WAIT);
        assertThat(r.value("answers")).isEqualTo(List.of("10.9.8.7"));
        assertThat((Long) r.value("latency_ns")).isPositive();
        assertThat(r.value("pid")).isEqualTo(ProcessHandle.current().pid());
      }
      responder.join(WAIT.toMillis());
    }
  }

  private static void answerOnce(DatagramSocket server) {
    try {
      byte[] buf = new byte[512];
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      server.setSoTimeout((int) WAIT.toMillis());
      server.receive(p);
      byte[] response =
          DnsWire.response(
              java.util.Arrays.copyOf(buf, p.getLength()), 0, List.of(new byte[] {10, 9, 8, 7}));
      server.send(new DatagramPacket(response, response.length, p.getSocketAddress()));
    } catch (java.io.IOException e) {
      // the test's receive() times out and says so
    }
  }

  private static long queriesInFlight(GadgetInstance dns) {
    return dns.mapUsage().stream()
        .filter(m -> m.name().equals("dns_queries"))
        .findFirst()
        .orElseThrow()
        .entries();
  }

  /** Waits until the counter reaches {@code count}; fails with its value if it does not in time. */
  private static void awaitAtLeast(java.util.function.LongSupplier counter, long count)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (counter.getAsLong() < count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(counter.getAsLong()).isGreaterThanOrEqualTo(count);
  }

  private boolean is(RecordingSink.Recorded e, String qr, int id) {
    return qr.equals(e.value("qr")) && Long.valueOf(id).equals(e.value("id"));
  }

  private static long inode(String nsLink) throws Exception {
    return Long.parseLong(Files.readSymbolicLink(Path.of(nsLink)).toString().replaceAll("\\D", ""));
  }
}
