package io.gadgetexporter.http;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.config.HttpConfig;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.export.Telemetry;
import io.gadgetexporter.gadget.GadgetInstance;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.logging.Logger;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.X509KeyManager;

/**
 * The agent's HTTP endpoints on one Vert.x router:
 *
 * <ul>
 *   <li>{@code /metrics}: Prometheus scrape;
 *   <li>{@code /healthz}: the process is serving; {@code /readyz}: every instance is attached;
 *   <li>{@code /api/v1/containers}: the containers the agent knows;
 *   <li>{@code /api/v1/gadgets}, {@code /api/v1/gadgets/NAME}: the instances, their state and
 *       counters;
 *   <li>{@code /api/v1/gadgets/NAME/snapshot}: a snapshot gadget's rows, taken now (see {@link
 *       SnapshotRequests});
 *   <li>{@code /api/v1/events?instance=NAME}: an instance's events, live (Server-Sent Events, see
 *       {@link LiveEvents}).
 * </ul>
 *
 * <p>The router is served on {@code http.listen} (HTTPS with {@code http.tls}) and, with {@code
 * http.unix_socket}, on a Unix socket too. On TCP a bearer token and a client certificate can be
 * required; never for the probes (the kubelet carries neither), never on the socket (its 0600 mode
 * lets only the agent's user connect, which is the access control there).
 */
