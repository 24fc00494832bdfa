package io.gadgetexporter.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.columns.EventJson;
import io.gadgetexporter.config.HttpConfig;
import io.gadgetexporter.export.Telemetry;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.EventViewFixtures;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.GadgetTesting;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The live stream's mechanics with hand-made events, so counts are exact: no cost without a client,
 * the frame format, drops told and counted, keep-alives, and clean-up on either side. {@code
 * AgentLiveApiTest} does the same with real gadgets under load.
 */
class LiveEventsTest {
  private final GadgetInstance exec = GadgetTesting.instance("trace_exec", "", EventSink.NONE);
  private final GadgetInstance open = GadgetTesting.instance("trace_open", "", EventSink.NONE);
  private final Telemetry telemetry =
      new Telemetry(
          io.gadgetexporter.config.ConfigLoader.parse(
              "gadgets:\n  - gadget: trace_exec\n", "test.yaml", java.util.Map.of()),
          "test",
          List::of,
          null);
  private final EventView event = event();
  private LiveEvents live;
  private AgentHttpServer server;
  private final List<Socket> sockets = new java.util.ArrayList<>();

  private static EventView event() {
    EventView view = new EventView(EventViewFixtures.schema(), BootClock.fixed(1_000_000_000_000L));
    view.bind(EventViewFixtures.record(5_000_000_000L, -2, 11, "cat\0-n\0file\0"), 0, 88);
    return view;
  }

