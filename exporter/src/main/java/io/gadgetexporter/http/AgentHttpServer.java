package io.gadgetexporter.http;

import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.export.Telemetry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.function.Supplier;

/**
 * The agent's HTTP endpoints on one Vert.x server: {@code /metrics} (Prometheus scrape), {@code
 * /healthz} (the process is serving), {@code /readyz} (every gadget instance is attached) and
 * {@code /api/v1/containers} (the containers the agent knows).
 */
public final class AgentHttpServer implements AutoCloseable {
  private final Vertx vertx;
  private final HttpServer server;

  private AgentHttpServer(Vertx vertx, HttpServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  /**
   * Starts serving; blocks until listening.
   *
   * @param readiness says whether the agent is ready and why not
   * @throws IllegalStateException when the address cannot be bound (names it)
   */
  public static AgentHttpServer start(
      String host, int port, Telemetry telemetry, Supplier<Readiness> readiness) {
    return start(host, port, telemetry, readiness, null);
  }

  /**
   * As above, with {@code /api/v1/containers} listing the node's containers.
   *
   * @param containers null when container discovery is off (the endpoint then says so)
   */
  public static AgentHttpServer start(
      String host,
      int port,
      Telemetry telemetry,
      Supplier<Readiness> readiness,
      ContainerCollection containers) {
    Vertx vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    router
        .get("/metrics")
        .blockingHandler(
            ctx -> {
              Telemetry.Scrape scrape = telemetry.scrape(ctx.request().getHeader("Accept"));
              ctx.response()
                  .putHeader("Content-Type", scrape.contentType())
                  .end(Buffer.buffer(scrape.body()));
            });
    router.get("/healthz").handler(ctx -> ctx.response().end("ok\n"));
    router
        .get("/readyz")
        .handler(
            ctx -> {
              Readiness r = readiness.get();
              ctx.response()
                  .setStatusCode(r.ready() ? 200 : 503)
                  .putHeader("Content-Type", "application/json")
                  .end(new JsonObject().put("ready", r.ready()).put("detail", r.detail()).encode());
            });
    router
        .get("/api/v1/containers")
        .handler(
            ctx -> {
              if (containers == null) {
                ctx.response()
                    .setStatusCode(404)
                    .putHeader("Content-Type", "application/json")
                    .end(
                        new JsonObject()
                            .put("error", "container discovery is off (containers.enabled: false)")
                            .encode());
                return;
              }
              ctx.response()
                  .putHeader("Content-Type", "application/json")
                  .end(ContainersJson.list(containers).encodePrettily());
            });
    try {
      HttpServer server =
          vertx.createHttpServer().requestHandler(router).listen(port, host).await();
      return new AgentHttpServer(vertx, server);
    } catch (RuntimeException e) {
      vertx.close();
      throw new IllegalStateException(
          "cannot serve HTTP on " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  /** The bound port (useful when configured as 0). */
  public int port() {
    return server.actualPort();
  }

  /**
   * Whether the agent is ready, with a per-instance detail.
   *
   * @param detail instance name to its state (or failure reason)
   */
  public record Readiness(boolean ready, java.util.Map<String, Object> detail) {}

  @Override
  public void close() {
    server.close().await();
    vertx.close().await();
  }
}
