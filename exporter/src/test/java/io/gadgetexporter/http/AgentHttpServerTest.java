package io.gadgetexporter.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.HttpConfig;
import io.gadgetexporter.export.Telemetry;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.GadgetTesting;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's protections and its API's answers, without gadgets attached: bearer token, TLS,
 * client certificates, the Unix socket, and the errors of {@code /api/v1}.
 */
class AgentHttpServerTest {
  private static final String TOKEN = "t0ken-for-tests.abc_DEF~+/=";

  @TempDir Path tmp;

  private final Telemetry telemetry =
      new Telemetry(
          io.gadgetexporter.config.ConfigLoader.parse(
              "gadgets:\n  - gadget: trace_exec\n", "test.yaml", java.util.Map.of()),
          "test",
          List::of,
          null);
  private AgentHttpServer server;

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
    telemetry.close();
  }

  /** A server for the keys written under {@code http:} (indented by two), through the loader. */
  private AgentHttpServer start(String httpKeys, Collection<GadgetInstance> instances)
      throws IOException {
    Path file = tmp.resolve("agent.yaml");
    Files.writeString(file, "http:\n  listen: 127.0.0.1:0\n" + httpKeys);
    HttpConfig config = ConfigLoader.load(file, Map.of()).http();
    server =
        AgentHttpServer.builder(config)
            .telemetry(telemetry)
            .readiness(() -> new AgentHttpServer.Readiness(true, Map.of()))
            .instances(() -> instances)
            .start();
    return server;
  }

  private AgentHttpServer start(String httpKeys) throws IOException {
    return start(httpKeys, List.of());
  }

  private static HttpResponse<String> get(HttpClient client, String url, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String http(String path) {
    return "http://127.0.0.1:" + server.port() + path;
  }

  private String https(String path) {
    return "https://127.0.0.1:" + server.port() + path;
  }

  // ---- bearer token -----------------------------------------------------------------------

  @Test
  void tokenIsAskedOnEveryEndpointButTheProbes() throws Exception {
    Files.writeString(tmp.resolve("token"), TOKEN + "\n");
    start("  bearer_token_file: token\n");
    HttpClient client = HttpClient.newHttpClient();

    for (String path :
        List.of(
            "/metrics",
            "/api/v1/gadgets",
            "/api/v1/gadgets/exec",
            "/api/v1/gadgets/exec/snapshot",
            "/api/v1/containers",
            "/api/v1/events?instance=exec",
            "/nothing-here")) {
      HttpResponse<String> none = get(client, http(path));
      assertThat(none.statusCode()).as("no token: " + path).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Bearer");
      assertThat(new JsonObject(none.body()).getString("error"))
          .isEqualTo("an 'Authorization: Bearer <token>' header is required");

      HttpResponse<String> wrong =
          get(client, http(path), "Authorization", "Bearer " + TOKEN + "x");
      assertThat(wrong.statusCode()).as("wrong token: " + path).isEqualTo(401);
      assertThat(wrong.headers().firstValue("WWW-Authenticate"))
          .contains("Bearer error=\"invalid_token\"");
      assertThat(wrong.body()).doesNotContain(TOKEN);

      HttpResponse<String> basic = get(client, http(path), "Authorization", "Basic " + TOKEN);
      assertThat(basic.statusCode()).as("another scheme: " + path).isEqualTo(401);
    }

    HttpResponse<String> metrics =
        get(client, http("/metrics"), "Authorization", "Bearer " + TOKEN);
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    assertThat(
            get(client, http("/api/v1/gadgets"), "Authorization", "bearer  " + TOKEN).statusCode())
        .as("the scheme is case-insensitive")
        .isEqualTo(200);
    assertThat(
            get(client, http("/api/v1/containers"), "Authorization", "Bearer " + TOKEN)
                .statusCode())
        .as("past the token, the endpoint's own answer: discovery is off here")
        .isEqualTo(404);
    assertThat(get(client, http("/healthz")).statusCode()).isEqualTo(200);
    assertThat(get(client, http("/readyz")).statusCode()).isEqualTo(200);
    assertThat(get(client, http("/x/../healthz")).statusCode())
        .as("a path that normalizes to a probe is that probe")
        .isEqualTo(200);
    assertThat(get(client, http("/healthz/../metrics")).statusCode())
        .as("a path that normalizes to /metrics is /metrics")
        .isEqualTo(401);
  }

  // ---- TLS --------------------------------------------------------------------------------

  @Test
  void tlsServesHttpsAndNothingElse() throws Exception {
    TestCertificates.Identity serverIdentity = TestCertificates.create(tmp, "server");
    start(
        "  tls:\n    cert_file: server.crt\n    key_file: server.key\n"
            + "  bearer_token: "
            + TOKEN
            + "\n");
    HttpClient client = serverIdentity.trustingClient();

    HttpResponse<String> metrics =
        get(client, https("/metrics"), "Authorization", "Bearer " + TOKEN);
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    assertThat(get(client, https("/metrics")).statusCode()).isEqualTo(401);
    assertThat(get(client, https("/healthz")).body()).isEqualTo("ok\n");

    assertThatThrownBy(() -> get(HttpClient.newHttpClient(), http("/healthz")))
        .as("plain HTTP to the HTTPS port")
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> get(HttpClient.newHttpClient(), https("/healthz")))
        .as("a client that does not trust the certificate")
        .isInstanceOf(IOException.class);
  }

  @Test
  void clientCertificatesWhenAskedButNotForTheProbes() throws Exception {
    TestCertificates.Identity serverIdentity = TestCertificates.create(tmp, "server");
    TestCertificates.Identity client = TestCertificates.create(tmp, "client");
    TestCertificates.Identity stranger = TestCertificates.create(tmp, "stranger");
    start(
        "  tls:\n    cert_file: server.crt\n    key_file: server.key\n"
            + "    client_ca_file: client.crt\n");

    HttpClient withCertificate = client.clientTrusting(serverIdentity);
    assertThat(get(withCertificate, https("/metrics")).statusCode()).isEqualTo(200);
    assertThat(get(withCertificate, https("/api/v1/gadgets")).statusCode()).isEqualTo(200);

    HttpClient without = serverIdentity.trustingClient();
    HttpResponse<String> refused = get(without, https("/metrics"));
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(refused.body()).contains("a client certificate is required");
    assertThat(get(without, https("/healthz")).statusCode()).isEqualTo(200);
    assertThat(get(without, https("/readyz")).statusCode()).isEqualTo(200);

    HttpClient strangerClient = stranger.clientTrusting(serverIdentity);
    assertThat(get(strangerClient, https("/metrics")).statusCode())
        .as("a client whose certificates no listed CA signed shows none")
        .isEqualTo(401);
    assertThatThrownBy(() -> get(stranger.clientInsistingOn(serverIdentity), https("/healthz")))
        .as("a certificate shown that no trusted CA signed fails the handshake")
        .isInstanceOf(IOException.class);
  }

  @Test
  void tlsFilesThatDoNotMatchStopTheStartNamingTheAddress() throws Exception {
    TestCertificates.create(tmp, "one");
    TestCertificates.create(tmp, "two");

    assertThatThrownBy(() -> start("  tls:\n    cert_file: one.crt\n    key_file: two.key\n"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "cannot serve HTTPS on 127.0.0.1:0: the key in "
                + tmp.resolve("two.key")
                + " and the certificate in "
                + tmp.resolve("one.crt")
                + " do not belong together (or are neither RSA nor EC)");
  }

  // ---- Unix socket ------------------------------------------------------------------------


  @Test
  void unixSocketIsPrivateNeedsNoTokenAndIsRemovedOnClose() throws Exception {
    Path socket = tmp.resolve("run/gx/api.sock");
    List<GadgetInstance> instances =
        List.of(GadgetTesting.instance("trace_exec", "", EventSink.NONE));
    start("  bearer_token: " + TOKEN + "\n  unix_socket: run/gx/api.sock\n", instances);

    assertThat(Files.getPosixFilePermissions(socket))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.getPosixFilePermissions(socket.getParent()))
        .as("the missing parent, created private")
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    assertThat(Files.list(socket.getParent()).toList())
        .as("no staging directory left behind")
        .containsExactly(socket);

    assertThat(UnixSocketGet.get(socket, "/healthz")).isEqualTo("200 ok\n");
    String gadgets = UnixSocketGet.get(socket, "/api/v1/gadgets");
    assertThat(gadgets).startsWith("200 ");
    assertThat(
            new JsonObject(gadgets.substring(4))
                .getJsonArray("gadgets")
                .getJsonObject(0)
                .getString("name"))
        .isEqualTo("test-trace-exec");
    assertThat(UnixSocketGet.get(socket, "/metrics")).startsWith("200 ");
    assertThat(get(HttpClient.newHttpClient(), http("/metrics")).statusCode())
        .as("TCP still asks for the token")
        .isEqualTo(401);

    server.close();
    server = null;
    assertThat(socket).doesNotExist();
  }

  @Test
  void staleSocketIsReplacedButALiveOneOrAFileIsNot() throws Exception {
    Path socket = tmp.resolve("api.sock");
    // A socket file nobody listens on any more: what an agent killed with SIGKILL leaves.
    try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      dead.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(socket).exists();

    start("  unix_socket: api.sock\n");
    assertThat(UnixSocketGet.get(socket, "/healthz")).isEqualTo("200 ok\n");
    assertThat(Files.getPosixFilePermissions(socket))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));

    AgentHttpServer first = server;
    assertThatThrownBy(() -> start("  unix_socket: api.sock\n"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "unix socket "
                + socket
                + ": another process serves on it (another agent?); stop it or choose another"
                + " path");
    server = first;
    assertThat(UnixSocketGet.get(socket, "/healthz"))
        .as("the first server still serves")
        .isEqualTo("200 ok\n");

    Path regular = tmp.resolve("not-a-socket");
    Files.writeString(regular, "data");
    assertThatThrownBy(() -> start("  unix_socket: not-a-socket\n"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "unix socket "
                + regular
                + ": the path exists and is not a socket; remove it or choose another path");
    server = first;
    assertThat(regular).hasContent("data");
  }

  // ---- API answers ------------------------------------------------------------------------

  @Test
  void apiErrorsNameTheKnownInstances() throws Exception {
    List<GadgetInstance> instances =
        List.of(
            GadgetTesting.instance("trace_exec", "", EventSink.NONE),
            GadgetTesting.instance("trace_open", "", EventSink.NONE));
    start("", instances);
    HttpClient client = HttpClient.newHttpClient();

    HttpResponse<String> noInstance = get(client, http("/api/v1/events"));
    assertThat(noInstance.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(noInstance.body()))
        .isEqualTo(
            new JsonObject()
                .put("error", "name the instance to stream: /api/v1/events?instance=NAME")
                .put("instances", List.of("test-trace-exec", "test-trace-open")));

    HttpResponse<String> unknown = get(client, http("/api/v1/events?instance=exce"));
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(unknown.body()))
        .isEqualTo(
            new JsonObject()
                .put("error", "no gadget instance named 'exce'")
                .put("instances", List.of("test-trace-exec", "test-trace-open")));

    HttpResponse<String> unknownGadget = get(client, http("/api/v1/gadgets/exce"));
    assertThat(unknownGadget.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(unknownGadget.body()).getJsonArray("instances"))
        .containsExactly("test-trace-exec", "test-trace-open");

    HttpResponse<String> one = get(client, http("/api/v1/gadgets/test-trace-open"));
    assertThat(one.statusCode()).isEqualTo(200);
    JsonObject open = new JsonObject(one.body());
    assertThat(open.getString("name")).isEqualTo("test-trace-open");
    assertThat(open.getString("gadget")).isEqualTo("trace_open");
    assertThat(open.getString("state")).as("created, never started").isEqualTo("starting");
    assertThat(open.containsKey("failure")).isFalse();
    assertThat(open.containsKey("selector")).as("no selector: everything").isFalse();
    assertThat(open.getLong("events")).isZero();
  }

  @Test
  void aSnapshotIsTakenOnRequestAndOnlyOfARunningSnapshotGadget() throws Exception {
    GadgetInstance snapshot = GadgetTesting.instance("snapshot_process", "", EventSink.NONE);
    GadgetInstance tracer = GadgetTesting.instance("trace_exec", "", EventSink.NONE);
    GadgetInstance idle =
        new GadgetInstance(
            ConfigLoader.parse(
                    "gadgets:\n  - name: idle\n    gadget: snapshot_process\n",
                    "test.yaml",
                    Map.of())
                .gadgets()
                .get(0),
            snapshot.gadget(),
            EventSink.NONE,
            io.gadgetexporter.gadget.BootClock.system());
    try {
      snapshot.start();
      start("", List.of(snapshot, tracer, idle));
      HttpClient client = HttpClient.newHttpClient();

      HttpResponse<String> taken =
          get(client, http("/api/v1/gadgets/test-snapshot-process/snapshot"));
      assertThat(taken.statusCode()).isEqualTo(200);
      assertThat(taken.headers().firstValue("Content-Type")).contains("application/json");
      JsonObject body = new JsonObject(taken.body());
      assertThat(body.getString("instance")).isEqualTo("test-snapshot-process");
      assertThat(body.getString("gadget")).isEqualTo("snapshot_process");
      assertThat(java.time.Instant.parse(body.getString("time")))
          .isBeforeOrEqualTo(java.time.Instant.now());
      assertThat(body.getLong("malformed")).isZero();
      List<JsonObject> rows =
          body.getJsonArray("rows").stream().map(JsonObject.class::cast).toList();
      assertThat(rows).hasSizeGreaterThan(10);
      // Up to the default limit: how many rows there were, and whether some were left out.
      long total = body.getLong("rows_total");
      assertThat(body.getInteger("limit")).isEqualTo(SnapshotRequests.DEFAULT_LIMIT);
      assertThat(rows).hasSize((int) Math.min(total, SnapshotRequests.DEFAULT_LIMIT));
      assertThat(body.getBoolean("truncated")).isEqualTo(total > SnapshotRequests.DEFAULT_LIMIT);
      JsonObject self =
          rows.stream()
              .filter(r -> r.getLong("pid") == ProcessHandle.current().pid())
              .findFirst()
              .orElseThrow();
      // The JSON lines' form: numbers as numbers, timestamps ISO-8601 with the raw value beside.
      assertThat(self.getString("comm")).isEqualTo("java");
      assertThat(self.getString("instance")).isEqualTo("test-snapshot-process");
      assertThat(java.time.Instant.parse(self.getString("start_time")))
          .isBefore(java.time.Instant.now());
      assertThat(self.getLong("start_time_raw")).isPositive();

      JsonObject status =
          new JsonObject(get(client, http("/api/v1/gadgets/test-snapshot-process")).body());
      assertThat(status.getJsonObject("params").getString("interval")).isEqualTo("0ms");
      assertThat(status.getJsonObject("snapshot").getLong("taken")).isEqualTo(1);
      assertThat(status.getJsonObject("snapshot").getLong("last_rows")).isEqualTo(total);
      assertThat(status.getLong("events")).as("the rows went to the request only").isZero();

      JsonObject three =
          new JsonObject(
              get(client, http("/api/v1/gadgets/test-snapshot-process/snapshot?limit=3")).body());
      assertThat(three.getJsonArray("rows")).hasSize(3);
      assertThat(three.getLong("rows_total")).isGreaterThan(10);
      assertThat(three.getBoolean("truncated")).isTrue();
      HttpResponse<String> tooMany =
          get(client, http("/api/v1/gadgets/test-snapshot-process/snapshot?limit=10001"));
      assertThat(tooMany.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(tooMany.body()).getString("error"))
          .isEqualTo("limit must be a number of rows from 0 to 10000, got '10001'");

      HttpResponse<String> ofTracer = get(client, http("/api/v1/gadgets/test-trace-exec/snapshot"));
      assertThat(ofTracer.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(ofTracer.body()))
          .isEqualTo(
              new JsonObject()
                  .put(
                      "error",
                      "instance 'test-trace-exec' runs trace_exec, which is not a snapshot gadget:"
                          + " only those take snapshots (its events:"
                          + " /api/v1/events?instance=test-trace-exec)")
                  .put("instances", List.of("test-snapshot-process", "idle")));

      HttpResponse<String> notStarted = get(client, http("/api/v1/gadgets/idle/snapshot"));
      assertThat(notStarted.statusCode()).isEqualTo(409);
      assertThat(new JsonObject(notStarted.body()).getString("error"))
          .isEqualTo("instance 'idle' is starting");

      HttpResponse<String> unknown = get(client, http("/api/v1/gadgets/nope/snapshot"));
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(new JsonObject(unknown.body()).getJsonArray("instances"))
          .containsExactly("test-snapshot-process", "test-trace-exec", "idle");
    } finally {
      snapshot.close();
    }
  }
}
