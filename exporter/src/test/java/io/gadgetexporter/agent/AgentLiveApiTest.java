package io.gadgetexporter.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.gadget.AwaitableList;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.http.LiveEvents;
import io.gadgetexporter.http.UnixSocketGet;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API of a running agent with real gadgets: {@code /api/v1/gadgets} and the live stream
 * {@code /api/v1/events}, including a client too slow for the events (it loses events, the agent
 * loses nothing).
 */
class AgentLiveApiTest {
  @TempDir Path tmp;

  private Agent start(String yaml) throws IOException {
    Path file = tmp.resolve("agent.yaml");
    Files.writeString(file, yaml);
    AgentConfig config = ConfigLoader.load(file, Map.of());
    return Agent.start(config, GadgetCatalog.builtIn(), EventSink.NONE);
  }

  private static String get(int port, String path) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET " + path + ": " + r.body()).isEqualTo(200);
    return r.body();
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).inheritIO().start();
    assertThat(p.waitFor()).as(String.join(" ", command)).isZero();
  }

  private static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + ": not within " + timeout);
      }
      Thread.sleep(20);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static JsonObject instance(JsonObject gadgets, String name) {
    return gadgets.getJsonArray("gadgets").stream()
        .map(JsonObject.class::cast)
        .filter(g -> g.getString("name").equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError(name + " not listed: " + gadgets));
  }

  private static GadgetInstance instance(Agent agent, String name) {
    return agent.instances().stream().filter(i -> i.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void gadgetsApiListsTheRunningInstancesAndTheirCounters() throws Exception {
    Path socket = tmp.resolve("run/api.sock");
    String yaml =
        """
        http:
          listen: 127.0.0.1:0
          unix_socket: run/api.sock
        gadgets:
          - name: exec
            gadget: trace_exec
            params:
              max_args: 8
          - name: shop-open
            gadget: trace_open
            selector:
              namespaces: [shop]
        """;
    try (Agent agent = start(yaml)) {
      run("/bin/true");
      await(
          "exec counts the exec",
          Duration.ofSeconds(10),
          () -> instance(agent, "exec").eventsTotal() > 0);

      JsonObject all = new JsonObject(get(agent.httpPort(), "/api/v1/gadgets"));
      assertThat(all.getJsonArray("gadgets")).hasSize(2);
      JsonObject exec = instance(all, "exec");
      assertThat(exec.getString("gadget")).isEqualTo("trace_exec");
      assertThat(exec.getString("state")).isEqualTo("running");
      assertThat(exec.containsKey("failure")).isFalse();
      assertThat(exec.getJsonObject("params").getLong("max_args")).isEqualTo(8);
      assertThat(exec.containsKey("selector")).isFalse();
      assertThat(exec.getLong("events")).isPositive();
      assertThat(exec.getLong("lost")).isZero();
      assertThat(exec.getLong("incomplete")).isZero();
      assertThat(exec.getLong("malformed")).isZero();
      assertThat(exec.getLong("filtered")).isZero();
      assertThat(exec.getJsonObject("stream"))
          .isEqualTo(
              new JsonObject()
                  .put("subscribers", 0)
                  .put("queued", 0)
                  .put("sent", 0)
                  .put("dropped", 0));
      JsonArray fields = exec.getJsonArray("fields");
      assertThat(fields.stream().map(f -> ((JsonObject) f).getString("name")))
          .contains("timestamp", "pid", "comm", "args", "mntns_id");
      JsonObject args =
          fields.stream()
              .map(JsonObject.class::cast)
              .filter(f -> f.getString("name").equals("args"))
              .findFirst()
              .orElseThrow();
      assertThat(args.getString("semantic")).isEqualTo("process.command_args");
      assertThat(args.getString("description")).isNotBlank();

      JsonObject open = instance(all, "shop-open");
      assertThat(open.getJsonObject("selector"))
          .isEqualTo(
              new JsonObject()
                  .put("namespaces", new JsonArray().add("shop"))
                  .put("pods", new JsonArray())
                  .put("containers", new JsonArray())
                  .put("labels", new JsonObject())
                  .put("host", false));
      assertThat(open.getLong("filtered"))
          .as("every host open is filtered out in the kernel")
          .isPositive();

      JsonObject one = new JsonObject(get(agent.httpPort(), "/api/v1/gadgets/exec"));
      assertThat(one.getString("name")).isEqualTo("exec");
      assertThat(one.getLong("events")).isGreaterThanOrEqualTo(exec.getLong("events"));

      // The same over the Unix socket, private to the agent's user.
      assertThat(Files.getPosixFilePermissions(socket))
          .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
      String overSocket = UnixSocketGet.get(socket, "/api/v1/gadgets");
      assertThat(overSocket).startsWith("200 ");
      assertThat(instance(new JsonObject(overSocket.substring(4)), "exec").getString("state"))
          .isEqualTo("running");
    }
    assertThat(socket).as("removed when the agent stops").doesNotExist();
  }

  /** An SSE client over java.net.http: every line it reads, until closed. */
  private static final class StreamClient implements AutoCloseable {
    final AwaitableList<String> lines = new AwaitableList<>();
    final AtomicLong events = new AtomicLong();

    /** Events the agent told this client it dropped for it. */
    final AtomicLong droppedForMe = new AtomicLong();

    final HttpResponse<InputStream> response;
    private final Thread reader;

    StreamClient(int port, String instance) throws Exception {
      response =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .build()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:" + port + "/api/v1/events?instance=" + instance))
                      .build(),
                  HttpResponse.BodyHandlers.ofInputStream());
      reader =
          new Thread(
              () -> {
                try (BufferedReader in =
                    new BufferedReader(
                        new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = in.readLine()) != null) {
                    if (line.startsWith("data: {\"dropped\":")) {
                      droppedForMe.addAndGet(
                          new JsonObject(line.substring("data: ".length())).getLong("dropped"));
                    } else if (line.startsWith("data: {")) {
                      events.incrementAndGet();
                    }
                    lines.add(line);
                  }
                } catch (IOException e) {
                  // closed by the test
                }
              },
              "sse-client-" + instance);
      reader.setDaemon(true);
      reader.start();
      lines.await(l -> l.startsWith(": streaming instance " + instance), Duration.ofSeconds(5));
    }

    @Override
    public void close() throws Exception {
      response.body().close();
      reader.join(5_000);
    }
  }

  @Test
  void streamDeliversAnExecWithItsArgumentsAsItHappens() throws Exception {
    String yaml =
        "http:\n  listen: 127.0.0.1:0\ngadgets:\n  - name: exec\n    gadget: trace_exec\n";
    try (Agent agent = start(yaml);
        StreamClient client = new StreamClient(agent.httpPort(), "exec")) {
      assertThat(client.response.statusCode()).isEqualTo(200);
      assertThat(client.response.headers().firstValue("Content-Type"))
          .contains("text/event-stream");
      assertThat(agent.liveEvents().subscribers("exec")).isEqualTo(1);

      String marker = "gx-sse-" + System.nanoTime();
      run("/bin/true", marker, "second arg");

      String line =
          client.lines.await(
              l -> l.startsWith("data: ") && l.contains(marker), Duration.ofSeconds(10));
      JsonObject event = new JsonObject(line.substring("data: ".length()));
      assertThat(event.getString("instance")).isEqualTo("exec");
      assertThat(event.getString("gadget")).isEqualTo("trace_exec");
      assertThat(event.getJsonArray("args")).containsExactly("/bin/true", marker, "second arg");
      assertThat(event.getString("comm")).isEqualTo("true");
      assertThat(event.getBoolean("host")).as("enriched: a host process").isTrue();
      assertThat(event.getLong("pid")).isPositive();
      assertThat(agent.liveEvents().sentTotal("exec")).isPositive();
      assertThat(agent.liveEvents().droppedTotal("exec")).isZero();

      client.close();
      await(
          "the client that left is forgotten",
          Duration.ofSeconds(5),
          () -> agent.liveEvents().subscribers("exec") == 0);
    }
  }

  @Test
  void slowClientLosesEventsNeverTheAgent() throws Exception {
    int queue = 64;
    String yaml =
        "http:\n  listen: 127.0.0.1:0\n  stream_queue_events: "
            + queue
            + "\ngadgets:\n  - name: open\n    gadget: trace_open\n";
    Path target = Files.writeString(tmp.resolve("gx-slow-client-target"), "x");
    try (Agent agent = start(yaml);
        Socket slow = new Socket()) {
      LiveEvents live = agent.liveEvents();
      GadgetInstance open = instance(agent, "open");
      // A client that subscribes and never reads: its kernel buffers fill, then Vert.x's write
      // queue, then its queue in the agent.
      slow.setReceiveBufferSize(4096);
      slow.connect(new InetSocketAddress("127.0.0.1", agent.httpPort()));
      slow.getOutputStream()
          .write(
              "GET /api/v1/events?instance=open HTTP/1.1\r\nHost: agent\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      await(
          "the slow client subscribed", Duration.ofSeconds(5), () -> live.subscribers("open") == 1);

      try (StreamClient reader = new StreamClient(agent.httpPort(), "open")) {
        AtomicBoolean loading = new AtomicBoolean(true);
        AtomicLong opens = new AtomicLong();
        Thread load =
            new Thread(
                () -> {
                  while (loading.get()) {
                    try (FileChannel ignored = FileChannel.open(target)) {
                      opens.incrementAndGet();
                    } catch (IOException e) {
                      throw new IllegalStateException(e);
                    }
                  }
                },
                "open-load");
        load.start();
        try {
          String slowAddress = "127.0.0.1:" + slow.getLocalPort();
          Supplier<LiveEvents.Client> slowClient =
              () ->
                  live.clients("open").stream()
                      .filter(c -> c.remoteAddress().equals(slowAddress))
                      .findFirst()
                      .orElseThrow(() -> new AssertionError(slowAddress + " not streaming"));
          // Stuck: its socket buffers (megabytes) and Vert.x's write queue are full, so nothing
          // more is handed to its connection, its queue stays full and new events are dropped.
          await(
              "the slow client stuck: queue full, nothing sent, events dropped",
              Duration.ofSeconds(60),
              () -> {
                LiveEvents.Client before = slowClient.get();
                sleep(500);
                LiveEvents.Client after = slowClient.get();
                return after.queued() == queue
                    && after.sent() == before.sent()
                    && after.dropped() > before.dropped();
              });
          long slowSent = slowClient.get().sent();

          // Under load, with the slow client stuck, the agent goes on as before.
          long drainedBefore = open.eventsTotal();
          long readBefore = reader.events.get();
          for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            assertThat(get(agent.httpPort(), "/healthz")).isEqualTo("ok\n");
            assertThat(Duration.ofNanos(System.nanoTime() - t0))
                .as("/healthz while a client is stuck")
                .isLessThan(Duration.ofSeconds(1));
          }
          await(
              "the drain goes on",
              Duration.ofSeconds(10),
              () -> open.eventsTotal() > drainedBefore + 1000);
          await(
              "the other client still receives events",
              Duration.ofSeconds(10),
              () -> reader.events.get() > readBefore + 100);

          LiveEvents.Stats stats = live.stats("open");
          assertThat(stats.subscribers()).isEqualTo(2);
          assertThat(stats.queued()).as("memory held for clients").isLessThanOrEqualTo(2 * queue);
          assertThat(stats.dropped()).isPositive();
          assertThat(slowClient.get().queued())
              .as("the stuck client's queue, full")
              .isEqualTo(queue);
          assertThat(slowClient.get().sent())
              .as("nothing more handed to the stuck connection: its write queue is full")
              .isEqualTo(slowSent);
          assertThat(open.state()).isEqualTo(GadgetInstance.State.RUNNING);
          assertThat(opens.get()).isGreaterThan(1000);
          JsonObject api =
              instance(new JsonObject(get(agent.httpPort(), "/api/v1/gadgets")), "open");
          assertThat(api.getJsonObject("stream").getLong("dropped")).isPositive();
        } finally {
          loading.set(false);
          load.join();
        }

        slow.close();
        await(
            "the slow client, gone, is forgotten",
            Duration.ofSeconds(10),
            () -> live.subscribers("open") == 1);
        assertThat(
                reader.lines.snapshot().stream()
                    .filter(l -> l.startsWith("data: ") && l.contains("gx-slow-client-target"))
                    .collect(Collectors.toList()))
            .as("the reader saw the load's own opens")
            .isNotEmpty();
      }
    }
  }
}
