package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.container.Container;
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
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * trace_dns in the real kernel: DNS exchanges between a client and a responder on the loopback of
 * a network namespace of their own, standing for a container; the host's namespace; malformed
 * messages; a selector that leaves the namespace out, or that selects a container sharing the
 * host's namespace but not the host; messages of no known process; and a socket that could not be
 * opened at first.
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

  @Test
  void aContainerInTheHostsNamespaceIsTracedWithoutTheHostsOtherProcesses() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (DnsPeerProcess hostNet = DnsPeerProcess.inHostNetwork()) {
      containers.add(hostNet.container());
      try (GadgetInstance dns =
              GadgetTesting.instance(
                  "trace_dns",
                  "    selector:\n      containers: [" + hostNet.namespace + "]\n"
                      + "    params:\n      port: " + hostNet.port + "\n",
                  sink,
                  "",
                  containers);
          DatagramSocket client = new DatagramSocket()) {
        dns.start();
        long hostNetns = inode("/proc/self/ns/net");
        assertThat(hostNet.netnsId()).isEqualTo(hostNetns);
        // The host's namespace is traced for the container, but the host is not selected.
        assertThat(dns.socketFilters().orElseThrow().namespaces())
            .containsExactly(new SocketFilters.Namespace(hostNetns, false));

        // This JVM, a host process, asks the container's responder and gets its answer: the
        // process is known (the query's sender) and not selected, so neither message is kept.
        InetSocketAddress responder = new InetSocketAddress("127.0.0.1", hostNet.port);
        byte[] query = DnsWire.query(0x5252, "host.example.test", DnsWire.A);
        client.send(new DatagramPacket(query, query.length, responder));
        client.setSoTimeout((int) WAIT.toMillis());
        client.receive(new DatagramPacket(new byte[512], 512));
        // A response to no query: no process is known for it, and the namespace is not wholly
        // selected, so it is dropped too (the responder ignores it).
        byte[] lone =
            DnsWire.response(DnsWire.query(0x5353, "lone.example.test", DnsWire.A), 0, List.of());
        client.send(new DatagramPacket(lone, lone.length, responder));
        // Dropped in the sender's context, as each packet left: counted by now.
        assertThat(dns.filteredTotal()).isEqualTo(3);

        // The container's own exchange is kept, with its process.
        hostNet.query("127.0.0.1", 0x5151, "own.example.test", DnsWire.A);
        RecordingSink.Recorded q = sink.await(e -> is(e, "query", 0x5151), WAIT);
        assertThat(q.value("pid")).isEqualTo(hostNet.pid());
        assertThat(q.value("mntns_id")).isEqualTo(hostNet.mntnsId());
        assertThat(q.value("netns_id")).isEqualTo(hostNetns);
        RecordingSink.Recorded r = sink.await(e -> is(e, "response", 0x5151), WAIT);
        assertThat(r.value("pid")).isEqualTo(hostNet.pid());
        assertThat(r.value("answers")).isEqualTo(List.of("10.1.2.3", "10.1.2.4"));
        assertThat(sink.events()).extracting(e -> e.value("id")).containsOnly(0x5151L);
        assertThat(dns.filteredTotal()).isEqualTo(3);
      }
    }
  }

  @Test
  void aMessageOfNoKnownProcessIsKeptOnlyWhileEveryContainerInItsNamespaceIsSelected()
      throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance dns = tracingThePeer(sink)) {
      dns.start();
      assertThat(dns.socketFilters().orElseThrow().namespaces())
          .containsExactly(new SocketFilters.Namespace(netns, true));

      // A response to no query: no process is known for it (the sending program records
      // queries), but every container in the namespace is selected, so it is kept.
      sendLoneResponse(0x6001);
      RecordingSink.Recorded kept = sink.await(e -> is(e, "response", 0x6001), WAIT);
      assertThat(kept.value("pid")).isEqualTo(0L);
      assertThat(kept.value("mntns_id")).isEqualTo(0L);
      assertThat(kept.value("netns_id")).isEqualTo(netns);

      // A container the selector leaves out joins the namespace (a pod's sidecar): such a
      // message could be its, so it is dropped now; the selected process's are still kept.
      Container sidecar =
          new Container(
              Container.Kind.CONTAINER, "sidecar-" + peer.namespace, "sidecar", "test",
              (int) peer.pid(), 1, netns, 0, "/sidecar", Optional.empty(), Optional.empty(),
              Optional.empty(), false, Container.Source.RUNTIME_HOOK);
      containers.add(sidecar);
      assertThat(dns.socketFilters().orElseThrow().namespaces())
          .containsExactly(new SocketFilters.Namespace(netns, false));
      sendLoneResponse(0x6002);
      assertThat(dns.filteredTotal()).isEqualTo(1);
      peer.query("127.0.0.1", 0x6003, "selected.example.test", DnsWire.A);
      assertThat(sink.await(e -> is(e, "response", 0x6003), WAIT).value("pid"))
          .isEqualTo(peer.pid());

      // It goes: the namespace is wholly selected again.
      containers.remove(sidecar.id());
      assertThat(dns.socketFilters().orElseThrow().namespaces())
          .containsExactly(new SocketFilters.Namespace(netns, true));
      sendLoneResponse(0x6004);
      sink.await(e -> is(e, "response", 0x6004), WAIT);
      assertThat(sink.events()).extracting(e -> e.value("id")).doesNotContain(0x6002L);
      assertThat(dns.filteredTotal()).isEqualTo(1);
    }
  }

  @Test
  void aSocketThatCouldNotBeOpenedIsRetriedAndShownUntilItOpens() throws Exception {
    // The container's process is not in its network namespace yet: a shell that, given a line,
    // becomes (same pid) `ip netns exec` into the peer's namespace.
    Process late =
        new ProcessBuilder(
                "sh", "-c", "read go; exec ip netns exec " + peer.namespace + " sleep 600")
            .start();
    try {
      Container container =
          new Container(
              Container.Kind.CONTAINER, "late-" + peer.namespace, "late-" + peer.namespace, "test",
              (int) late.pid(), 1, netns, 0, "/late", Optional.empty(), Optional.empty(),
              Optional.empty(), false, Container.Source.RUNTIME_HOOK);
      ContainerCollection onlyLate = new ContainerCollection(0, System::nanoTime);
      onlyLate.add(container);
      RecordingSink sink = new RecordingSink();
      try (GadgetInstance dns =
          GadgetTesting.instance(
              "trace_dns",
              "    selector:\n      containers: [" + container.id() + "]\n",
              sink,
              "",
              onlyLate)) {
        dns.start();
        SocketFilters failed = dns.socketFilters().orElseThrow();
        assertThat(failed.namespaces()).isEmpty();
        assertThat(failed.openFailures()).isEqualTo(1);
        assertThat(failed.failedNamespaces()).isEqualTo(1);
        assertThat(failed.unopened())
            .singleElement()
            .satisfies(
                u -> {
                  assertThat(u.containerId()).isEqualTo(container.id());
                  assertThat(u.netnsId()).isEqualTo(netns);
                  assertThat(u.attempts()).isEqualTo(1);
                  assertThat(u.error()).contains("not " + netns);
                  assertThat(u.retryIn()).isLessThanOrEqualTo(NetnsSockets.FIRST_RETRY);
                });

        late.getOutputStream().write("go\n".getBytes(StandardCharsets.US_ASCII));
        late.getOutputStream().flush();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (dns.tracedNetworkNamespaces().isEmpty() && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        SocketFilters opened = dns.socketFilters().orElseThrow();
        assertThat(opened.namespaces())
            .containsExactly(new SocketFilters.Namespace(netns, true));
        assertThat(opened.unopened()).isEmpty();
        assertThat(opened.failedNamespaces()).isZero();
        assertThat(opened.openFailures()).isPositive(); // the first, and any retry before `go`

        // The retried socket works: a message of no known process in the namespace is kept.
        sendLoneResponse(0x6101);
        assertThat(sink.await(e -> is(e, "response", 0x6101), WAIT).value("netns_id"))
            .isEqualTo(netns);
      }
    } finally {
      late.destroyForcibly().waitFor();
    }
  }

  @Test
  void theRetryDelayDoublesUpToItsBound() {
    assertThat(NetnsSockets.retryDelay(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(NetnsSockets.retryDelay(2)).isEqualTo(Duration.ofSeconds(2));
    assertThat(NetnsSockets.retryDelay(5)).isEqualTo(Duration.ofSeconds(16));
    assertThat(NetnsSockets.retryDelay(9)).isEqualTo(Duration.ofSeconds(256));
    assertThat(NetnsSockets.retryDelay(10)).isEqualTo(Duration.ofMinutes(5));
    assertThat(NetnsSockets.retryDelay(1_000)).isEqualTo(Duration.ofMinutes(5));
  }

  /** From the peer: a DNS response (QR set) to a query nobody sent. */
  private void sendLoneResponse(int id) throws Exception {
    byte[] lone =
        DnsWire.response(DnsWire.query(id, "lone.example.test", DnsWire.A), 0, List.of());
    assertThat(peer.command("raw 127.0.0.1 " + HexFormat.of().formatHex(lone)))
        .startsWith("sent ");
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