public final class AgentHttpServer implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(AgentHttpServer.class.getName());

  private static final String JSON = "application/json";

  private final Vertx vertx;
  private final HttpServer tcp;
  private final UnixSocketListener socket; // null without http.unix_socket
  private final LiveEvents live;

  private AgentHttpServer(Vertx vertx, HttpServer tcp, UnixSocketListener socket, LiveEvents live) {
    this.vertx = vertx;
    this.tcp = tcp;
    this.socket = socket;
    this.live = live;
  }

  /** A server for this configuration; set what it serves, then {@link Builder#start()}. */
  public static Builder builder(HttpConfig config) {
    return new Builder(config);
  }

  /** What the server serves; {@code telemetry} and {@code readiness} are required. */
  public static final class Builder {
    private final HttpConfig config;
    private Telemetry telemetry;
    private Supplier<Readiness> readiness;
    private ContainerCollection containers;
    private Supplier<? extends Collection<GadgetInstance>> instances = List::of;
    private LiveEvents liveEvents;

    private Builder(HttpConfig config) {
      this.config = requireNonNull(config, "config");
    }

    /** Served at {@code /metrics}. */
    public Builder telemetry(Telemetry telemetry) {
      this.telemetry = telemetry;
      return this;
    }

    /** Whether the agent is ready and why not, for {@code /readyz}. */
    public Builder readiness(Supplier<Readiness> readiness) {
      this.readiness = readiness;
      return this;
    }

    /** The node's containers; without it (discovery off) {@code /api/v1/containers} says so. */
    public Builder containers(ContainerCollection containers) {
      this.containers = containers;
      return this;
    }

    /** The instances {@code /api/v1/gadgets} lists and {@code /api/v1/events} streams. */
    public Builder instances(Supplier<? extends Collection<GadgetInstance>> instances) {
      this.instances = requireNonNull(instances, "instances");
      return this;
    }

    /**
     * The sink the instances feed, for {@code /api/v1/events}. Without it the server has its own,
     * which no instance feeds. The server ends its streams when it closes.
     */
    public Builder liveEvents(LiveEvents liveEvents) {
      this.liveEvents = liveEvents;
      return this;
    }

    /**
     * Starts serving; blocks until listening.
     *
     * @throws IllegalStateException when an address cannot be bound or the TLS files are refused
     *     (names which)
     */
    public AgentHttpServer start() {
      requireNonNull(telemetry, "telemetry");
      requireNonNull(readiness, "readiness");
      LiveEvents live =
          liveEvents != null ? liveEvents : new LiveEvents(config.streamQueueEvents());
      return AgentHttpServer.start(this, live);
    }
  }

  private static AgentHttpServer start(Builder b, LiveEvents live) {
    HttpConfig config = b.config;
    if (config.bearerToken().isPresent() && config.tls().isEmpty()) {
      logger.warning(
          "http.bearer_token is set without http.tls: the token travels in clear text to "
              + config.listenAddress()
              + "; anyone who can watch that network can read it (set http.tls, or listen on a"
              + " trusted address only)");
    }
    Vertx vertx = Vertx.vertx();
    Router router = router(vertx, b, live);
    String scheme = config.tls().isPresent() ? "HTTPS" : "HTTP";
    HttpServer tcp;
    try {
      HttpServerOptions options = tcpOptions(config);
      if (config.tls().isPresent()) {
        checkKeyMatchesCertificate(vertx, options.getKeyCertOptions(), config.tls().get());
      }
      tcp = vertx.createHttpServer(options).requestHandler(router).listen().await();
    } catch (RuntimeException e) {
      vertx.close();
      throw new IllegalStateException(
          "cannot serve " + scheme + " on " + config.listenAddress() + ": " + e.getMessage(), e);
    }
    UnixSocketListener socket = null;
    if (config.unixSocket().isPresent()) {
      try {
        socket = UnixSocketListener.listen(vertx, router, config.unixSocket().get());
      } catch (RuntimeException e) {
        vertx.close();
        throw e;
      }
    }
    logger.info(
        "serving "
            + scheme
            + " on "
            + config.listenAddress()
            + (config.bearerToken().isPresent() ? " (bearer token required)" : "")
            + config.unixSocket().map(p -> " and on the Unix socket " + p).orElse(""));
    return new AgentHttpServer(vertx, tcp, socket, live);
  }

  private static HttpServerOptions tcpOptions(HttpConfig config) {
    HttpServerOptions options =
        new HttpServerOptions().setHost(config.host()).setPort(config.port());
    config
        .tls()
        .ifPresent(
            tls -> {
              options
                  .setSsl(true)
                  .setKeyCertOptions(
                      new PemKeyCertOptions()
                          .setCertPath(tls.certFile().toString())
                          .setKeyPath(tls.keyFile().toString()));
              tls.clientCaFile()
                  .ifPresent(
                      ca ->
                          options
                              .setTrustOptions(new PemTrustOptions().addCertPath(ca.toString()))
                              // REQUEST, not REQUIRED: the probes must pass without a certificate;
                              // a certificate that is shown must still verify, and the other
                              // endpoints check that one was (see Access).
                              .setClientAuth(ClientAuth.REQUEST));
            });
    return options;
  }

  /**
   * Nothing checks that the key belongs to the certificate before a client's handshake fails, and
   * then only the client knows: the agent would look healthy while nobody can connect. So a value
   * is signed with the key and verified with the certificate's public key, at start.
   */
  private static void checkKeyMatchesCertificate(
      Vertx vertx, KeyCertOptions pem, HttpConfig.Tls tls) {
    String files = "the key in " + tls.keyFile() + " and the certificate in " + tls.certFile();
    X509KeyManager keys;
    try {
      keys = (X509KeyManager) pem.getKeyManagerFactory(vertx).getKeyManagers()[0];
    } catch (Exception e) {
      throw new IllegalStateException("cannot read " + files + ": " + e.getMessage(), e);
    }
    for (String[] algorithms :
        List.of(new String[] {"RSA", "SHA256withRSA"}, new String[] {"EC", "SHA256withECDSA"})) {
      String[] aliases = keys.getServerAliases(algorithms[0], null);
      if (aliases == null) {
        continue;
      }
      for (String alias : aliases) {
        X509Certificate[] chain = keys.getCertificateChain(alias);
        try {
          byte[] probe = "gadget-exporter".getBytes(StandardCharsets.US_ASCII);
          Signature sign = Signature.getInstance(algorithms[1]);
          sign.initSign(keys.getPrivateKey(alias));
          sign.update(probe);
          byte[] signature = sign.sign();
          Signature verify = Signature.getInstance(algorithms[1]);
          verify.initVerify(chain[0].getPublicKey());
          verify.update(probe);
          if (verify.verify(signature)) {
            return;
          }
        } catch (GeneralSecurityException e) {
          // a key and a certificate of different algorithms: they do not match
        }
      }
    }
    throw new IllegalStateException(files + " do not belong together (or are neither RSA nor EC)");
  }

  private static Router router(Vertx vertx, Builder b, LiveEvents live) {
    Router router = Router.router(vertx);
    router.route().handler(new Access(b.config));
    router
        .get("/metrics")
        .blockingHandler(
            ctx -> {
              Telemetry.Scrape scrape = b.telemetry.scrape(ctx.request().getHeader("Accept"));
              ctx.response()
                  .putHeader("Content-Type", scrape.contentType())
                  .end(Buffer.buffer(scrape.body()));
            });
    router.get("/healthz").handler(ctx -> ctx.response().end("ok\n"));
    router
        .get("/readyz")
        .handler(
            ctx -> {
              Readiness r = b.readiness.get();
              json(
                  ctx,
                  r.ready() ? 200 : 503,
                  new JsonObject().put("ready", r.ready()).put("detail", r.detail()));
            });
    router
        .get("/api/v1/containers")
        .handler(
            ctx -> {
              if (b.containers == null) {
                json(
                    ctx,
                    404,
                    new JsonObject()
                        .put("error", "container discovery is off (containers.enabled: false)"));
                return;
              }
              ctx.response()
                  .putHeader("Content-Type", JSON)
                  .end(ContainersJson.list(b.containers).encodePrettily());
            });
    // Blocking: the lost and filtered counters are read from kernel maps.
    router
        .get("/api/v1/gadgets")
        .blockingHandler(
            ctx ->
                ctx.response()
                    .putHeader("Content-Type", JSON)
                    .end(GadgetsJson.list(b.instances.get(), live).encodePrettily()),
            false);
    router
        .get("/api/v1/gadgets/:name")
        .blockingHandler(
            ctx -> {
              String name = ctx.pathParam("name");
              Optional<GadgetInstance> instance = find(b.instances.get(), name);
              if (instance.isEmpty()) {
                json(ctx, 404, unknown(name, b.instances.get()));
                return;
              }
              ctx.response()
                  .putHeader("Content-Type", JSON)
                  .end(GadgetsJson.of(instance.get(), live).encodePrettily());
            },
            false);
    // The iterators run on a worker thread; a request that joins a run under way waits for it
    // without holding one.
    SnapshotRequests snapshots =
        new SnapshotRequests(
            task ->
                vertx.executeBlocking(
                    () -> {
                      task.run();
                      return null;
                    },
                    false));
    router
        .get("/api/v1/gadgets/:name/snapshot")
        .handler(
            ctx -> {
              Context context = ctx.vertx().getOrCreateContext();
              snapshots
                  .answer(
                      ctx.pathParam("name"), ctx.request().getParam("limit"), b.instances.get())
                  .thenAccept(
                      a ->
                          context.runOnContext(
                              v ->
                                  ctx.response()
                                      .setStatusCode(a.status())
                                      .putHeader("Content-Type", JSON)
                                      .end(a.body())));
            });
    router
        .get("/api/v1/events")
        .handler(
            ctx -> {
              List<String> names = ctx.queryParam("instance");
              Collection<GadgetInstance> instances = b.instances.get();
              if (names.isEmpty() || names.get(0).isBlank()) {
                json(
                    ctx,
                    400,
                    GadgetsJson.unknownInstance(
                        "name the instance to stream: /api/v1/events?instance=NAME", instances));
                return;
              }
              String name = names.get(0);
              if (find(instances, name).isEmpty()) {
                json(ctx, 404, unknown(name, instances));
                return;
              }
              live.stream(ctx.request(), ctx.vertx(), name);
            });
    return router;
  }

  private static Optional<GadgetInstance> find(Collection<GadgetInstance> instances, String name) {
    return instances.stream().filter(i -> i.name().equals(name)).findFirst();
  }

  private static JsonObject unknown(String name, Collection<GadgetInstance> instances) {
    return GadgetsJson.unknownInstance("no gadget instance named '" + name + "'", instances);
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", JSON).end(body.encode());
  }

  /**
   * The first handler of every request: lets it through, or answers 401. Open: the probes, and
   * everything on the Unix socket. Otherwise a client certificate (with {@code tls.client_ca_file})
   * and the bearer token (when one is set) are required.
   */
  private static final class Access implements io.vertx.core.Handler<RoutingContext> {
    private final byte[] tokenDigest; // null: no token asked
    private final boolean clientCertificates;

    Access(HttpConfig config) {
      this.tokenDigest = config.bearerToken().map(Access::sha256).orElse(null);
      this.clientCertificates = config.tls().flatMap(HttpConfig.Tls::clientCaFile).isPresent();
    }

    @Override
    public void handle(RoutingContext ctx) {
      HttpServerRequest request = ctx.request();
      // The normalized path is what the router matches, so "/x/../healthz" is open exactly when
      // it is routed to /healthz.
      String path = ctx.normalizedPath();
      boolean probe = path.equals("/healthz") || path.equals("/readyz");
      SocketAddress local = request.localAddress();
      if (probe || (local != null && local.isDomainSocket())) {
        ctx.next();
        return;
      }
      if (clientCertificates && !hasClientCertificate(request)) {
        json(ctx, 401, new JsonObject().put("error", "a client certificate is required"));
        return;
      }
      if (tokenDigest != null) {
        String presented = bearerToken(request.getHeader("Authorization"));
        if (presented == null) {
          unauthorized(ctx, "Bearer", "an 'Authorization: Bearer <token>' header is required");
          return;
        }
        // Digests of equal length, compared in constant time: neither the token's content nor
        // its length shows in the response time.
        if (!MessageDigest.isEqual(tokenDigest, sha256(presented))) {
          unauthorized(ctx, "Bearer error=\"invalid_token\"", "the bearer token is not valid");
          return;
        }
      }
      ctx.next();
    }

    private static boolean hasClientCertificate(HttpServerRequest request) {
      try {
        // Verified during the handshake against client_ca_file: present means trusted.
        return request.isSSL() && !request.connection().peerCertificates().isEmpty();
      } catch (SSLPeerUnverifiedException e) {
        return false;
      }
    }

    /** The token of {@code Bearer <token>}; the scheme is case-insensitive (RFC 7235). */
    private static String bearerToken(String header) {
      if (header == null
          || header.length() < 7
          || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return null;
      }
      String token = header.substring(7).strip();
      return token.isEmpty() ? null : token;
    }

    private static void unauthorized(RoutingContext ctx, String challenge, String message) {
      ctx.response().putHeader("WWW-Authenticate", challenge);
      json(ctx, 401, new JsonObject().put("error", message));
    }

    private static byte[] sha256(String s) {
      try {
        return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java has SHA-256", e);
      }
    }
  }

  /** The bound TCP port (useful when configured as 0). */
  public int port() {
    return tcp.actualPort();
  }

  /** The sink behind {@code /api/v1/events}, with its counters. */
  public LiveEvents liveEvents() {
    return live;
  }

  /**
   * Whether the agent is ready, with a per-instance detail.
   *
   * @param detail instance name to its state (or failure reason)
   */
  public record Readiness(boolean ready, Map<String, Object> detail) {}

  /** Ends the live streams, stops listening, removes the Unix socket. */
  @Override
  public void close() {
    live.close();
    try {
      tcp.close().await();
      if (socket != null) {
        socket.close();
      }
    } finally {
      vertx.close().await();
    }
  }
}