  @AfterEach
  void close() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    if (server != null) {
      server.close();
    }
    telemetry.close();
  }

  private void start(int queueEvents, Duration keepalive) {
    live = new LiveEvents(queueEvents, keepalive);
    server =
        AgentHttpServer.builder(new HttpConfig("127.0.0.1", 0))
            .telemetry(telemetry)
            .readiness(() -> new AgentHttpServer.Readiness(true, Map.of()))
            .instances(() -> List.of(exec, open))
            .liveEvents(live)
            .start();
  }

  /** A client that sends the request and reads only when the test says so. */
  private Socket subscribe(String instance) throws Exception {
    Socket s = new Socket();
    sockets.add(s);
    s.connect(new InetSocketAddress("127.0.0.1", server.port()));
    s.setSoTimeout(100);
    s.getOutputStream()
        .write(
            ("GET /api/v1/events?instance=" + instance + " HTTP/1.1\r\nHost: test\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    String head = readUntil(s, new StringBuilder(), t -> t.contains(": streaming instance"));
    assertThat(head)
        .startsWith("HTTP/1.1 200 OK")
        .containsIgnoringCase("content-type: text/event-stream")
        .contains("retry: 2000");
    return s;
  }

  /** Reads into {@code text} until it satisfies {@code done}; fails after 5 s. */
  private static String readUntil(Socket s, StringBuilder text, Predicate<String> done)
      throws IOException {
    InputStream in = s.getInputStream();
    byte[] buffer = new byte[65536];
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!done.test(text.toString())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not received within 5s; got:\n" + text);
      }
      try {
        int n = in.read(buffer);
        if (n < 0) {
          throw new AssertionError("connection closed; got:\n" + text);
        }
        text.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
      } catch (SocketTimeoutException e) {
        // keep waiting
      }
    }
    return text.toString();
  }

  private static void await(String what, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + ": not within 5s");
      }
      Thread.sleep(10);
    }
  }

  private static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getCurrentThreadAllocatedBytes();
  }

  @Test
  void anInstanceWithoutClientsCostsNoAllocation() throws Exception {
    start(16, LiveEvents.DEFAULT_KEEPALIVE);
    for (int i = 0; i < 100_000; i++) { // warm up: compiled, as on a running agent
      live.accept(exec, event);
      live.flush();
    }
    long before = allocatedBytes();
    for (int i = 0; i < 1_000_000; i++) {
      live.accept(exec, event);
    }
    live.flush();
    // The smallest object is 16 bytes: allocating per event would show as 16 MB here. What
    // remains is the JVM's own noise (a few KiB at most).
    assertThat(allocatedBytes() - before)
        .as("bytes allocated by 1M events, no client")
        .isLessThan(64 * 1024);

    subscribe(open.name()); // another instance has a client: one map lookup more
    for (int i = 0; i < 100_000; i++) {
      live.accept(exec, event);
    }
    before = allocatedBytes();
    for (int i = 0; i < 1_000_000; i++) {
      live.accept(exec, event);
    }
    assertThat(allocatedBytes() - before)
        .as("bytes allocated by 1M events, a client on another instance")
        .isLessThan(64 * 1024);
    assertThat(live.stats(exec.name())).isEqualTo(new LiveEvents.Stats(0, 0, 0, 0));
  }

  @Test
  void everyEventIsSentOrDroppedAndTheClientIsToldOfEachDrop() throws Exception {
    start(16, LiveEvents.DEFAULT_KEEPALIVE);
    Socket client = subscribe(exec.name());
    String json = EventJson.append(new StringBuilder(), exec, event).toString();

    // The client reads nothing meanwhile: 100,000 events (40 MB) cannot all wait in its socket
    // buffers, Vert.x's write queue and a queue of 16. The drain side never waits.
    int total = 100_000;
    for (int i = 0; i < total; i++) {
      live.accept(exec, event);
      if (i % 500 == 499) {
        live.flush(); // a drained batch
      }
    }
    live.flush();
    LiveEvents.Stats stats = live.stats(exec.name());
    assertThat(stats.dropped()).isPositive();
    assertThat(stats.queued()).isLessThanOrEqualTo(16);

    // Now it reads: what was not dropped arrives, and the drops are told in the stream.
    long[] received = new long[2]; // events, drops told
    StringBuilder text = new StringBuilder();
    readUntil(
        client,
        text,
        t -> {
          int lineEnd;
          while ((lineEnd = text.indexOf("\n")) >= 0) {
            String line = text.substring(0, lineEnd);
            text.delete(0, lineEnd + 1);
            if (line.startsWith("data: {\"dropped\":")) {
              received[1] += Long.parseLong(line.replaceAll("[^0-9]", ""));
            } else if (line.startsWith("data: ")) {
              assertThat(line).isEqualTo("data: " + json);
              received[0]++;
            }
          }
          return received[0] + received[1] == total;
        });
    assertThat(live.sentTotal(exec.name())).isEqualTo(received[0]);
    assertThat(live.droppedTotal(exec.name())).isEqualTo(received[1]).isPositive();
    assertThat(received[0]).as("events the client got").isPositive();
    assertThat(live.stats(exec.name()).queued()).isZero();
    assertThat(live.stats(open.name())).isEqualTo(new LiveEvents.Stats(0, 0, 0, 0));
  }

  @Test
  void idleStreamGetsKeepalives() throws Exception {
    start(16, Duration.ofMillis(100));
    Socket client = subscribe(exec.name());

    readUntil(client, new StringBuilder(), t -> t.contains(": keepalive\n\n"));
  }

  @Test
  void clientThatLeavesIsForgotten() throws Exception {
    start(16, LiveEvents.DEFAULT_KEEPALIVE);
    Socket first = subscribe(exec.name());
    subscribe(exec.name());
    assertThat(live.subscribers(exec.name())).isEqualTo(2);

    first.close();
    await("one client left", () -> live.subscribers(exec.name()) == 1);
  }

  @Test
  void closingTheServerEndsTheStreams() throws Exception {
    start(16, LiveEvents.DEFAULT_KEEPALIVE);
    Socket client = subscribe(exec.name());

    server.close();
    server = null;

    // The last chunk of a chunked response, then the end of the connection.
    StringBuilder text = new StringBuilder();
    InputStream in = client.getInputStream();
    client.setSoTimeout(5000);
    byte[] buffer = new byte[4096];
    int n;
    while ((n = in.read(buffer)) >= 0) {
      text.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
    }
    assertThat(text.toString()).endsWith("0\r\n\r\n");
    assertThat(live.subscribers(exec.name())).isZero();
  }

  @Test
  void streamsAreCapped() throws Exception {
    start(16, LiveEvents.DEFAULT_KEEPALIVE);
    for (int i = 0; i < LiveEvents.MAX_STREAMS; i++) {
      subscribe(i % 2 == 0 ? exec.name() : open.name());
    }
    Socket extra = new Socket("127.0.0.1", server.port());
    sockets.add(extra);
    extra.setSoTimeout(100);
    extra
        .getOutputStream()
        .write(
            ("GET /api/v1/events?instance=" + exec.name() + " HTTP/1.1\r\nHost: t\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));

    readUntil(
        extra,
        new StringBuilder(),
        t -> t.startsWith("HTTP/1.1 503") && t.contains("too many live streams open (16)"));
  }
}
